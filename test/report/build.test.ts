import { describe, expect, test } from 'vitest';
import { buildReport, median, parseReport, reportJson, type DeployResult } from '../../src/report/index.js';
import { KWS_LAYERS, KWS_MACS, KWS_OUTSIDE, KWS_TOTAL, kwsResult } from './support/kws-result.js';

describe('median', () => {
  test('odd counts take the middle value, even counts the mean of the two middle values, order does not matter', () => {
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([1200, 1000, 5000, 1100])).toBe(1150);
    expect(() => median([])).toThrow();
  });
});

describe('buildReport on an emulated KWS deployment', () => {
  const report = buildReport(kwsResult());

  test('names the schema, the model, the target and the tool', () => {
    expect(report.schema).toBe('tinyedge.deploy/1');
    expect(report.model).toEqual({
      path: 'models/kws_ref_model.tflite',
      name: 'kws_ref_model',
      sha256: kwsResult().model.sha256,
      macs: KWS_MACS,
      paramBytes: 24_368,
    });
    expect(report.target).toEqual({ name: 'qemu-stm32f405', core: 'cortex-m4', clockHz: 168_000_000, emulated: true });
    expect(report.tool).toEqual({ version: '0.1.0', commit: '7c58067', date: '2026-12-01T10:00:00.000Z' });
  });

  test('latency: totals, per MAC, and milliseconds as an estimate at the target clock, not the reset clock', () => {
    const l = report.latency;
    expect(l.unit).toBe('instructions');
    expect([l.runs, l.warmups]).toEqual([3, 1]);
    expect([l.min, l.median, l.max]).toEqual([KWS_TOTAL, KWS_TOTAL, KWS_TOTAL]);
    expect(l.samples).toEqual([KWS_TOTAL, KWS_TOTAL, KWS_TOTAL]);
    expect(l.perMac).toBeCloseTo(KWS_TOTAL / KWS_MACS, 12);
    expect(l.perMac).toBeCloseTo(2.9, 2);
    expect(l.outsideLayers).toBe(KWS_OUTSIDE);
    // QEMU runs the core at its 16 MHz reset clock; the estimate is for the 168 MHz the target is built for.
    expect(l.msClockHz).toBe(168_000_000);
    expect(l.msBasis).toBe('instructions-at-1-per-cycle');
    expect(l.ms).toBeCloseTo((KWS_TOTAL / 168e6) * 1e3, 9);
  });

  test('layers in execution order with their medians, shares of the whole inference and time per MAC', () => {
    expect(report.layers.map((l) => l.index)).toEqual([...KWS_LAYERS.keys()]);
    expect(report.layers.map((l) => l.name)).toEqual(KWS_LAYERS.map((l) => l.name));
    const first = report.layers[0]!;
    expect(first).toMatchObject({ op: 'Conv2D', macs: 320_000, time: 1_120_400 });
    expect(first.share).toBeCloseTo(1_120_400 / KWS_TOTAL, 12);
    expect(first.perMac).toBeCloseTo(3.50125, 12);
    const depthwise = report.layers[1]!;
    expect(depthwise.perMac).toBeCloseTo(561_001 / 72_000, 12);
    // No MACs, no time per MAC (not Infinity, not NaN: JSON cannot hold those).
    for (const op of ['AveragePool2D', 'Reshape', 'Softmax']) expect(report.layers.find((l) => l.op === op)!.perMac).toBeNull();
    const shares = report.layers.reduce((sum, l) => sum + l.share, 0) + report.latency.outsideLayers / report.latency.median;
    expect(shares).toBeCloseTo(1, 12);
  });

  test('memory: flash splits into code and weights, RAM into arena, stack and the rest', () => {
    expect(report.memory).toEqual({
      flashBytes: 61_952,
      ramBytes: 37_136,
      arenaBytes: 16_000,
      stackBytes: 4096,
      weightsBytes: 25_392,
      codeBytes: 61_952 - 25_392,
      otherRamBytes: 37_136 - 16_000 - 4096,
      text: 61_840,
      data: 112,
      bss: 37_024,
      flashCapacity: 1024 * 1024,
      ramCapacity: 128 * 1024,
    });
  });

  test('validation: identical outputs are bit-exact, and the device outputs are kept as plain numbers', () => {
    expect(report.validation).toEqual({ against: 'reference', bitExact: true, compared: 12, mismatches: 0, maxAbsDiff: 0 });
    expect(report.outputs).toEqual([
      { name: 'Identity', dtype: 'int8', shape: [1, 12], data: [-128, -128, -127, -128, 120, -128, -126, -128, -128, -100, -128, -128] },
    ]);
  });

  test('the JSON document round-trips unchanged and passes the loader', () => {
    const text = reportJson(report);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(report);
    expect(parseReport(text, 'kws.json')).toEqual(report);
  });
});

