/**
 * The fixed-point primitives of TFLite-Micro's integer kernels (and CMSIS-NN's, which match them bit for bit).
 * Everything the reference interpreter computes and every constant code generation emits goes through these, so
 * the TypeScript reference and the generated C cannot drift apart.
 *
 * 64-bit intermediate products are computed with BigInt: a JavaScript number cannot hold a 62-bit product exactly.
 */

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export interface QuantizedMultiplier {
  /** Q31 multiplier in [2^30, 2^31), or 0. */
  multiplier: number;
  /** Power-of-two exponent: positive shifts left, negative shifts right. */
  shift: number;
}

/** frexp for finite doubles: x = fraction * 2^exponent with 0.5 <= |fraction| < 1. */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  let exponent = Math.max(-1023, Math.floor(Math.log2(Math.abs(x))) + 1);
  let fraction = x * Math.pow(2, -exponent);
  // log2 can be off by one near powers of two; normalise exactly.
  while (Math.abs(fraction) < 0.5) {
    fraction *= 2;
    exponent -= 1;
  }
  while (Math.abs(fraction) >= 1) {
    fraction /= 2;
    exponent += 1;
  }
  return { fraction, exponent };
}

/** C's round(): half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Round half to even (ONNX QuantizeLinear, onnxruntime). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** TFLite QuantizeMultiplier: M = q * 2^shift, q in Q31 rounded half away from zero. */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  if (realMultiplier === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(realMultiplier);
  let shift = exponent;
  let q = roundHalfAway(fraction * 2 ** 31);
  if (q === 2 ** 31) {
    q /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    q = 0;
  }
  // TFLite-Micro caps the left shift at 30 (kernel_util / quantization_util).
  if (shift > 30) {
    shift = 30;
    q = INT32_MAX;
  }
  return { multiplier: q, shift };
}

/** TFLite QuantizeMultiplierSmallerThanOneExp: the same, for multipliers known to be < 1. */
export function quantizeMultiplierSmallerThanOne(realMultiplier: number): QuantizedMultiplier {
  return quantizeMultiplier(realMultiplier);
}

export function saturateInt32(x: number): number {
  return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
}

/** gemmlowp SaturatingRoundingDoublingHighMul. */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  // BigInt division truncates towards zero, as C's does.
  return Number((ab + nudge) / (1n << 31n));
}

/** gemmlowp RoundingDivideByPOT: arithmetic shift right rounding half away from zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = exponent >= 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * TFLite MultiplyByQuantizedMultiplier (double rounding, the default build): the requantization of every
 * int8 kernel.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const shifted = leftShift === 0 ? x : saturateInt32(x * 2 ** leftShift);
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), rightShift);
}

/** Output stage of every requantizing kernel: acc -> clamp(requant(acc) + Z_out, min, max). */
export function requantize(acc: number, multiplier: number, shift: number, outputZeroPoint: number, min: number, max: number): number {
  const v = multiplyByQuantizedMultiplier(acc, multiplier, shift) + outputZeroPoint;
  return v < min ? min : v > max ? max : v;
}
