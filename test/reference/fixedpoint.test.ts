import { describe, expect, it } from 'vitest';
import {
  INT32_MAX,
  INT32_MIN,
  expOnNegativeValues,
  fixedPointLogistic,
  fixedPointTanh,
  frexp,
  multiplyByQuantizedMultiplier,
  oneOverOnePlusXForXIn01,
  quantizeMultiplier,
  reciprocal,
  roundHalfAway,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulBigInt,
  saturatingRoundingMultiplyByPOT,
} from '../../src/quant/fixedpoint.js';
import { mbqmBigInt, randomInt32 } from './graph-builder.js';

describe('frexp', () => {
  it('splits doubles exactly like C frexp', () => {
    expect(frexp(1)).toEqual({ fraction: 0.5, exponent: 1 });
    expect(frexp(0.75)).toEqual({ fraction: 0.75, exponent: 0 });
    expect(frexp(0.1)).toEqual({ fraction: 0.8, exponent: -3 });
    expect(frexp(-6)).toEqual({ fraction: -0.75, exponent: 3 });
    expect(frexp(2 ** -1074)).toEqual({ fraction: 0.5, exponent: -1073 });
    expect(frexp(0)).toEqual({ fraction: 0, exponent: 0 });
    // Just below a power of two, where a log2-based frexp goes wrong.
    const below = 1 - 2 ** -53;
    expect(frexp(below)).toEqual({ fraction: below, exponent: 0 });
  });
});

describe('rounding', () => {
  it('rounds half away from zero (C round) and half to even (ONNX)', () => {
    expect([2.5, -2.5, 1.5, -1.5, 0.49999999999999994].map(roundHalfAway)).toEqual([3, -3, 2, -2, 0]);
    expect([2.5, -2.5, 1.5, -1.5, 3.5, -3.5, 2.4].map(roundHalfEven)).toEqual([2, -2, 2, -2, 4, -4, 2]);
  });
});

describe('quantizeMultiplier', () => {
  it('derives Q31 multipliers and shifts as TFLite QuantizeMultiplier does', () => {
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 1610612736, shift: 0 });
    // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4
    expect(quantizeMultiplier(0.1)).toEqual({ multiplier: 1717986918, shift: -3 });
    expect(quantizeMultiplier(-0.75)).toEqual({ multiplier: -1610612736, shift: 0 });
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
  });

  it('renormalises a fraction that rounds up to 2^31', () => {
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 });
  });

  it('flushes shifts below -31 to zero and keeps large shifts (double-rounding build)', () => {
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** 31 - 1)).toEqual({ multiplier: 2 ** 31 - 1, shift: 31 });
  });
});

describe('saturatingRoundingDoublingHighMul', () => {
  it('matches hand-computed gemmlowp values', () => {
    expect(saturatingRoundingDoublingHighMul(2 ** 30, 2 ** 30)).toBe(2 ** 29);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    // 1001 * 0.5 = 500.5 rounds up; -1001 * 0.5 = -500.5 rounds up too (towards +infinity).
    expect(saturatingRoundingDoublingHighMul(1001, 2 ** 30)).toBe(501);
    expect(saturatingRoundingDoublingHighMul(-1001, 2 ** 30)).toBe(-500);
    expect(saturatingRoundingDoublingHighMul(-1, 1)).toBe(0);
  });

  it('agrees with the BigInt definition on edge and random operands', () => {
    const edges = [0, 1, -1, 2, -2, 4194303, 4194304, -4194304, -4194305, 65535, 65536, -65536, 2 ** 30, -(2 ** 30), INT32_MAX, INT32_MIN, INT32_MIN + 1];
    for (const a of edges) for (const b of edges) expect(saturatingRoundingDoublingHighMul(a, b)).toBe(saturatingRoundingDoublingHighMulBigInt(a, b));
    const as = randomInt32(20000, 1, INT32_MIN, INT32_MAX);
    const bs = randomInt32(20000, 2, INT32_MIN, INT32_MAX);
    for (let i = 0; i < as.length; i++) {
      expect(saturatingRoundingDoublingHighMul(as[i]!, bs[i]!)).toBe(saturatingRoundingDoublingHighMulBigInt(as[i]!, bs[i]!));
    }
    // Accumulator-sized operands (the fast double path) against Q31 multipliers.
    const accs = randomInt32(20000, 3, -(2 ** 24), 2 ** 24);
    const multipliers = randomInt32(20000, 4, 2 ** 30, INT32_MAX);
    for (let i = 0; i < accs.length; i++) {
      expect(saturatingRoundingDoublingHighMul(accs[i]!, multipliers[i]!)).toBe(saturatingRoundingDoublingHighMulBigInt(accs[i]!, multipliers[i]!));
    }
  });
});

describe('roundingDivideByPOT', () => {
  it('rounds half away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3);
    expect(roundingDivideByPOT(-5, 1)).toBe(-3);
    expect(roundingDivideByPOT(4, 1)).toBe(2);
    expect(roundingDivideByPOT(-3, 1)).toBe(-2);
    expect(roundingDivideByPOT(-2, 2)).toBe(-1); // -0.5 -> -1
    expect(roundingDivideByPOT(2, 2)).toBe(1); // 0.5 -> 1
    expect(roundingDivideByPOT(7, 0)).toBe(7);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
  });
});

