/**
 * Element-wise, pooling, reductions, softmax, activations, quantization and data movement on small hand-checkable
 * cases; the smooth functions also against their float definitions.
 */
import { describe, expect, it } from 'vitest';
import type {
  ConcatNode,
  DequantizeNode,
  ElementwiseBinaryNode,
  FloatOpNode,
  LeakyReluNode,
  MeanNode,
  Node,
  PadNode,
  Pool2DNode,
  QuantizeNode,
  ReshapeNode,
  SoftmaxNode,
  Tensor,
  TensorData,
  TransposeNode,
  UnaryNode,
} from '../../src/ir/types.js';
import { addParams, meanParams, unaryLut } from '../../src/quant/params.js';
import { runReference } from '../../src/reference/interpreter.js';
import { noClamp, noPadding, q, singleNodeGraph, tensor } from './graph-builder.js';

function run(node: Node, tensors: Tensor[], ...inputs: TensorData[]): number[] {
  return Array.from(runReference(singleNodeGraph(node, tensors), inputs).outputs[0]! as ArrayLike<number>);
}

function binary(op: 'Add' | 'Sub' | 'Mul', clamp = noClamp): ElementwiseBinaryNode {
  return { name: op.toLowerCase(), op, inputs: ['a', 'b'], outputs: ['y'], attrs: { clamp } };
}

describe('Add / Sub / Mul', () => {
  it('adds on a common scale with the 20-bit left shift (hand-checked)', () => {
    // 0.5 * 10 + 0.5 * 4 = 7 at output scale 1.
    const tensors = [tensor('a', [1], 'int8', q(0.5, 0)), tensor('b', [1], 'int8', q(0.5, 0)), tensor('y', [1], 'int8', q(1, 0))];
    const p = addParams(singleNodeGraph(binary('Add'), tensors), binary('Add'));
    expect(p).toMatchObject({ leftShift: 20, input1Multiplier: 2 ** 30, input1Shift: 0, outputMultiplier: 2 ** 30, outputShift: -19 });
    expect(run(binary('Add'), tensors, Int8Array.from([10]), Int8Array.from([4]))).toEqual([7]);
    expect(run(binary('Sub'), tensors, Int8Array.from([10]), Int8Array.from([4]))).toEqual([3]);
  });

  it('broadcasts numpy-style, applies zero points and the fused clamp', () => {
    const tensors = [
      tensor('a', [2, 1, 3], 'int8', q(0.25, -2)),
      tensor('b', [2, 1], 'int8', q(0.25, 2)),
      tensor('y', [2, 2, 3], 'int8', q(0.25, 0)),
    ];
    const a = Int8Array.from([-2, 2, 6, 10, 14, 18]); // reals 0, 1, 2, 3, 4, 5
    const b = Int8Array.from([2, 6]); // reals 0, 1
    // y[i][j][k] = a[i][k] + b[j] in units of 0.25, clamped below at 1 (real 0.25).
    expect(run(binary('Add', { min: 1, max: 127 }), tensors, a, b)).toEqual([1, 4, 8, 4, 8, 12, 12, 16, 20, 16, 20, 24]);
  });

  it('multiplies the offset inputs and requantizes (hand-checked)', () => {
    const tensors = [tensor('a', [3], 'int8', q(0.5, 1)), tensor('b', [3], 'int8', q(0.25, 0)), tensor('y', [3], 'int8', q(0.125, -1))];
    // (a - 1) * 0.5 * b * 0.25 / 0.125 = (a - 1) * b: 3 * 4, -2 * 5, 7 * 7 (clamped at 127 - (-1))
    expect(run(binary('Mul'), tensors, Int8Array.from([4, -1, 8]), Int8Array.from([4, 5, 7]))).toEqual([11, -11, 48]);
  });
});

function pool(op: 'AveragePool2D' | 'MaxPool2D', attrs: Partial<Pool2DNode['attrs']> = {}): Pool2DNode {
  return { name: 'pool', op, inputs: ['x'], outputs: ['y'], attrs: { filter: [2, 2], stride: [2, 2], padding: noPadding, clamp: noClamp, ...attrs } };
}

