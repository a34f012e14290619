/**
 * The fixed-point primitives of TFLite-Micro's integer kernels (and CMSIS-NN's, which match them bit for bit),
 * including gemmlowp's FixedPoint math (exp, 1/(1+x), tanh, logistic) used by SOFTMAX, LOGISTIC and TANH.
 * Everything the reference interpreter computes and every constant code generation emits goes through these, so
 * the TypeScript reference and the generated C cannot drift apart.
 *
 * All values are int32 held in JavaScript numbers. 64-bit intermediate products are computed exactly without
 * BigInt: a product below 2^53 is exact in a double; larger ones are split (see saturatingRoundingDoublingHighMul).
 * The test suite checks the fast paths against a BigInt oracle.
 *
 * Default build assumptions (the ones the golden outputs were made with): double rounding (no
 * TFLITE_SINGLE_ROUNDING), and C's wrap-around for the `x * (1 << left_shift)` that TFLite-Micro writes before
 * SaturatingRoundingDoublingHighMul (well-formed models never overflow there).
 */

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const TWO_POW_31 = 2147483648;
const TWO_POW_22 = 4194304;

export interface QuantizedMultiplier {
  /** Q31 multiplier in [2^30, 2^31), or 0 (negative for a negative real multiplier). */
  multiplier: number;
  /** Power-of-two exponent: positive shifts left, negative shifts right. */
  shift: number;
}

const frexpView = new DataView(new ArrayBuffer(8));

/** C's frexp for doubles, exactly (bit-level, subnormals included): x = fraction * 2^exponent, 0.5 <= |fraction| < 1. */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  frexpView.setFloat64(0, x);
  const high = frexpView.getUint32(0);
  const biased = (high >>> 20) & 0x7ff;
  if (biased === 0) {
    // Subnormal: normalise by a power of two first (exact).
    const r = frexp(x * 2 ** 64);
    return { fraction: r.fraction, exponent: r.exponent - 64 };
  }
  const exponent = biased - 1022;
  // Replace the exponent field by the one of [0.5, 1): exact.
  frexpView.setUint32(0, (high & 0x800fffff) | (1022 << 20));
  return { fraction: frexpView.getFloat64(0), exponent };
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

/**
 * TFLite QuantizeMultiplier (quantization_util.cc, double-rounding build): M = q * 2^shift, q in Q31 rounded half
 * away from zero; shifts below -31 flush to 0. There is no cap on large shifts in this build.
 */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  if (realMultiplier === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(realMultiplier);
  let shift = exponent;
  let q = roundHalfAway(fraction * TWO_POW_31);
  if (q === TWO_POW_31) {
    q /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    q = 0;
  }
  return { multiplier: q, shift };
}

/** TFLite QuantizeMultiplierSmallerThanOneExp: the same, for multipliers known to be in (0, 1). */
export function quantizeMultiplierSmallerThanOne(realMultiplier: number): QuantizedMultiplier {
  return quantizeMultiplier(realMultiplier);
}

export function saturateInt32(x: number): number {
  return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
}

/** int32 wrap-around (two's complement), what C does on overflow in practice. */
export function wrapInt32(x: number): number {
  return x | 0;
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul on int32: (a*b + nudge) / 2^31 truncated towards zero, with
 * nudge = 2^30 for a non-negative product and 1 - 2^30 otherwise; INT32_MIN * INT32_MIN saturates.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const nonNegative = a === 0 || b === 0 || a > 0 === b > 0;
  const nudge = nonNegative ? 1073741824 : -1073741823;
  if (a < TWO_POW_22 && a > -TWO_POW_22) {
    // |a*b| < 2^53: the product and the nudged sum are exact doubles, and dividing by 2^31 is exact.
    return Math.trunc((a * b + nudge) / TWO_POW_31) | 0;
  }
  // Split b = bHigh * 2^16 + bLow so that both partial products are exact (< 2^47), then carry exactly.
  const bLow = b & 0xffff;
  const bHigh = (b - bLow) / 65536;
  const high = a * bHigh;
  const low = a * bLow;
  const highQuotient = Math.floor(high / 32768); // high = highQuotient * 2^15 + highRemainder
  const highRemainder = high - highQuotient * 32768;
  const rest = highRemainder * 65536 + low + nudge; // |rest| < 2^48: exact
  const restQuotient = Math.floor(rest / TWO_POW_31);
  const remainder = rest - restQuotient * TWO_POW_31;
  const floorQuotient = highQuotient + restQuotient;
  // C's division truncates towards zero: a negative quotient with a remainder moves up by one.
  return (floorQuotient < 0 && remainder !== 0 ? floorQuotient + 1 : floorQuotient) | 0;
}