describe('buildReport on a board with a cycle counter', () => {
  const layers = [
    { name: 'conv', op: 'Conv2D', macs: 1000 },
    { name: 'fc', op: 'FullyConnected', macs: 0 },
  ];
  const result: DeployResult = {
    ...kwsResult(),
    layers,
    model: { ...kwsResult().model, macs: 1000 },
    target: { name: 'nucleo-l4r5zi', core: 'cortex-m4', clockHz: 120_000_000, emulated: false, deviceClockHz: 80_000_000 },
    timing: {
      unit: 'cycles',
      warmups: 2,
      runs: [
        { total: 1000, layers: [700, 250] },
        { total: 1200, layers: [900, 260] },
        { total: 5000, layers: [4800, 100] },
        { total: 1100, layers: [800, 240] },
      ],
    },
  };
  const report = buildReport(result);

  test('median, min and max over runs that vary (an interrupt, a cache miss)', () => {
    expect([report.latency.min, report.latency.median, report.latency.max]).toEqual([1000, 1150, 5000]);
    expect(report.latency.samples).toEqual([1000, 1200, 5000, 1100]);
    // Per run outside the layers: 50, 40, 100, 60.
    expect(report.latency.outsideLayers).toBe(55);
  });

  test('each layer takes its own median over the runs', () => {
    expect(report.layers.map((l) => l.time)).toEqual([850, 245]);
    expect(report.layers[0]!.share).toBeCloseTo(850 / 1150, 12);
    expect(report.layers[0]!.perMac).toBeCloseTo(0.85, 12);
  });

  test('measured cycles convert to milliseconds at the clock the core actually ran', () => {
    expect(report.latency.msBasis).toBe('cycles');
    expect(report.latency.msClockHz).toBe(80_000_000);
    expect(report.latency.ms).toBeCloseTo((1150 / 80e6) * 1e3, 12);
  });
});

describe('buildReport validation', () => {
  test('counts differing values over all outputs, with the largest difference, and keeps the diverging layer', () => {
    const device = Uint8Array.from([0, 10, 20, 255]);
    const reference = Uint8Array.from([0, 12, 20, 250]);
    const report = buildReport(
      kwsResult({
        outputs: [
          { name: 'scores', dtype: 'uint8', shape: [4], device, reference },
          { name: 'same', dtype: 'int8', shape: [2], device: Int8Array.from([1, -1]), reference: Int8Array.from([1, -1]) },
        ],
        firstDivergingLayer: 'functional_1/dense/BiasAdd',
      }),
    );
    expect(report.validation).toEqual({
      against: 'reference',
      bitExact: false,
      compared: 6,
      mismatches: 2,
      maxAbsDiff: 5,
      firstDivergingLayer: 'functional_1/dense/BiasAdd',
    });
  });

  test('float outputs: NaN on both sides agrees, NaN on one side differs; NaN is written as null', () => {
    const report = buildReport(
      kwsResult({
        outputs: [
          { name: 'f', dtype: 'float32', shape: [3], device: Float32Array.from([0.5, NaN, NaN]), reference: Float32Array.from([0.25, NaN, 1]) },
        ],
      }),
    );
    expect(report.validation.mismatches).toBe(2);
    expect(report.validation.maxAbsDiff).toBe(Number.MAX_VALUE);
    expect(report.outputs[0]!.data).toEqual([0.5, null, null]);
    expect(JSON.parse(reportJson(report)).validation.maxAbsDiff).toBe(Number.MAX_VALUE);
  });
});

describe('buildReport refuses results that do not hang together', () => {
  test('no timed runs', () => {
    expect(() => buildReport(kwsResult({ timing: { unit: 'instructions', warmups: 0, runs: [] } }))).toThrow(/no timed runs/);
  });

  test('a run with a different number of layer times than layers', () => {
    const timing = { unit: 'instructions' as const, warmups: 0, runs: [{ total: 10, layers: [1, 2] }] };
    expect(() => buildReport(kwsResult({ timing }))).toThrow(/2 layer times for 13 layers/);
  });

  test('device and reference outputs of different lengths', () => {
    const outputs = [{ name: 'o', dtype: 'int8' as const, shape: [2], device: new Int8Array(2), reference: new Int8Array(3) }];
    expect(() => buildReport(kwsResult({ outputs }))).toThrow(/output 'o'/);
  });
});