describe('AveragePool2D / MaxPool2D', () => {
  it('rounds averages half away from zero and counts only taps inside the image', () => {
    const tensors = [tensor('x', [1, 2, 4, 1], 'int8', q(0.1, 0)), tensor('y', [1, 1, 2, 1], 'int8', q(0.1, 0))];
    // [1, 2 / 1, 2] -> 6 / 4 = 1.5 -> 2; [-1, -2 / -1, -2] -> -1.5 -> -2
    expect(run(pool('AveragePool2D'), tensors, Int8Array.from([1, 2, -1, -2, 1, 2, -1, -2]))).toEqual([2, -2]);
    // 3x3 window, stride 1, padding 1 on a 2x2 image: each output averages the 4 real taps (sum 7 -> 1.75 -> 2).
    const padded = pool('AveragePool2D', { filter: [3, 3], stride: [1, 1], padding: { top: 1, bottom: 1, left: 1, right: 1 } });
    expect(run(padded, [tensor('x', [1, 2, 2, 1], 'int8', q(0.1, 0)), tensor('y', [1, 2, 2, 1], 'int8', q(0.1, 0))], Int8Array.from([1, 2, 2, 2]))).toEqual([2, 2, 2, 2]);
    // 5 / 3 = 1.67 -> 2 with (sum + count / 2) / count.
    const three = pool('AveragePool2D', { filter: [1, 3], stride: [1, 3] });
    expect(run(three, [tensor('x', [1, 1, 3, 1], 'int8', q(0.1, 0)), tensor('y', [1, 1, 1, 1], 'int8', q(0.1, 0))], Int8Array.from([1, 2, 2]))).toEqual([2]);
  });

  it('takes maxima per channel and clamps', () => {
    const tensors = [tensor('x', [1, 2, 2, 2], 'int8', q(0.1, 0)), tensor('y', [1, 1, 1, 2], 'int8', q(0.1, 0))];
    expect(run(pool('MaxPool2D', { clamp: { min: -128, max: 50 } }), tensors, Int8Array.from([1, -5, 7, -9, 3, -6, 2, -7]))).toEqual([7, -5]);
    expect(run(pool('MaxPool2D', { clamp: { min: -128, max: 5 } }), tensors, Int8Array.from([1, -5, 7, -9, 3, -6, 2, -7]))).toEqual([5, -5]);
  });

  it('refuses to pool between different quantizations (TFLite-Micro does not requantize)', () => {
    expect(() => run(pool('AveragePool2D'), [tensor('x', [1, 2, 2, 1], 'int8', q(0.1, 0)), tensor('y', [1, 1, 1, 1], 'int8', q(0.2, 0))], new Int8Array(4))).toThrow(/pool.*quantization differ/);
  });
});

function meanNode(axes: number[]): MeanNode {
  return { name: 'mean', op: 'Mean', inputs: ['x'], outputs: ['y'], attrs: { axes, keepDims: true } };
}

describe('Mean', () => {
  it('divides the raw sum by the count, truncating, when input and output quantization agree', () => {
    const tensors = [tensor('x', [1, 2, 2, 1], 'int8', q(0.5, 3)), tensor('y', [1, 1, 1, 1], 'int8', q(0.5, 3))];
    expect(run(meanNode([1, 2]), tensors, Int8Array.from([1, 2, 3, 5]))).toEqual([2]); // 11 / 4 = 2.75
    expect(run(meanNode([1, 2]), tensors, Int8Array.from([-1, -2, -3, -5]))).toEqual([-2]);
  });

  it('folds 1/count into the output multiplier otherwise', () => {
    // mean(1, 2, 3, 5) = 2.75 at output scale 0.5 -> 5.5 -> 6
    const four = [tensor('x', [1, 2, 2, 1], 'int8', q(1, 0)), tensor('y', [1, 1, 1, 1], 'int8', q(0.5, 0))];
    expect(run(meanNode([1, 2]), four, Int8Array.from([1, 2, 3, 5]))).toEqual([6]);
    // mean(1, 2, 4) = 2.33 -> 4.67 -> 5; the multiplier becomes floor(2^30 * 2 / 3) with shift 2 - 1.
    const three = [tensor('x', [1, 1, 3, 1], 'int8', q(1, 0)), tensor('y', [1, 1, 1, 1], 'int8', q(0.5, 0))];
    const graph = singleNodeGraph(meanNode([2]), three);
    expect(meanParams(graph, graph.nodes[0] as MeanNode)).toMatchObject({ mode: 'requantize', count: 3, multiplier: 715827882, shift: 1 });
    expect(run(meanNode([2]), three, Int8Array.from([1, 2, 4]))).toEqual([5]);
  });

  it('reduces any axes, negative ones included', () => {
    const tensors = [tensor('x', [2, 3], 'int8', q(1, 1)), tensor('y', [2], 'int8', q(1, 0))];
    // rows (1, 2, 3) and (4, 5, 6) with zero point 1: means 1 and 4
    expect(run(meanNode([-1]), tensors, Int8Array.from([1, 2, 3, 4, 5, 6]))).toEqual([1, 4]);
  });
});