/** The BigInt definition of SaturatingRoundingDoublingHighMul: the oracle the fast version is tested against. */
export function saturatingRoundingDoublingHighMulBigInt(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  // BigInt division truncates towards zero, as C's does.
  return Number((ab + nudge) / (1n << 31n));
}

/** gemmlowp RoundingDivideByPOT: arithmetic shift right rounding half away from zero; exponent in [0, 31]. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = exponent >= 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x * 2^leftShift with C's int32 wrap-around (TFLite-Micro writes `x * (1 << left_shift)`). */
function shiftLeftWrapping(x: number, leftShift: number): number {
  if (leftShift === 0) return x;
  if (leftShift >= 32) return 0;
  return Math.imul(x, leftShift === 31 ? INT32_MIN : 1 << leftShift);
}

/**
 * TFLite MultiplyByQuantizedMultiplier (double rounding, the default build): the requantization of every
 * int8 kernel.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftLeftWrapping(x, leftShift), multiplier), rightShift);
}

/** TFLite MultiplyByQuantizedMultiplierGreaterThanOne: left shift, then the doubling high multiply, no rounding shift. */
export function multiplyByQuantizedMultiplierGreaterThanOne(x: number, multiplier: number, leftShift: number): number {
  return saturatingRoundingDoublingHighMul(shiftLeftWrapping(x, leftShift), multiplier);
}

/** TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0). */
export function multiplyByQuantizedMultiplierSmallerThanOne(x: number, multiplier: number, shift: number): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -shift);
}

/** Output stage of every requantizing kernel: acc -> clamp(requant(acc) + Z_out, min, max). */
export function requantize(acc: number, multiplier: number, shift: number, outputZeroPoint: number, min: number, max: number): number {
  const v = multiplyByQuantizedMultiplier(acc, multiplier, shift) + outputZeroPoint;
  return v < min ? min : v > max ? max : v;
}

// ---------------------------------------------------------------------------------------------------------------
// gemmlowp FixedPoint<int32, IntegerBits> math. A value is its raw int32; the integer-bit count is passed where it
// changes the arithmetic.

/** gemmlowp SaturatingRoundingMultiplyByPOT<exponent>: saturating shift left, or rounding shift right. */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/** gemmlowp Rescale<dstIntegerBits>(FixedPoint<srcIntegerBits>). */
export function rescaleFixedPoint(x: number, srcIntegerBits: number, dstIntegerBits: number): number {
  return saturatingRoundingMultiplyByPOT(x, srcIntegerBits - dstIntegerBits);
}

/** gemmlowp RoundingHalfSum on int32: (a + b) / 2 rounded half away from zero, computed in 64 bits. */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2) | 0;
}

/** The raw value of 1.0 (or its closest value, for 0 integer bits) in FixedPoint<int32, integerBits>. */
export function fixedPointOne(integerBits: number): number {
  return integerBits === 0 ? INT32_MAX : 1 << (31 - integerBits);
}

const srdhm = saturatingRoundingDoublingHighMul;

/** gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31 in and out). */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const constantOneThird = 715827883;
  const x = (a + (1 << 28)) | 0; // Taylor expansion around -1/8
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT((srdhm((x4Over4 + x3) | 0, constantOneThird) + x2) | 0, 1);
  return (constantTerm + srdhm(constantTerm, (x + poly) | 0)) | 0;
}

