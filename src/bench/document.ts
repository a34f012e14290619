/**
 * The bench's result document (schema tinyedge.bench/1, written to DIR/bench.json): per model what was measured and,
 * beside it, TFLite-Micro + CMSIS-NN's figures on the same emulated board with the ratio ours / theirs and issue 7's
 * bar for each. Pure: the same measurements give the same document.
 *
 * What is compared with what (the definitions are also written into the document):
 * - instructions: one inference, exact guest instructions (TIM2 under QEMU -icount shift=0), counted around
 *   tinyedge_P_run() with the per-layer timing hooks in place: their 30 or so instructions a layer are included,
 *   a small handicap against TFLite-Micro's count between markers around Invoke().
 * - arena: ours is the arena plus the input and output buffers, because TFLite-Micro's arena_used_bytes holds its
 *   input and output tensors; the arena alone is reported too.
 * - code: flash - weights - vector table, the harness and the C library included, as BASELINES.md counts
 *   TFLite-Micro's "interpreter + kernels" (text + data - model - vectors).
 * Instruction counts are deterministic for a commit; wall times (compile, build, flash, run) are not.
 */
import { median } from '../report/index.js';
import { BARS, BASELINE_SOURCE, BASELINES, type BarName, type Baseline } from './baselines.js';
import type { FlashUsage, FunctionSize } from './flash-usage.js';
import type { CaseMeasurement, ModelMeasurement } from './measure.js';
import type { BenchModelId } from './models.js';

export const BENCH_SCHEMA = 'tinyedge.bench/1';

export interface Comparison {
  ours: number;
  theirs: number;
  /** ours / theirs. */
  ratio: number;
  /** The bar ratio must not exceed. */
  bar: number;
  met: boolean;
}

export interface BenchLayer {
  index: number;
  name: string;
  op: string;
  kernel: string | null;
  /** Bytes of the layer's own functions; those it shares with other layers are listed in memory.functions. */
  codeBytes: number;
  macs: number;
  instructions: number;
  /** instructions / MACs; null for a layer without MACs. */
  perMac: number | null;
  /** Of the whole inference. */
  share: number;
}

export interface BenchModelResult {
  id: BenchModelId;
  title: string;
  /** Relative to the shared models folder (the same on every machine). */
  file: string;
  name: string;
  sha256: string;
  target: string;
  /** Why the model runs on another target than the virtual STM32F405. */
  fallbackReason?: string;
  /** Layers with code, and how many of them run a DSP-extension kernel (the rest portable C). */
  kernels: { layers: number; dsp: number };
  inputs: { kind: 'cases'; cases: string[] } | { kind: 'random'; seed: number };
  validation: {
    /** Every case equal to the reference interpreter and (where the case has them) to the golden outputs. */
    bitExact: boolean;
    cases: CaseMeasurement[];
  };
  macs: number;
  instructions: {
    unit: ModelMeasurement['unit'];
    /** Timer resolution in `unit`. */
    resolution: number;
    /** The first case's median. */
    perInference: number;
    perMac: number;
    /** Every timed run of every case gave its case the same count. */
    repeatable: boolean;
    /** The run function and the timing hooks around the layers. */
    outsideLayers: number;
  };
  memory: {
    arenaBytes: number;
    ioBytes: number;
    /** arenaBytes + ioBytes: what TFLite-Micro's arena_used_bytes covers. */
    arenaWithIoBytes: number;
    ramBytes: number;
    stackBytes: number;
    flashBytes: number;
    weightsBytes: number;
    /** flash - weights - vectors. */
    codeBytes: number;
    flash: Omit<FlashUsage, 'total'>;
    /** The model library's functions, largest first (shared kernel functions appear once). */
    functions: FunctionSize[];
    constantBytes: number;
  };
  /** Code generation wall time in ms: not deterministic. */
  compileMs: number;
  wallMs: ModelMeasurement['wallMs'];
  layers: BenchLayer[];
  baseline: Baseline | null;
  comparison: Record<BarName, Comparison> | null;
}

export interface BenchDocument {
  schema: typeof BENCH_SCHEMA;
  tool: { version: string; commit?: string; date: string };
  baseline: typeof BASELINE_SOURCE;
  bars: typeof BARS;
  definitions: Record<string, string>;
  models: BenchModelResult[];
  summary: {
    models: number;
    bitExact: boolean;
    /** Bars met and missed over the models with a baseline. */
    barsMet: number;
    barsMissed: number;
    /** Wall time of the whole bench in ms: not deterministic. */
    wallMs: number;
  };
}