function softmaxOf(values: number[], scale: number, beta = 1): number[] {
  const node: SoftmaxNode = { name: 'softmax', op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { beta } };
  return run(node, [tensor('x', [1, values.length], 'int8', q(scale, 0)), tensor('y', [1, values.length], 'int8', q(1 / 256, -128))], Int8Array.from(values));
}

describe('Softmax', () => {
  it('gives exactly 1/2 to two equal inputs and saturates a single one', () => {
    expect(softmaxOf([7, 7], 0.1)).toEqual([0, 0]);
    expect(softmaxOf([-3], 0.1)).toEqual([127]);
  });

  it('follows the float softmax within 1 LSB (TFLite-Micro softmax_test inputs 1..5 at scale 0.1)', () => {
    const out = softmaxOf([10, 20, 30, 40, 50], 0.1);
    const golden = [0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647];
    out.forEach((v, i) => expect(Math.abs(v - (golden[i]! * 256 - 128))).toBeLessThanOrEqual(1));
    const wide = softmaxOf([-128, -90, -3, 0, 5, 127, 126, 60], 0.05, 1.5);
    const e = [-128, -90, -3, 0, 5, 127, 126, 60].map((v) => Math.exp(1.5 * Math.fround(0.05) * (v - 127)));
    const sum = e.reduce((a, b) => a + b, 0);
    wide.forEach((v, i) => expect(Math.abs(v - Math.min(127, (e[i]! / sum) * 256 - 128))).toBeLessThanOrEqual(1));
  });

  it('rejects an output quantization other than 1/256, -128', () => {
    const node: SoftmaxNode = { name: 'sm', op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { beta: 1 } };
    expect(() => run(node, [tensor('x', [1, 2], 'int8', q(0.1, 0)), tensor('y', [1, 2], 'int8', q(1 / 128, 0))], new Int8Array(2))).toThrow(/'sm'.*1\/256/);
  });
});

function unaryNode(op: UnaryNode['op']): UnaryNode {
  return { name: op.toLowerCase(), op, inputs: ['x'], outputs: ['y'], attrs: {} };
}

function lutOf(op: UnaryNode['op'], inQ: [number, number], outQ: [number, number]): Int8Array {
  const graph = singleNodeGraph(unaryNode(op), [tensor('x', [256], 'int8', q(...inQ)), tensor('y', [256], 'int8', q(...outQ))]);
  return unaryLut(graph, graph.nodes[0] as UnaryNode);
}

