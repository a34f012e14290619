/**
 * `tinyedge deploy` of every real model with a golden case (the four MLPerf Tiny models among them) to the default
 * virtual STM32F405, through the in-process `board serve` board and the uart-bootloader method: outputs equal to
 * the golden TFLite-Micro outputs and bit-exact against the reference, exact and repeatable instruction counts,
 * per-layer times that add up. One firmware per model, flashed once; its cases run one after another on it. A model
 * too large for the real chip goes to qemu-cortex-m4 with the reason given.
 *
 * Models run one at a time (one QEMU, two cores). The file prints what it measured and how long it took.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { loadTarget } from '../../src/targets/index.js';
import { openBoard, prepareDeployment, runDeployment, type DeployEvent, type DeployOutcome } from '../../src/deploy/index.js';
import { caseInputs, goldenCases, sharedModel, SHARED_PRESENT, type GoldenCase } from './support/shared.js';

const started = Date.now();
const measured: { model: string; target: string; instructions: number; flash: number; ram: number; arena: number; seconds: number }[] = [];

afterAll(() => {
  if (measured.length === 0) return;
  const rows = measured.map(
    (m) =>
      `  ${m.model.padEnd(36)} ${m.target.padEnd(15)} ${m.instructions.toLocaleString('en-US').padStart(12)} instructions  ` +
      `flash ${m.flash.toLocaleString('en-US').padStart(8)}  RAM ${m.ram.toLocaleString('en-US').padStart(7)}  arena ${m.arena.toLocaleString('en-US').padStart(7)}  ${m.seconds.toFixed(1)} s`,
  );
  console.log(`deploy measurements (file total ${((Date.now() - started) / 1000).toFixed(1)} s):\n${rows.join('\n')}`);
});

/** Every model of cases.json with its cases, MLPerf Tiny first. */
function modelsWithCases(): { model: string; cases: GoldenCase[] }[] {
  const byModel = new Map<string, GoldenCase[]>();
  for (const golden of goldenCases()) byModel.set(golden.model, [...(byModel.get(golden.model) ?? []), golden]);
  return [...byModel.entries()]
    .map(([model, cases]) => ({ model, cases }))
    .sort((a, b) => Number(b.model.startsWith('mlperf-tiny/')) - Number(a.model.startsWith('mlperf-tiny/')));
}

/** What every deploy report must show, whatever the model. */
function expectSoundReport(outcome: DeployOutcome, layerCount: number): void {
  const { report } = outcome;
  expect(report.validation).toMatchObject({ against: 'reference', bitExact: true, mismatches: 0, maxAbsDiff: 0 });
  expect(report.latency.unit).toBe('instructions');
  // QEMU under -icount repeats every count exactly.
  expect(report.latency.min).toBe(report.latency.max);
  expect(report.latency.median).toBeGreaterThan(0);
  expect(report.layers).toHaveLength(layerCount);
  for (const layer of report.layers) expect(layer.time).toBeGreaterThanOrEqual(0);
  // The layers add up to the total but for the timing hooks' call overhead, about 30 instructions a layer: within
  // 1 % for any real model; hello_world (2.8 k instructions in all) is too small for that and gets the absolute bound.
  const layerSum = report.layers.reduce((sum, layer) => sum + layer.time, 0);
  const outside = report.latency.median - layerSum;
  expect(outside).toBe(report.latency.outsideLayers);
  expect(outside).toBeGreaterThanOrEqual(0);
  expect(outside).toBeLessThanOrEqual(40 * layerCount + 50);
  if (report.latency.median >= 100_000) expect(outside / report.latency.median).toBeLessThan(0.01);
  expect(report.memory.flashBytes).toBeLessThanOrEqual(report.memory.flashCapacity);
  expect(report.memory.ramBytes).toBeLessThanOrEqual(report.memory.ramCapacity);
}

