/**
 * The numbers of post-training quantization, as tinyedge's int8 arithmetic expects them (INT8_ARITHMETIC.md):
 * - activations: asymmetric int8, q = round(x / scale) + zeroPoint, with real 0 exactly representable;
 * - weights: symmetric int8 in [-127, 127] (zero point 0), one scale per output channel or per tensor;
 * - bias: int32 with scale S_in * S_w[c] (a float32 product, as the importer recomputes it) and zero point 0.
 * Scales are float32 values, because that is what the model file stores.
 */
import { INT32_MAX, roundHalfEven } from '../quant/fixedpoint.js';
import type { Range } from './range-observer.js';

export interface ActivationParams {
  /** float32 value. */
  scale: number;
  /** int8. */
  zeroPoint: number;
}

/** Output parameters TFLite-Micro's fixed-point kernels require (and the reference interpreter checks). */
export const SOFTMAX_OUTPUT: ActivationParams = { scale: 1 / 256, zeroPoint: -128 };
export const LOGISTIC_OUTPUT: ActivationParams = { scale: 1 / 256, zeroPoint: -128 };
export const TANH_OUTPUT: ActivationParams = { scale: 1 / 128, zeroPoint: 0 };

const INT8_MIN = -128;
const INT8_MAX = 127;
const WEIGHT_MAX = 127;

/** Asymmetric int8 parameters covering `range` widened to include 0. */
export function activationParams(range: Range): ActivationParams {
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  // A tensor that is 0 everywhere still needs a valid (positive) scale; any will do.
  const span = max - min > 0 ? max - min : 1;
  const scale = Math.fround(span / (INT8_MAX - INT8_MIN));
  const zeroPoint = Math.min(INT8_MAX, Math.max(INT8_MIN, Math.round(INT8_MIN - min / scale)));
  return { scale, zeroPoint };
}

export interface QuantizedWeights {
  data: Int8Array;
  /** One float32 scale per channel along `axis`, or one for the whole tensor. */
  scales: number[];
  /** The channel axis; undefined for per-tensor. */
  axis?: number;
}

export interface QuantizedBias {
  data: Int32Array;
  /** float32 S_in * S_w[c], one per channel (or one when the weights are per tensor). */
  scales: number[];
}

/**
 * Symmetric int8 weights along `axis` (undefined: per tensor), and the int32 bias of the same op when it has one.
 * A weight scale is widened where the bias would not fit int32 with scale S_in * S_w[c] (tiny weights, big bias).
 */
export function quantizeWeights(
  weights: Float32Array,
  dims: readonly number[],
  axis: number | undefined,
  bias?: { values: Float32Array; inputScale: number },
): { weights: QuantizedWeights; bias?: QuantizedBias } {
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? weights.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number): number => (axis === undefined ? 0 : Math.floor(i / inner) % channels);

  const largest = new Float64Array(channels);
  weights.forEach((w, i) => {
    const c = channelOf(i);
    largest[c] = Math.max(largest[c]!, Math.abs(w));
  });
  // The bias has one value per output channel; with per-tensor weights every channel shares the one scale.
  const biasAt = (c: number): number => (channels === 1 ? bias!.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) : Math.abs(bias!.values[c]!));
  const scales = Array.from(largest, (m, c) => {
    let scale = m > 0 ? m / WEIGHT_MAX : 1;
    if (bias) {
      // Keep |bias / (S_in * S_w)| at most half of int32's range.
      const needed = biasAt(c) / (bias.inputScale * (INT32_MAX / 2));
      scale = Math.max(scale, needed);
    }
    return Math.fround(scale);
  });

  const data = new Int8Array(weights.length);
  weights.forEach((w, i) => {
    data[i] = Math.min(WEIGHT_MAX, Math.max(-WEIGHT_MAX, roundHalfEven(Math.fround(w / scales[channelOf(i)]!))));
  });
  const quantized: QuantizedWeights = axis === undefined ? { data, scales } : { data, scales, axis };
  if (!bias) return { weights: quantized };
  return { weights: quantized, bias: quantizeBias(bias.values, bias.inputScale, scales) };
}

/** int32 bias, one value per output channel (per-tensor weights give every channel the same scale). */
export function quantizeBias(values: Float32Array, inputScale: number, weightScales: readonly number[]): QuantizedBias {
  const scales = weightScales.map((s) => Math.fround(inputScale * s));
  const data = Int32Array.from(values, (v, c) => {
    const scale = scales[scales.length === 1 ? 0 : c]!;
    return Math.min(INT32_MAX, Math.max(-INT32_MAX, roundHalfEven(v / scale)));
  });
  return { data, scales };
}

/** Per-tensor asymmetric int8 for a constant used as an ordinary operand (an Add's constant, a Concat input). */
export function quantizeConstant(values: Float32Array): { data: Int8Array; params: ActivationParams } {
  let min = 0;
  let max = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const params = activationParams({ min, max });
  const data = Int8Array.from(values, (v) => Math.min(INT8_MAX, Math.max(INT8_MIN, roundHalfEven(Math.fround(v / params.scale)) + params.zeroPoint)));
  return { data, params };
}