function expectCloseToFloat(table: Int8Array, inQ: [number, number], outQ: [number, number], f: (x: number) => number, tolerance: number): void {
  for (let x = -128; x <= 127; x++) {
    const real = f(Math.fround(inQ[0]) * (x - inQ[1]));
    const ideal = Math.min(127, Math.max(-128, real / Math.fround(outQ[0]) + outQ[1]));
    expect(Math.abs(table[x + 128]! - ideal), `x = ${x}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('Logistic / Tanh / HardSwish', () => {
  it('runs the fixed-point logistic and tanh of TFLite-Micro: within 1 LSB of the functions', () => {
    const logistic = lutOf('Logistic', [0.0625, 3], [1 / 256, -128]);
    expect(logistic[3 + 128]).toBe(0); // logistic(0) = 1/2
    expectCloseToFloat(logistic, [0.0625, 3], [1 / 256, -128], (v) => 1 / (1 + Math.exp(-v)), 1);
    const tanh = lutOf('Tanh', [0.03, -5], [1 / 128, 0]);
    expect(tanh[-5 + 128]).toBe(0);
    expectCloseToFloat(tanh, [0.03, -5], [1 / 128, 0], Math.tanh, 1);
  });

  it('falls back to a float table for other output quantizations', () => {
    expectCloseToFloat(lutOf('Logistic', [0.1, 0], [1 / 200, -100]), [0.1, 0], [1 / 200, -100], (v) => 1 / (1 + Math.exp(-v)), 0.5);
  });

  it('runs TFLite-Micro hard_swish arithmetic: close to x * relu6(x + 3) / 6', () => {
    const hardSwish = (v: number) => (v * Math.min(6, Math.max(0, v + 3))) / 6;
    const table = lutOf('HardSwish', [0.05, -10], [0.03, -60]);
    expect(table[-10 + 128]).toBe(-60);
    expectCloseToFloat(table, [0.05, -10], [0.03, -60], hardSwish, 1);
    expect(Array.from(run(unaryNode('HardSwish'), [tensor('x', [3], 'int8', q(0.05, -10)), tensor('y', [3], 'int8', q(0.03, -60))], Int8Array.from([-10, 127, -128])))).toEqual([
      table[-10 + 128],
      table[127 + 128],
      table[0],
    ]);
  });
});

describe('Relu / Relu6 / Neg / LeakyRelu', () => {
  it('clamps and rescales as TFLite-Micro does', () => {
    expect(run(unaryNode('Relu'), [tensor('x', [3], 'int8', q(0.1, -10)), tensor('y', [3], 'int8', q(0.1, -10))], Int8Array.from([-20, 5, 127]))).toEqual([-10, 5, 127]);
    // Different scales: requantized by 0.1 / 0.2, clamped at the output zero point.
    expect(run(unaryNode('Relu'), [tensor('x', [3], 'int8', q(0.1, 0)), tensor('y', [3], 'int8', q(0.2, 4))], Int8Array.from([-20, 5, 7]))).toEqual([4, 7, 8]);
    // Relu6 in the input's domain: 6 / 0.1 = 60.
    expect(run(unaryNode('Relu6'), [tensor('x', [3], 'int8', q(0.1, 0)), tensor('y', [3], 'int8', q(0.1, 0))], Int8Array.from([-5, 30, 100]))).toEqual([0, 30, 60]);
    expect(run(unaryNode('Neg'), [tensor('x', [3], 'int8', q(0.1, 0)), tensor('y', [3], 'int8', q(0.1, 0))], Int8Array.from([-128, 5, 127]))).toEqual([127, -5, -127]);
  });

  it('scales negative inputs by alpha with its own multiplier (hand-checked)', () => {
    const node: LeakyReluNode = { name: 'lrelu', op: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0.25 } };
    // -6 * 0.25 = -1.5 rounds away from zero to -2.
    expect(run(node, [tensor('x', [4], 'int8', q(1, 0)), tensor('y', [4], 'int8', q(1, 0))], Int8Array.from([8, -8, -6, 0]))).toEqual([8, -2, -2, 0]);
  });
});

describe('Quantize / Dequantize', () => {
  const quantize = (rounding: 'half-even' | 'half-away'): QuantizeNode => ({
    name: 'quant',
    op: 'Quantize',
    inputs: ['x'],
    outputs: ['y'],
    attrs: { clamp: noClamp, rounding },
  });

  it('quantizes floats with the node rounding mode and saturates', () => {
    const tensors = [tensor('x', [5], 'float32'), tensor('y', [5], 'int8', q(0.5, 1))];
    const x = Float32Array.from([1.25, -1.25, 0.75, 1000, -1000]); // x / 0.5 = 2.5, -2.5, 1.5
    expect(run(quantize('half-away'), tensors, x)).toEqual([4, -2, 3, 127, -128]);
    expect(run(quantize('half-even'), tensors, x)).toEqual([3, -1, 3, 127, -128]);
  });

  it('requantizes int8 to int8 with MultiplyByQuantizedMultiplier', () => {
    const tensors = [tensor('x', [3], 'int8', q(1, 0)), tensor('y', [3], 'int8', q(2, 1))];
    // 5 / 2 = 2.5 -> 3 (+1); -5 / 2 = -2.5 -> -2 (ties go up in the doubling high multiply) (+1)
    expect(run(quantize('half-away'), tensors, Int8Array.from([5, -5, 127]))).toEqual([4, -1, 65]);
  });

  it('dequantizes to float32', () => {
    const node: DequantizeNode = { name: 'dq', op: 'Dequantize', inputs: ['x'], outputs: ['y'], attrs: {} };
    const out = runReference(singleNodeGraph(node, [tensor('x', [2], 'int8', q(0.5, 1)), tensor('y', [2], 'float32')]), [Int8Array.from([3, -2])]).outputs[0]!;
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual([1, -1.5]);
  });
});

describe('data movement', () => {
  it('reshapes, transposes, pads and concatenates', () => {
    const reshape: ReshapeNode = { name: 'r', op: 'Reshape', inputs: ['x'], outputs: ['y'], attrs: { shape: [3, 2] } };
    expect(run(reshape, [tensor('x', [2, 3], 'int8', q(1, 0)), tensor('y', [3, 2], 'int8', q(1, 0))], Int8Array.from([1, 2, 3, 4, 5, 6]))).toEqual([1, 2, 3, 4, 5, 6]);

    const transpose: TransposeNode = { name: 't', op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [1, 0] } };
    expect(run(transpose, [tensor('x', [2, 3], 'int8', q(1, 0)), tensor('y', [3, 2], 'int8', q(1, 0))], Int8Array.from([1, 2, 3, 4, 5, 6]))).toEqual([1, 4, 2, 5, 3, 6]);
    const nchw: TransposeNode = { name: 't4', op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 3, 1, 2] } };
    expect(run(nchw, [tensor('x', [1, 2, 2, 2], 'int8'), tensor('y', [1, 2, 2, 2], 'int8')], Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toEqual([1, 3, 5, 7, 2, 4, 6, 8]);

    const pad: PadNode = { name: 'p', op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { before: [1, 0], after: [0, 1], value: -3 } };
    expect(run(pad, [tensor('x', [2, 2], 'int8', q(1, -3)), tensor('y', [3, 3], 'int8', q(1, -3))], Int8Array.from([1, 2, 3, 4]))).toEqual([-3, -3, -3, 1, 2, -3, 3, 4, -3]);
    const crop: PadNode = { name: 'c', op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { before: [0, -1], after: [0, 0], value: 0 } };
    expect(run(crop, [tensor('x', [2, 2], 'int8'), tensor('y', [2, 1], 'int8')], Int8Array.from([1, 2, 3, 4]))).toEqual([2, 4]);

    const concat: ConcatNode = { name: 'cat', op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: -1 } };
    const tensors = [tensor('a', [2, 1], 'int8', q(0.5, 0)), tensor('b', [2, 2], 'int8', q(1, 0)), tensor('y', [2, 3], 'int8', q(1, 0))];
    // a is requantized by 0.5: 3 -> 1.5 -> 2, -3 -> -1.5 -> -1
    expect(run(concat, tensors, Int8Array.from([3, -3]), Int8Array.from([1, 2, 3, 4]))).toEqual([2, 1, 2, -1, 3, 4]);
  });

  it('runs float ops through the ONNX frontend semantics', () => {
    const node: FloatOpNode = { name: 'round', op: 'FloatOp', inputs: ['x'], outputs: ['y'], attrs: { onnxOp: 'Round', params: {} } };
    expect(run(node, [tensor('x', [3], 'float32'), tensor('y', [3], 'float32')], Float32Array.from([0.5, 1.5, -2.5]))).toEqual([0, 2, -2]);
  });
});
