/**
 * The bench machinery on one small real model (AD, the MLPerf Tiny autoencoder) through the real pipeline: code
 * generation, arm-none-eabi-gcc, the virtual STM32F405 flashed over its ROM bootloader, QEMU -icount. Once through
 * the API and once through the built `tinyedge bench --json` command: the document's shape, its ratios against the
 * figures of BASELINES.md (read from the document itself, not from baselines.ts), the flash split adding up, and
 * the same instruction counts from both runs. The full five-model bench is `npm run bench`, not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BARS, BASELINES } from '../../src/bench/baselines.js';
import { caseBitExact, slowestLayers } from '../../src/bench/document.js';
import { benchJson, BENCH_SCHEMA, formatBenchText, runBench, selectModels, type BenchDocument } from '../../src/bench/index.js';
import { UsageError } from '../../src/errors.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(REPO_ROOT, '../shared');
const SHARED_PRESENT = existsSync(path.join(SHARED, 'models'));
if (!SHARED_PRESENT) console.warn(`${SHARED} is absent: the bench test on the AD model is skipped`);

/** The side-by-side table of BASELINES.md, by the model file named in each row's label. */
function baselineTable(): Map<string, { instructions: number; perMac: number; macs: number; arena: number; code: number }> {
  const text = readFileSync(path.join(SHARED, 'docs/BASELINES.md'), 'utf8');
  const section = text.slice(text.indexOf('## The same emulated board, side by side'));
  const rows = new Map<string, { instructions: number; perMac: number; macs: number; arena: number; code: number }>();
  for (const line of section.split('\n')) {
    const match = /^\| [^|]*\((\w+)\) \|(.*)\|\s*$/.exec(line);
    if (!match) continue;
    const [instructions, perMac, macs, arena, code] = match[2]!.split('|').map((cell) => Number(cell.trim().replace(/,/g, '')));
    rows.set(match[1]!, { instructions: instructions!, perMac: perMac!, macs: macs!, arena: arena!, code: code! });
  }
  return rows;
}

function benchCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/tinyedge.js'), 'bench', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TINYEDGE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('baselines.ts holds the figures of BASELINES.md for the four MLPerf Tiny models', () => {
  if (!SHARED_PRESENT) return;
  const table = baselineTable();
  const files = { kws: 'kws_ref_model', vww: 'vww_96_int8', ic: 'resnet8_int8', ad: 'ad01_int8' } as const;
  for (const [id, file] of Object.entries(files)) {
    const row = table.get(file);
    expect(row, file).toBeDefined();
    expect(BASELINES[id as keyof typeof files]).toMatchObject({
      instructions: row!.instructions,
      instructionsPerMac: row!.perMac,
      macs: row!.macs,
      arenaUsedBytes: row!.arena,
      interpreterAndKernelsFlashBytes: row!.code,
    });
  }
  expect(BASELINES.person_detect).toBeUndefined();
});

test('model selection: the bench order, comma lists, unknown ids refused', () => {
  expect(selectModels(undefined).map((m) => m.id)).toEqual(['kws', 'vww', 'ic', 'ad', 'person_detect']);
  expect(selectModels(['hello_world']).map((m) => m.id)).toEqual(['hello_world']);
  expect(selectModels(['ad,kws']).map((m) => m.id)).toEqual(['kws', 'ad']);
  expect(() => selectModels(['ad', 'mnist'])).toThrow(UsageError);
  expect(() => selectModels(['ad', 'mnist'])).toThrow(/unknown model mnist/);
});

test('an unknown model on the command line is a usage error (exit 2), one line, before anything is built', () => {
  const unused = path.join(os.tmpdir(), `tinyedge-bench-unused-${process.pid}`);
  const result = benchCli(['--models', 'kws,nope', '--out', unused]);
  expect(result.code).toBe(2);
  expect(existsSync(unused)).toBe(false);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tinyedge: --models: unknown model nope \(known: kws, vww, ic, ad, person_detect, hello_world\)$/)]);
});

