/**
 * One model of the bench through the deploy pipeline (src/deploy, nothing re-implemented): compile, build for the
 * virtual STM32F405 (or the larger virtual target a model too large for the real chip moves to), flash over the
 * ROM bootloader, then every real case on that one firmware: warm-up plus timed runs, outputs compared bit for bit
 * with the reference interpreter and with TFLite-Micro's golden outputs. Then the flash of the linked image split
 * by origin, read before the temporary build goes away.
 */
import path from 'node:path';
import { openBoard, prepareDeployment, runDeployment, type DeployEvent, type DeployOutcome } from '../deploy/index.js';
import type { LibraryPatch } from '../deploy/compile.js';
import { DEFAULT_SEED } from '../deploy/inputs.js';
import type { Graph, TensorData } from '../ir/types.js';
import type { LatencyUnit } from '../report/index.js';
import { caseInputs, goldenMismatches, type GoldenCase } from './cases.js';
import { flashUsage, layerCodeBytes, modelFunctions, weightsObjectOf, type FlashUsage, type FunctionSize } from './flash-usage.js';
import type { BenchModel } from './models.js';

/** Timed runs per case: under -icount every one must give the same count, which the bench checks. */
export const TIMED_RUNS = 3;
export const WARMUPS = 1;

export interface CaseMeasurement {
  /** The cases.json case, or 'random (seed N)'. */
  name: string;
  /** Whole-inference count of each timed run. */
  runs: number[];
  /** Against the reference interpreter (the deploy's own validation). */
  reference: { compared: number; mismatches: number; maxAbsDiff: number };
  /** Against TFLite-Micro's golden outputs in cases.json; absent for random inputs. */
  golden?: { compared: number; mismatches: number };
}

export interface LayerMeasurement {
  index: number;
  name: string;
  op: string;
  /** The generated kernel (te_conv2d_s8, te_fully_connected_s8_dsp, ...); null for a layer without code. */
  kernel: string | null;
  /** Bytes of the layer's own functions (functions shared with other layers are in memory.functions only). */
  codeBytes: number;
  macs: number;
  /** Median over the first case's timed runs. */
  instructions: number;
}

export interface ModelMeasurement {
  model: BenchModel;
  /** The model file as given to the deploy pipeline. */
  file: string;
  name: string;
  sha256: string;
  /** Of the model as imported (MLPerf convention): what instructions per MAC divide by. */
  macs: number;
  target: string;
  fallbackReason?: string;
  unit: LatencyUnit;
  /** Timer resolution in `unit` (1 on the STM32F405's TIM2 under -icount; 40 on the MPS2 CMSDK timer). */
  unitsPerTick: number;
  inputs: { kind: 'cases' } | { kind: 'random'; seed: number };
  cases: CaseMeasurement[];
  /** The device's layers (the optimized graph), timed on the first case. */
  layers: LayerMeasurement[];
  /** Median of total - sum of layers on the first case: the run function and the timing hooks. */
  outsideLayers: number;
  memory: {
    arenaBytes: number;
    /** The graph inputs' and outputs' buffers, beside the arena (the firmware's). */
    ioBytes: number;
    /** RAM of the linked image: data, bss (arena and I/O buffers included) and the stack. */
    ramBytes: number;
    stackBytes: number;
    flash: FlashUsage;
    /** The model library's functions and their bytes, largest first: code size per kernel. */
    functions: FunctionSize[];
    /** Code generation's own count of the constants (flash.weights is what the linker placed). */
    constantBytes: number;
  };
  /** Wall clock, not deterministic: code generation, firmware build, flashing, the runs. */
  wallMs: { compile: number; build: number; flash: number; run: number; total: number };
}

export interface MeasureOptions {
  modelsDir: string;
  cases: readonly GoldenCase[];
  /** Rewrites the generated library before it is built (fault-injection tests). */
  patchLibrary?: LibraryPatch;
  onEvent?: (event: DeployEvent) => void;
}

