/**
 * The requantizing output stage of the DSP kernels, decided per layer from proven bounds.
 *
 * TFLite's double rounding, x = SaturatingRoundingDoublingHighMul(acc, m) then RoundingDivideByPOT(x, r), costs a
 * 64-bit multiply, a sign-dependent nudge and a sign-dependent rounding. Where TypeScript can prove, from the
 * layer's weights and bias, that |acc| < 2^30, the same two roundings take three instructions:
 *
 *   t = SMMLAR(2 * acc, m, 2^(r-1) + Z_out * 2^r)      = Z_out * 2^r + 2^(r-1) + floor((acc * m + 2^30) / 2^31)
 *   out = (t - (acc < 0)) >> r
 *
 * floor((acc * m + 2^30) / 2^31) is gemmlowp's result for both signs (for a negative product, truncating
 * (p + 1 - 2^30) / 2^31 towards zero equals flooring (p + 2^30) / 2^31). The rounding division adds 2^(r-1) and
 * subtracts 1 for a negative x, and x < 0 exactly when acc < 0 except where x = 0 (m >= 2^30 makes acc * m
 * <= -2^30 for any negative acc), where both give 0 for r >= 1. Adding Z_out * 2^r before the arithmetic shift
 * adds Z_out after it. So the fast form needs: every right shift r in [1, 31], |2 * acc| < 2^31 and no int32
 * overflow in t; otherwise the layer uses the exact portable te_requantize.
 *
 * Where |2 * acc| may reach 2^31 (pruned channels keep biases near 2^30) but every shift is still a right shift,
 * the 'wide' form computes x exactly with a 64-bit product (SMULL, add 2^30, take bits 31..62), then
 * (x + 2^(r-1) - (x < 0)) >> r and the zero point after it: no overflow as long as |x| + 2^(r-1) < 2^31.
 *
 * A channel whose output cannot depend on its accumulator (a zero multiplier, which pruned channels get, or a
 * shift so large that |x| < 2^(r-1) for every reachable accumulator) always yields Z_out: it takes the fast form's
 * parameters (m = 0, 2^0 + 2 * Z_out, r = 1), which give (1 + 2 Z_out - (acc < 0)) >> 1 = Z_out.
 */
import type { ConvParams } from '../../../quant/params.js';
import type { ConstantArray } from '../../kernel-call.js';

const INT32_LIMIT = 2 ** 31;

export interface DspOutputStage {
  /** The template's `stage` object (see templates/kernels/dsp/partials/dsp_output_*.hbs). */
  view: {
    fast: boolean;
    wide: boolean;
    half: number;
    perChannel: boolean;
    multiplier: number;
    halfPlusZero: number;
    rightShift: number;
    shift: number;
    outputOffset: number;
    min: number;
    max: number;
    /** The clamp is int8's own range: one SSAT. */
    fullRange: boolean;
    /** The kernel accumulates 2 * acc (weights and bias stored doubled): the fast form skips its doubling. */
    doubled: boolean;
  };
  constants: ConstantArray[];
}

/** 2^(r-1) + zeroPoint * 2^r: the rounding term and the output zero point, both added before the shift. */
export function halfPlusZero(rightShift: number, zeroPoint: number): number {
  return 2 ** (rightShift - 1) + zeroPoint * 2 ** rightShift;
}

export interface FastChannel {
  multiplier: number;
  halfPlusZero: number;
  rightShift: number;
}

/** The fast form's parameters for a channel whose accumulator satisfies |acc| <= accBound, or null where it is not exact. */
export function fastChannel(multiplier: number, shift: number, zeroPoint: number, accBound: number): FastChannel | null {
  const right = -shift;
  // |x| = |SaturatingRoundingDoublingHighMul(acc, m)| <= accBound * m / 2^31 + 1.
  const xBound = Math.floor((accBound * multiplier) / INT32_LIMIT) + 1;
  // With m = 0 SMMLAR adds nothing of 2 * acc, whatever its value: no bound needed.
  const constant = multiplier === 0 || (right >= 1 && xBound < 2 ** (right - 1));
  if (constant) return { multiplier: 0, halfPlusZero: 1 + 2 * zeroPoint, rightShift: 1 };
  if (2 * accBound >= INT32_LIMIT || right < 1 || right > 31 || multiplier < 2 ** 30) return null;
  const h = halfPlusZero(right, zeroPoint);
  // t = x + h must stay in int32.
  return Math.abs(h) + xBound + 1 < INT32_LIMIT ? { multiplier, halfPlusZero: h, rightShift: right } : null;
}