describe.skipIf(!SHARED_PRESENT)('deploy to the virtual STM32F405 through its ROM bootloader', () => {
  const models = SHARED_PRESENT ? modelsWithCases() : [];

  test.each(models.map((m) => [m.model, m] as const))('%s: every golden case bit-exact, exact instruction counts', async (_, { model, cases }) => {
    const modelStarted = Date.now();
    const events: DeployEvent[] = [];
    const deployment = await prepareDeployment({ model: sharedModel(model), onEvent: (e) => events.push(e) });
    try {
      // These all fit the real chip's 1 MB flash and 128 KB SRAM (VWW and person_detect included).
      expect(deployment.target.name).toBe('qemu-stm32f405');
      expect(deployment.fallbackReason).toBeUndefined();
      const board = await openBoard(deployment.target, { onEvent: (e) => events.push(e) });
      try {
        let first: DeployOutcome | undefined;
        for (const golden of cases) {
          const outcome = await runDeployment(deployment, board, { inputs: caseInputs(deployment.model.graph, golden), runs: 2, warmups: 1 });
          expectSoundReport(outcome, deployment.model.graph.nodes.length);
          expect(outcome.report.outputs.map((o) => o.data), golden.name).toEqual(golden.expected.map((e) => e.data));
          first ??= outcome;
        }
        // Flashed once, over the bootloader, verified; then every case ran on that firmware.
        const flashes = events.filter((e) => e.type === 'flashed');
        expect(flashes).toHaveLength(1);
        expect(flashes[0]).toMatchObject({ result: { method: 'uart-bootloader', address: 0x0800_0000, verified: true } });
        const report = first!.report;
        measured.push({
          model,
          target: report.target.name,
          instructions: report.latency.median,
          flash: report.memory.flashBytes,
          ram: report.memory.ramBytes,
          arena: report.memory.arenaBytes,
          seconds: (Date.now() - modelStarted) / 1000,
        });
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });

  test('two deploys of the same model on fresh boards give identical instruction counts, per layer too', async () => {
    const deployment = await prepareDeployment({ model: sharedModel('mlperf-tiny/kws_ref_model.tflite') });
    try {
      const once = async () => {
        const board = await openBoard(deployment.target);
        try {
          return (await runDeployment(deployment, board, { runs: 1, warmups: 0 })).report;
        } finally {
          await board.close();
        }
      };
      const a = await once();
      const b = await once();
      expect(a.validation.bitExact).toBe(true);
      expect(b.latency.samples).toEqual(a.latency.samples);
      expect(b.layers.map((l) => l.time)).toEqual(a.layers.map((l) => l.time));
    } finally {
      await deployment.dispose();
    }
  });

  test('a model too large for the real chip goes to qemu-cortex-m4 (QEMU direct), with the reason', async () => {
    const modelStarted = Date.now();
    const events: DeployEvent[] = [];
    const model = 'tflite-uint8/mobilenet_v1_0.25_128_quant.tflite';
    const deployment = await prepareDeployment({ model: sharedModel(model), onEvent: (e) => events.push(e) });
    try {
      expect(deployment.target.name).toBe('qemu-cortex-m4');
      expect(deployment.fallbackReason).toMatch(
        /^the model does not fit qemu-stm32f405: RAM needs at least [\d.]+ KB \(arena 96 KB, input and output buffers [\d.]+ KB, stack 4 KB\) but RAM has 128 KB: running on the virtual qemu-cortex-m4 instead$/,
      );
      expect(events.find((e) => e.type === 'fallback')).toMatchObject({ target: { name: 'qemu-cortex-m4' } });
      // Refused by the plan: nothing was compiled for the STM32F405.
      expect(events.some((e) => e.type === 'build' && e.target === 'qemu-stm32f405')).toBe(false);
      const board = await openBoard(deployment.target);
      try {
        const outcome = await runDeployment(deployment, board, { runs: 1, warmups: 0 });
        expectSoundReport(outcome, deployment.model.graph.nodes.length);
        expect(outcome.report.target).toMatchObject({ name: 'qemu-cortex-m4', core: 'cortex-m4', emulated: true });
        expect(outcome.report.memory.ramBytes).toBeGreaterThan(128 * 1024);
        // uint8 model: outputs in its external dtype.
        expect(outcome.report.outputs[0]!.dtype).toBe('uint8');
        measured.push({
          model,
          target: 'qemu-cortex-m4',
          instructions: outcome.report.latency.median,
          flash: outcome.report.memory.flashBytes,
          ram: outcome.report.memory.ramBytes,
          arena: outcome.report.memory.arenaBytes,
          seconds: (Date.now() - modelStarted) / 1000,
        });
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
    expect(loadTarget('qemu-cortex-m4').emulated).toBe(true);
  });
});