describe.skipIf(!SHARED_PRESENT)('bench of AD on the virtual STM32F405', () => {
  let api: BenchDocument;
  let cli: BenchDocument;
  let cliStdout = '';
  let cliStderr = '';
  let cliCode: number | null = null;
  let outDir = '';

  beforeAll(async () => {
    api = await runBench({ models: ['ad'], sharedDir: SHARED });
    outDir = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-bench-test-'));
    const result = benchCli(['--models', 'ad', '--json', '--out', outDir]);
    cliCode = result.code;
    cliStdout = result.stdout;
    cliStderr = result.stderr;
    cli = JSON.parse(result.stdout) as BenchDocument;
  }, 120_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  test('the command succeeds, prints the document with --json and writes the same to DIR/bench.json', () => {
    expect(cliCode, cliStderr).toBe(0);
    expect(readFileSync(path.join(outDir, 'bench.json'), 'utf8')).toBe(cliStdout);
    // Progress per model on stderr: the model, the build, the flash, the run.
    expect(cliStderr).toMatch(/\[1\/1\] ad: mlperf-tiny\/ad01_int8\.tflite, cases mlperf_ad_dcase01_window0, mlperf_ad_dcase01_window1/);
    expect(cliStderr).toMatch(/^build .*qemu-stm32f405: text/m);
    expect(cliStderr).toMatch(/^flash .*uart-bootloader/m);
    expect(cliStderr).toMatch(/^run .* instructions per inference/m);
  });

  test('the document: one model, measured on its real cases, bit-exact against the reference and the golden outputs', () => {
    expect(api.schema).toBe(BENCH_SCHEMA);
    expect(JSON.parse(benchJson(api))).toEqual(api);
    expect(api.bars).toEqual({ instructions: 0.6, arena: 0.7, code: 0.5 });
    expect(api.models).toHaveLength(1);
    const [ad] = api.models;
    expect(ad).toMatchObject({ id: 'ad', file: 'mlperf-tiny/ad01_int8.tflite', name: 'ad01_int8', target: 'qemu-stm32f405', macs: 264_192 });
    expect(ad!.fallbackReason).toBeUndefined();
    expect(ad!.inputs).toEqual({ kind: 'cases', cases: ['mlperf_ad_dcase01_window0', 'mlperf_ad_dcase01_window1'] });
    for (const c of ad!.validation.cases) {
      expect(c.reference).toEqual({ compared: 640, mismatches: 0, maxAbsDiff: 0 });
      expect(c.golden).toEqual({ compared: 640, mismatches: 0 });
      expect(caseBitExact(c)).toBe(true);
      // Any one golden value off makes the case (and the bench) fail.
      expect(caseBitExact({ ...c, golden: { compared: 640, mismatches: 1 } })).toBe(false);
    }
    expect(ad!.validation.bitExact).toBe(true);
    expect(api.summary).toMatchObject({ models: 1, bitExact: true });
  });

  test('instructions: exact and repeatable, per MAC of the model, layers adding up to the whole', () => {
    const { instructions, layers, macs } = api.models[0]!;
    expect(instructions.unit).toBe('instructions');
    expect(instructions.resolution).toBe(1);
    expect(instructions.repeatable).toBe(true);
    expect(instructions.perInference).toBe(api.models[0]!.validation.cases[0]!.runs[0]);
    expect(instructions.perMac).toBe(instructions.perInference / macs);
    expect(layers).toHaveLength(10);
    expect(api.models[0]!.kernels.layers).toBe(10);
    expect(api.models[0]!.kernels.dsp).toBe(layers.filter((l) => l.kernel!.endsWith('_dsp')).length);
    expect(layers.every((l) => l.op === 'FullyConnected' && l.kernel !== null && l.instructions > 0)).toBe(true);
    expect(layers.reduce((sum, l) => sum + l.instructions, 0) + instructions.outsideLayers).toBe(instructions.perInference);
    expect(layers.reduce((sum, l) => sum + l.macs, 0)).toBe(macs);
    for (const l of layers) expect(l.perMac).toBe(l.instructions / l.macs);
    const slowest = slowestLayers(api.models[0]!, 5);
    expect(slowest.map((l) => l.instructions)).toEqual([...layers.map((l) => l.instructions)].sort((a, b) => b - a).slice(0, 5));
  });

  test('memory: the flash split adds up; code is flash - weights - vectors; weights are what code generation counted', () => {
    const { memory } = api.models[0]!;
    const parts = memory.flash;
    expect(parts.weights + parts.modelCode + parts.harness + parts.cRuntime + parts.vectors + parts.padding).toBe(memory.flashBytes);
    expect(memory.weightsBytes).toBe(parts.weights);
    expect(memory.weightsBytes).toBe(memory.constantBytes);
    expect(memory.codeBytes).toBe(memory.flashBytes - memory.weightsBytes - parts.vectors);
    for (const part of [parts.modelCode, parts.harness, parts.vectors]) expect(part).toBeGreaterThan(0);
    // The harness takes nothing from the C library; the model library may (memcpy).
    expect(parts.cRuntime).toBeGreaterThanOrEqual(0);
    // Alignment fill only: the map accounts for everything else.
    expect(parts.padding).toBeGreaterThanOrEqual(0);
    expect(parts.padding).toBeLessThan(512);
    expect(memory.arenaWithIoBytes).toBe(memory.arenaBytes + memory.ioBytes);
    // 640 int8 values in, 640 out.
    expect(memory.ioBytes).toBe(1280);
    expect(memory.ramBytes).toBeGreaterThan(memory.arenaWithIoBytes + memory.stackBytes);
    // Code per kernel: the model's functions are part of its code, each layer's own ones among them.
    const functionBytes = memory.functions.reduce((sum, f) => sum + f.bytes, 0);
    expect(functionBytes).toBeGreaterThan(0);
    expect(functionBytes).toBeLessThanOrEqual(parts.modelCode);
    expect(memory.functions.some((f) => f.function.endsWith('_run'))).toBe(true);
    const layers = api.models[0]!.layers;
    // The ten layers share one fully connected function; their own wrappers are inlined into the run function.
    expect(memory.functions.filter((f) => f.function.startsWith('te_fc_s8_dsp'))).toHaveLength(1);
    expect(layers.reduce((sum, l) => sum + l.codeBytes, 0)).toBeLessThanOrEqual(functionBytes);
  });

  test('ratios against the figures of BASELINES.md, each judged against its bar', () => {
    const ad = api.models[0]!;
    const theirs = baselineTable().get('ad01_int8')!;
    expect(ad.comparison).not.toBeNull();
    const { instructions, arena, code } = ad.comparison!;
    expect(instructions).toEqual({
      ours: ad.instructions.perInference,
      theirs: theirs.instructions,
      ratio: ad.instructions.perInference / theirs.instructions,
      bar: BARS.instructions,
      met: ad.instructions.perInference / theirs.instructions <= 0.6,
    });
    expect(arena).toEqual({ ours: ad.memory.arenaWithIoBytes, theirs: theirs.arena, ratio: ad.memory.arenaWithIoBytes / theirs.arena, bar: 0.7, met: ad.memory.arenaWithIoBytes / theirs.arena <= 0.7 });
    expect(code).toEqual({ ours: ad.memory.codeBytes, theirs: theirs.code, ratio: ad.memory.codeBytes / theirs.code, bar: 0.5, met: ad.memory.codeBytes / theirs.code <= 0.5 });
    const verdicts = [instructions, arena, code];
    expect(api.summary.barsMet + api.summary.barsMissed).toBe(3);
    expect(api.summary.barsMet).toBe(verdicts.filter((c) => c.met).length);
  });

  test('deterministic: a second bench (the command) gives the same instruction counts, every case and layer', () => {
    const counts = (document: BenchDocument) => {
      const model = document.models[0]!;
      return { cases: model.validation.cases.map((c) => [c.name, c.runs]), layers: model.layers.map((l) => l.instructions), outside: model.instructions.outsideLayers };
    };
    expect(counts(cli)).toEqual(counts(api));
    const sizes = (document: BenchDocument) => ({ ...document.models[0]!.memory });
    expect(sizes(cli)).toEqual(sizes(api));
  });

  test('the table: the measured row, the comparison with verdicts, the slowest layers', () => {
    const text = formatBenchText(api);
    const ad = api.models[0]!;
    const perInference = ad.instructions.perInference.toLocaleString('en-US');
    expect(text).toMatch(new RegExp(`^  ad +qemu-stm32f405 +(portable|dsp \\d+/10) +${perInference} +${ad.instructions.perMac.toFixed(2)} `, 'm'));
    const c = ad.comparison!;
    const verdict = (met: boolean) => (met ? 'met' : 'missed');
    expect(text).toMatch(
      new RegExp(
        `^  ad +${perInference} +582,826 +${c.instructions.ratio.toFixed(2)}x +${verdict(c.instructions.met)} +[\\d,]+ +2,580 +${c.arena.ratio.toFixed(2)}x +${verdict(c.arena.met)} +[\\d,]+ +28,776 +${c.code.ratio.toFixed(2)}x +${verdict(c.code.met)}$`,
        'm',
      ),
    );
    expect(text).toContain('ad (ad01_int8): the 5 slowest of 10 layers');
    expect(text).toContain('all 2 cases bit-exact');
  });
});

describe.skipIf(!SHARED_PRESENT)('a bench whose device outputs differ', () => {
  test('hello_world with a wrong constant in its generated library: recorded as not bit-exact, named in the table', async () => {
    let patched = false;
    // Every value of the first int32 array of the weights (a bias or a multiplier) off by 20000: the kind of mistake a
    // kernel's parameters can make, injected where it would come from.
    const wrongConstants = (files: Map<string, string>) => {
      for (const [name, source] of files) {
        if (!name.endsWith('_weights.c')) continue;
        const edited = source.replace(/(const int32_t \w+\[\d+\] = \{)([^}]*)\}/, (_, head: string, values: string) => {
          patched = true;
          return `${head}${values.replace(/-?\d+/g, (v) => String(Number(v) + 20000))}}`;
        });
        files.set(name, edited);
      }
      return files;
    };
    const document = await runBench({ models: ['hello_world'], sharedDir: SHARED, patchLibrary: wrongConstants });
    expect(patched).toBe(true);
    const [model] = document.models;
    expect(model!.comparison).toBeNull();
    expect(model!.validation.cases).toHaveLength(4);
    expect(document.summary.bitExact).toBe(false);
    expect(model!.validation.bitExact).toBe(false);
    const failing = model!.validation.cases.filter((c) => !caseBitExact(c));
    expect(failing.length).toBeGreaterThan(0);
    // The device agrees with neither the reference nor TFLite-Micro's golden outputs.
    for (const c of failing) expect([c.reference.mismatches, c.golden!.mismatches]).toEqual([1, 1]);
    const text = formatBenchText(document);
    expect(text).toMatch(/^  hello_world .* MISMATCH$/m);
    expect(text).toContain('no TFLite-Micro figure for hello_world');
    expect(text).toMatch(new RegExp(`^  hello_world case ${failing[0]!.name}: 1 of 1 values differ from the reference \\(max \\|difference\\| \\d+\\), 1 of 1 differ from the golden outputs$`, 'm'));
  }, 60_000);
});