export interface WideChannel {
  multiplier: number;
  /** 2^(r-1): the rounding term alone, the zero point being added after the shift. */
  half: number;
  rightShift: number;
}

/** The wide form's parameters for a channel, or null where it is not exact. */
export function wideChannel(multiplier: number, shift: number, accBound: number): WideChannel | null {
  const right = -shift;
  const xBound = Math.floor((accBound * multiplier) / INT32_LIMIT) + 1;
  if (multiplier === 0 || (right >= 1 && xBound < 2 ** (right - 1))) return { multiplier: 0, half: 1, rightShift: 1 };
  if (right < 1 || right > 31 || multiplier < 2 ** 30) return null;
  return xBound + 2 ** (right - 1) + 1 < INT32_LIMIT ? { multiplier, half: 2 ** (right - 1), rightShift: right } : null;
}

/**
 * The output stage for int8 outputs; `accBounds[c]` bounds |acc| of output channel c (bias included).
 * Per-channel parameters become one int32 array of (multiplier, halfPlusZero, rightShift) triples in the fast form,
 * or the multiplier and shift arrays of the exact form.
 */
export function dspOutputStage(params: ConvParams, accBounds: ArrayLike<number>): DspOutputStage {
  const channels = params.outputChannels;
  const zero = params.outputOffset;
  const fastChannels = Array.from({ length: channels }, (_, c) => fastChannel(params.multipliers[c]!, params.shifts[c]!, zero, accBounds[c]!));
  const fast = fastChannels.every((f) => f !== null);
  const wideChannels = fast ? [] : Array.from({ length: channels }, (_, c) => wideChannel(params.multipliers[c]!, params.shifts[c]!, accBounds[c]!));
  const wide = !fast && wideChannels.every((w) => w !== null);
  // Per channel: the parameter triples the chosen form reads; uniform ones become literals.
  const triples: [number, number, number][] = fast
    ? fastChannels.map((f) => [f!.multiplier, f!.halfPlusZero, f!.rightShift])
    : wide
      ? wideChannels.map((w) => [w!.multiplier, w!.half, w!.rightShift])
      : Array.from({ length: channels }, (_, c) => [params.multipliers[c]!, params.shifts[c]!, 0]);
  const perChannel = !triples.every((t) => t[0] === triples[0]![0] && t[1] === triples[0]![1] && t[2] === triples[0]![2]);
  const [first0, first1, first2] = triples[0] ?? [0, 0, 0];
  const view = {
    fast,
    wide,
    perChannel,
    multiplier: first0,
    halfPlusZero: fast ? first1 : 0,
    half: wide ? first1 : 0,
    rightShift: fast || wide ? first2 : 0,
    shift: fast || wide ? 0 : first1,
    outputOffset: zero,
    min: Math.max(-128, params.clamp.min),
    max: Math.min(127, params.clamp.max),
    fullRange: params.clamp.min <= -128 && params.clamp.max >= 127,
    doubled: false,
  };
  if (!perChannel) return { view, constants: [] };
  if (fast || wide) {
    return {
      view,
      constants: [
        {
          role: 'requant',
          ctype: 'int32_t',
          values: Int32Array.from(triples.flat()),
          describe: fast
            ? 'per output channel: Q31 multiplier, 2^(r-1) + Z_out * 2^r, right shift r'
            : 'per output channel: Q31 multiplier, 2^(r-1), right shift r',
        },
      ],
    };
  }
  return {
    view,
    constants: [
      { role: 'multipliers', ctype: 'int32_t', values: params.multipliers, describe: 'Q31 requantization multiplier per output channel' },
      { role: 'shifts', ctype: 'int32_t', values: params.shifts, describe: 'requantization shift per output channel' },
    ],
  };
}

/** |bias[c]| + 128 * sum_k |w(c, k)|: no int8 input can take channel c's accumulator beyond it. */
export function accumulatorBounds(bias: ArrayLike<number>, channels: number, taps: number, weightAt: (c: number, k: number) => number): Float64Array {
  const bounds = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) sum += Math.abs(weightAt(c, k));
    bounds[c] = Math.abs(bias[c]!) + 128 * sum;
  }
  return bounds;
}