export const DEFINITIONS: Record<string, string> = {
  instructions:
    'exact guest instructions per inference (TIM2 under QEMU -icount shift=0), around tinyedge_P_run() with the per-layer timing hooks in place; TFLite-Micro counted around Invoke()',
  perMac: 'instructions / the model MACs (MLPerf convention: convolutions, depthwise convolutions, fully connected)',
  arena: 'ours = arena + input and output buffers (TFLite-Micro keeps its inputs and outputs in its arena_used_bytes)',
  code: 'flash - weights - vector table, harness and C library included, as BASELINES.md counts TFLite-Micro (text + data - model - vectors)',
  ratio: 'ours / theirs; met when ratio <= bar',
  wallMs: 'wall-clock milliseconds (compile = code generation): not deterministic, unlike the instruction counts',
};

export function modelResult(measured: ModelMeasurement): BenchModelResult {
  const firstCase = measured.cases[0]!;
  const perInference = median(firstCase.runs);
  const { memory } = measured;
  const arenaWithIoBytes = memory.arenaBytes + memory.ioBytes;
  const codeBytes = memory.flash.total - memory.flash.weights - memory.flash.vectors;
  const { total: flashBytes, ...flash } = memory.flash;
  const baseline = BASELINES[measured.model.id] ?? null;
  return {
    id: measured.model.id,
    title: measured.model.title,
    file: measured.model.file,
    name: measured.name,
    sha256: measured.sha256,
    target: measured.target,
    ...(measured.fallbackReason ? { fallbackReason: measured.fallbackReason } : {}),
    kernels: {
      layers: measured.layers.filter((l) => l.kernel !== null).length,
      // DSP-extension kernels are named te_*_dsp (src/codegen/lower/dsp/).
      dsp: measured.layers.filter((l) => l.kernel?.endsWith('_dsp')).length,
    },
    inputs: measured.inputs.kind === 'cases' ? { kind: 'cases', cases: measured.cases.map((c) => c.name) } : measured.inputs,
    validation: { bitExact: measured.cases.every(caseBitExact), cases: measured.cases },
    macs: measured.macs,
    instructions: {
      unit: measured.unit,
      resolution: measured.unitsPerTick,
      perInference,
      perMac: perInference / measured.macs,
      repeatable: measured.cases.every((c) => c.runs.every((r) => r === c.runs[0])),
      outsideLayers: measured.outsideLayers,
    },
    memory: {
      arenaBytes: memory.arenaBytes,
      ioBytes: memory.ioBytes,
      arenaWithIoBytes,
      ramBytes: memory.ramBytes,
      stackBytes: memory.stackBytes,
      flashBytes,
      weightsBytes: memory.flash.weights,
      codeBytes,
      flash,
      functions: memory.functions,
      constantBytes: memory.constantBytes,
    },
    compileMs: measured.wallMs.compile,
    wallMs: measured.wallMs,
    layers: measured.layers.map((layer) => ({
      ...layer,
      perMac: layer.macs > 0 ? layer.instructions / layer.macs : null,
      share: perInference > 0 ? layer.instructions / perInference : 0,
    })),
    baseline,
    comparison: baseline
      ? {
          instructions: compare(perInference, baseline.instructions, BARS.instructions),
          arena: compare(arenaWithIoBytes, baseline.arenaUsedBytes, BARS.arena),
          code: compare(codeBytes, baseline.interpreterAndKernelsFlashBytes, BARS.code),
        }
      : null,
  };
}

export function benchDocument(models: BenchModelResult[], tool: BenchDocument['tool'], wallMs: number): BenchDocument {
  const comparisons = models.flatMap((m) => (m.comparison ? Object.values(m.comparison) : []));
  return {
    schema: BENCH_SCHEMA,
    tool,
    baseline: BASELINE_SOURCE,
    bars: BARS,
    definitions: DEFINITIONS,
    models,
    summary: {
      models: models.length,
      bitExact: models.every((m) => m.validation.bitExact),
      barsMet: comparisons.filter((c) => c.met).length,
      barsMissed: comparisons.filter((c) => !c.met).length,
      wallMs,
    },
  };
}

export function compare(ours: number, theirs: number, bar: number): Comparison {
  const ratio = ours / theirs;
  return { ours, theirs, ratio, bar, met: ratio <= bar };
}

export function caseBitExact(c: CaseMeasurement): boolean {
  return c.reference.mismatches === 0 && (c.golden === undefined || c.golden.mismatches === 0);
}

/** The n layers with the most instructions, slowest first (execution order among equals). */
export function slowestLayers(model: BenchModelResult, n: number): BenchLayer[] {
  return [...model.layers].sort((a, b) => b.instructions - a.instructions || a.index - b.index).slice(0, n);
}

export function benchJson(document: BenchDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