const EXP_BARREL_SHIFTER: ReadonlyArray<readonly [number, number]> = [
  [-2, 1672461947],
  [-1, 1302514674],
  [0, 790015084],
  [1, 290630308],
  [2, 39332535],
  [3, 720401],
  [4, 242],
];

/** gemmlowp exp_on_negative_values: exp(a) for a <= 0 in FixedPoint<int32, integerBits>; result in Q0.31. */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = ((a & mask) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescaleFixedPoint(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  for (const [exponent, multiplier] of EXP_BARREL_SHIFTER) {
    if (integerBits > exponent) {
      const bit = fractionalBits + exponent;
      if ((remainder & (1 << bit)) !== 0) result = srdhm(result, multiplier);
    }
  }
  if (integerBits > 5) {
    const clamp = -(1 << (36 - integerBits));
    if (a < clamp) result = 0;
  }
  if (a === 0) result = INT32_MAX;
  return result;
}

/** The Newton-Raphson reciprocal shared by one_over_one_plus_x and one_minus_x_over_one_plus_x; returns x in Q2.29. */
function newtonRaphsonHalfDenominatorReciprocal(halfDenominator: number): number {
  const constant48Over17 = 1515870810;
  const constantNeg32Over17 = -1010580540;
  const oneQ2 = 1 << 29;
  let x = (constant48Over17 + srdhm(halfDenominator, constantNeg32Over17)) | 0;
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = srdhm(halfDenominator, x);
    const oneMinus = (oneQ2 - halfDenominatorTimesX) | 0;
    x = (x + rescaleFixedPoint(srdhm(x, oneMinus), 4, 2)) | 0;
  }
  return x;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
export function oneOverOnePlusXForXIn01(a: number): number {
  const x = newtonRaphsonHalfDenominatorReciprocal(roundingHalfSum(a, INT32_MAX));
  // ExactMulByPot<-1> makes x a Q1.30 value with the same raw bits; Rescale<0> shifts it left by one, saturating.
  return rescaleFixedPoint(x, 1, 0);
}

/** gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
export function oneMinusXOverOnePlusXForXIn01(a: number): number {
  const x = newtonRaphsonHalfDenominatorReciprocal(roundingHalfSum(a, INT32_MAX));
  return rescaleFixedPoint((x - (1 << 29)) | 0, 2, 0);
}

/** gemmlowp tanh for FixedPoint<int32, integerBits>; result in Q0.31. */
export function fixedPointTanh(a: number, integerBits: number): number {
  if (a === 0) return 0;
  const negative = a < 0;
  const n = negative ? a : -a | 0;
  // neg_tanh_on_negative_values: ExactMulByPot<1> adds one integer bit without touching the raw value.
  const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(n, integerBits + 1));
  return negative ? -t | 0 : t;
}

/** gemmlowp logistic for FixedPoint<int32, integerBits>; result in Q0.31. */
export function fixedPointLogistic(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const positive = a > 0;
  const absolute = positive ? a : -a | 0;
  const resultIfPositive = oneOverOnePlusXForXIn01(expOnNegativeValues(-absolute | 0, integerBits));
  return positive ? resultIfPositive : (INT32_MAX - resultIfPositive) | 0;
}

/** Count of leading zero bits of x as uint32 (32 for 0), like __builtin_clz with TFLite's zero case. */
export function countLeadingZeros32(x: number): number {
  return Math.clz32(x);
}

/**
 * TFLite GetReciprocal (common.h): 1/x for x in FixedPoint<int32, integerBits>, returned as a Q0.31 scale and the
 * number of bits the value lies above one.
 */
export function reciprocal(x: number, integerBits: number): { scale: number; bitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  const bitsOverUnit = integerBits - headroomPlusOne;
  const shiftedSumMinusOne = ((headroomPlusOne >= 32 ? 0 : x << headroomPlusOne) - TWO_POW_31) | 0;
  return { scale: oneOverOnePlusXForXIn01(shiftedSumMinusOne), bitsOverUnit };
}
