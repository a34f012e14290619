/** The numbers of post-training quantization: ranges, activation / weight / bias parameters, comparison metrics. */
import { describe, expect, it } from 'vitest';
import { compareOutputs, cosineSimilarity } from '../../src/quantize/metrics.js';
import { activationParams, quantizeBias, quantizeConstant, quantizeWeights } from '../../src/quantize/quant-params.js';
import { HistogramObserver, MinMaxObserver } from '../../src/quantize/range-observer.js';

describe('activation parameters (asymmetric int8)', () => {
  it('cover the range, and real 0 is exactly a quantized value', () => {
    const { scale, zeroPoint } = activationParams({ min: -1, max: 3 });
    expect(scale).toBe(Math.fround(4 / 255));
    expect(zeroPoint).toBe(-64);
    expect(Math.abs((-128 - zeroPoint) * scale - -1)).toBeLessThanOrEqual(scale / 2);
    expect(Math.abs((127 - zeroPoint) * scale - 3)).toBeLessThanOrEqual(scale / 2);
  });

  it('widen a range that excludes 0 to include it (Relu outputs get zero point -128)', () => {
    expect(activationParams({ min: 0.5, max: 2 })).toEqual({ scale: Math.fround(2 / 255), zeroPoint: -128 });
    expect(activationParams({ min: 0, max: 6 }).zeroPoint).toBe(-128);
    expect(activationParams({ min: -3, max: -1 })).toEqual({ scale: Math.fround(3 / 255), zeroPoint: 127 });
  });

  it('give a tensor that is 0 everywhere a valid scale', () => {
    const { scale, zeroPoint } = activationParams({ min: 0, max: 0 });
    expect(scale).toBeGreaterThan(0);
    expect(zeroPoint).toBe(-128);
  });
});

describe('weights (symmetric int8 in [-127, 127]) and bias (int32, scale S_in x S_w)', () => {
  const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0]);

  it('per output channel along axis 0: each channel its own scale; an all-zero channel stays 0', () => {
    const { weights } = quantizeWeights(w, [2, 3], 0);
    expect(weights.axis).toBe(0);
    expect(weights.scales).toEqual([Math.fround(1 / 127), 1]);
    expect(Array.from(weights.data)).toEqual([64, -127, 32, 0, 0, 0]);
  });

  it('per column along axis 1 of a [K, N] MatMul weight', () => {
    const { weights } = quantizeWeights(Float32Array.from([1, -2, 4, -0.5, 1, 2]), [2, 3], 1);
    expect(weights.scales).toEqual([1 / 127, 2 / 127, 4 / 127].map(Math.fround));
    expect(Array.from(weights.data)).toEqual([127, -127, 127, -64, 64, 64]);
  });

  it('per tensor: one scale from the largest magnitude', () => {
    const { weights } = quantizeWeights(w, [2, 3], undefined);
    expect(weights.axis).toBeUndefined();
    expect(weights.scales).toEqual([Math.fround(1 / 127)]);
  });

  it('bias: round(b / float32(S_in x S_w[c])), zero point 0', () => {
    const bias = quantizeBias(Float32Array.from([0.1, -0.2]), 0.02, [0.01, 0.5]);
    expect(bias.scales).toEqual([Math.fround(0.02 * 0.01), Math.fround(0.02 * 0.5)]);
    expect(Array.from(bias.data)).toEqual([Math.round(0.1 / Math.fround(0.0002)), -20]);
  });

  it('a bias that would overflow int32 with tiny weights widens that channel\'s weight scale', () => {
    const { weights, bias } = quantizeWeights(Float32Array.from([1e-9, -1e-9]), [2, 1], 0, { values: Float32Array.from([1000, 1e-12]), inputScale: 1e-3 });
    expect(Math.abs(bias!.data[0]!)).toBeLessThanOrEqual(2 ** 30 + 1);
    expect(bias!.data[0]! * bias!.scales[0]!).toBeCloseTo(1000, 2);
    // The other channel keeps its own, small scale.
    expect(weights.scales[1]).toBe(Math.fround(1e-9 / 127));
  });

  it('a constant operand: per-tensor asymmetric over its values and 0', () => {
    const { data, params } = quantizeConstant(Float32Array.from([0.5, -1, 2, 0.25]));
    expect(params).toEqual(activationParams({ min: -1, max: 2 }));
    data.forEach((q, i) => expect(Math.abs((q - params.zeroPoint) * params.scale - [0.5, -1, 2, 0.25][i]!)).toBeLessThanOrEqual(params.scale / 2));
  });
});

describe('range observers', () => {
  it('min/max ignores NaN and infinities', () => {
    const observer = new MinMaxObserver();
    expect(observer.range()).toBeUndefined();
    observer.update([1, NaN, -Infinity, 3]);
    observer.update([-2, Infinity]);
    expect(observer.range()).toEqual({ min: -2, max: 3 });
  });

  it('percentile: the histogram cuts a rare outlier on either side', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => (i % 1000) / 1000);
    values.push(1000, -500);
    const extremes = new MinMaxObserver();
    extremes.update(values);
    const histogram = new HistogramObserver(extremes.range()!);
    histogram.update(values);
    const range = histogram.percentileRange(99.99);
    expect(range.max).toBeLessThan(2);
    expect(range.max).toBeGreaterThan(0.7);
    expect(range.min).toBeGreaterThan(-1);
    expect(histogram.percentileRange(100)).toEqual({ min: -500, max: 1000 });
  });
});

describe('comparison metrics', () => {
  it('cosine similarity: 1 for the same direction, -1 opposite, zero vectors handled', () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 2], [-1, -2])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
  });

  it('errors over every value, top-1 over every row of the last axis', () => {
    const expected = [Float32Array.from([1, 5, 2, 9, 0, 0]), Float32Array.from([3, 1, 0, 0, 0, 1])];
    const actual = [Float32Array.from([1, 4, 2, 9, 1, 0]), Float32Array.from([3, 1, 0, 0, 2, 1])];
    const metrics = compareOutputs(expected, actual, 3);
    expect(metrics.maxAbsError).toBe(2);
    expect(metrics.meanAbsError).toBeCloseTo(4 / 12, 12);
    expect(metrics.rows).toBe(4);
    // Rows: [1,5,2]/[1,4,2] agree, [9,0,0]/[9,1,0] agree, [3,1,0] agree, [0,0,1]/[0,2,1] differ.
    expect(metrics.top1Agreement).toBe(0.75);
    expect(compareOutputs(expected, actual, 1).top1Agreement).toBeNull();
  });
});