export async function measureModel(model: BenchModel, options: MeasureOptions): Promise<ModelMeasurement> {
  const started = Date.now();
  const wall = { compile: 0, build: 0, flash: 0, run: 0, total: 0 };
  const onEvent = (event: DeployEvent) => {
    if (event.type === 'compiled') wall.compile += event.ms;
    else if (event.type === 'built') wall.build += event.ms;
    else if (event.type === 'flashed') wall.flash += event.result.durationMs;
    else if (event.type === 'measured') wall.run += event.ms;
    options.onEvent?.(event);
  };

  const file = path.join(options.modelsDir, model.file);
  const deployment = await prepareDeployment({
    model: file,
    seed: DEFAULT_SEED,
    ...(options.patchLibrary ? { patchLibrary: options.patchLibrary } : {}),
    onEvent,
  });
  try {
    const { graph } = deployment.model;
    const runs: { name: string; golden?: GoldenCase; outcome: DeployOutcome }[] = [];
    const board = await openBoard(deployment.target, { onEvent });
    try {
      for (const { name, golden, inputs } of benchInputs(graph, options.cases, deployment.inputs)) {
        // No divergence search on a mismatch: it rebuilds tap firmwares for minutes; `tinyedge deploy` does it.
        const outcome = await runDeployment(deployment, board, { inputs, runs: TIMED_RUNS, warmups: WARMUPS, diagnose: false, onEvent });
        runs.push({ name, ...(golden ? { golden } : {}), outcome });
      }
    } finally {
      await board.close();
    }

    const first = runs[0]!.outcome;
    const { report } = first;
    const { compiled, build } = deployment;
    const flash = flashUsage(build.dir, weightsObjectOf(compiled.library.prefix), build.sizes.flashUsed);
    const functions = modelFunctions(build.dir);
    wall.total = Date.now() - started;
    return {
      model,
      file,
      name: graph.name,
      sha256: deployment.model.sha256,
      macs: deployment.model.cost.macs,
      target: deployment.target.name,
      ...(deployment.fallbackReason ? { fallbackReason: deployment.fallbackReason } : {}),
      unit: report.latency.unit,
      unitsPerTick: first.hello.unitsPerTick,
      inputs: options.cases.length > 0 ? { kind: 'cases' } : { kind: 'random', seed: DEFAULT_SEED },
      cases: runs.map(({ name, golden, outcome }) => ({
        name,
        runs: outcome.report.latency.samples,
        reference: { compared: outcome.validation.compared, mismatches: outcome.validation.mismatches, maxAbsDiff: outcome.validation.maxAbsDiff },
        ...(golden ? { golden: goldenMismatches(outcome.report.outputs, golden) } : {}),
      })),
      layers: report.layers.map((layer) => ({
        index: layer.index,
        name: layer.name,
        op: layer.op,
        kernel: compiled.library.layers[layer.index]?.kernel ?? null,
        codeBytes: layerCodeBytes(functions, compiled.library.layers[layer.index]?.function ?? null),
        macs: layer.macs,
        instructions: layer.time,
      })),
      outsideLayers: report.latency.outsideLayers,
      memory: {
        arenaBytes: compiled.library.plan.arenaBytes,
        ioBytes: [...compiled.inputBytes, ...compiled.outputBytes].reduce((a, b) => a + b, 0),
        ramBytes: build.sizes.ramUsed,
        stackBytes: build.sizes.stackBytes,
        flash,
        functions,
        constantBytes: compiled.library.constantBytes,
      },
      wallMs: wall,
    };
  } finally {
    await deployment.dispose();
  }
}

/** The real cases, each with its golden outputs; without any, the deployment's seeded random inputs. */
function benchInputs(graph: Graph, cases: readonly GoldenCase[], random: TensorData[]): { name: string; golden?: GoldenCase; inputs: TensorData[] }[] {
  if (cases.length === 0) return [{ name: `random (seed ${DEFAULT_SEED})`, inputs: random }];
  return cases.map((golden) => ({ name: golden.name, golden, inputs: caseInputs(graph, golden) }));
}