describe('multiplyByQuantizedMultiplier', () => {
  it('rounds twice (the default TFLite build)', () => {
    // 1001 / 4 = 250.25, but 1001 * 0.5 rounds to 501 first, then 501 / 2 rounds to 251.
    expect(multiplyByQuantizedMultiplier(1001, 2 ** 30, -1)).toBe(251);
    expect(multiplyByQuantizedMultiplier(-1001, 2 ** 30, -1)).toBe(-250);
    expect(multiplyByQuantizedMultiplier(1000, 2 ** 30, -1)).toBe(250);
    // Identity: multiplier 0.5 with shift 1.
    expect(multiplyByQuantizedMultiplier(-123, 2 ** 30, 1)).toBe(-123);
  });

  it('agrees with its BigInt definition on random accumulators, multipliers and shifts', () => {
    const accs = randomInt32(30000, 11, -(2 ** 26), 2 ** 26);
    const multipliers = randomInt32(30000, 12, 2 ** 30, INT32_MAX);
    const shifts = randomInt32(30000, 13, -31, 8);
    for (let i = 0; i < accs.length; i++) {
      expect(multiplyByQuantizedMultiplier(accs[i]!, multipliers[i]!, shifts[i]!)).toBe(mbqmBigInt(accs[i]!, multipliers[i]!, shifts[i]!));
    }
  });
});

describe('saturatingRoundingMultiplyByPOT', () => {
  it('saturates left shifts and rounds right shifts', () => {
    expect(saturatingRoundingMultiplyByPOT(3, 2)).toBe(12);
    expect(saturatingRoundingMultiplyByPOT(2 ** 29, 2)).toBe(INT32_MAX);
    expect(saturatingRoundingMultiplyByPOT(-(2 ** 29), 2)).toBe(INT32_MIN);
    expect(saturatingRoundingMultiplyByPOT(6, -2)).toBe(2);
  });
});

describe('gemmlowp fixed-point functions', () => {
  const q31 = 2 ** 31;

  it('reproduces values computed by gemmlowp fixedpoint.h compiled as C++', () => {
    // Q5.26 inputs -1/4, -1, -2 (exp), Q4.27 inputs +-1, -1/2 (logistic, tanh), Q0.31 inputs 1/2, 0.
    expect(expOnNegativeValues(-16777216, 5)).toBe(1672462419);
    expect(expOnNegativeValues(-67108864, 5)).toBe(790015308);
    expect(expOnNegativeValues(-134217728, 5)).toBe(290630390);
    expect(fixedPointLogistic(134217728, 4)).toBe(1569936226);
    expect(fixedPointLogistic(-134217728, 4)).toBe(577547421);
    expect(fixedPointTanh(134217728, 4)).toBe(1635510876);
    expect(fixedPointTanh(-67108864, 4)).toBe(-992388804);
    expect(oneOverOnePlusXForXIn01(1073741824)).toBe(1431655762);
    expect(oneOverOnePlusXForXIn01(0)).toBe(INT32_MAX);
  });

  it('exp_on_negative_values follows exp within its 4th-order Taylor error', () => {
    expect(expOnNegativeValues(0, 5)).toBe(INT32_MAX);
    for (let raw = 0; raw > -(31 * 2 ** 26); raw -= 1234567) {
      const exact = Math.exp(raw / 2 ** 26);
      expect(Math.abs(expOnNegativeValues(raw, 5) / q31 - exact)).toBeLessThan(3e-7);
    }
  });

  it('one_over_one_plus_x is 1/(1+x) on [0, 1)', () => {
    for (let x = 0; x < 1; x += 0.0137) {
      const raw = Math.round(x * q31);
      expect(Math.abs(oneOverOnePlusXForXIn01(raw) / q31 - 1 / (1 + raw / q31))).toBeLessThan(1e-8);
    }
  });

  it('logistic and tanh follow their functions (Q4.27 input)', () => {
    expect(fixedPointLogistic(0, 4)).toBe(2 ** 30);
    expect(fixedPointTanh(0, 4)).toBe(0);
    for (let x = -15.9; x < 15.9; x += 0.173) {
      const raw = Math.round(x * 2 ** 27);
      const real = raw / 2 ** 27;
      expect(Math.abs(fixedPointLogistic(raw, 4) / q31 - 1 / (1 + Math.exp(-real)))).toBeLessThan(1e-7);
      expect(Math.abs(fixedPointTanh(raw, 4) / q31 - Math.tanh(real))).toBeLessThan(1e-7);
    }
  });

  it('reciprocal gives 1/x with the bits above one', () => {
    // 2.0 in Q12.19 is 2^20: 1/2 = (1/1.0) * 2^-1.
    const { scale, bitsOverUnit } = reciprocal(2 ** 20, 12);
    expect(bitsOverUnit).toBe(1);
    expect(scale).toBeGreaterThan(INT32_MAX - 4);
    const r = reciprocal(3 * 2 ** 19, 12); // 3.0 = 1.5 * 2^1: scale 1/1.5, one bit over unit
    expect(r.bitsOverUnit).toBe(1);
    expect(Math.abs(r.scale / q31 / 2 - 1 / 3)).toBeLessThan(1e-8);
  });
});
