/**
 * CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, BATCH_MATMUL: hand-checked cases, and random cases against a naive
 * oracle written differently (explicit zero-point padding, BigInt requantization).
 */
import { describe, expect, it } from 'vitest';
import type { Conv2DNode, DepthwiseConv2DNode, FullyConnectedNode, BatchMatMulNode, Padding2D } from '../../src/ir/types.js';
import { quantizeMultiplier } from '../../src/quant/fixedpoint.js';
import { convParams, fullyConnectedParams } from '../../src/quant/params.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mbqmBigInt, noClamp, noPadding, q, randomInt32, randomInt8, singleNodeGraph, tensor } from './graph-builder.js';

function conv(name: string, attrs: Partial<Conv2DNode['attrs']>, bias = true): Conv2DNode {
  return {
    name,
    op: 'Conv2D',
    inputs: ['x', 'w', bias ? 'b' : ''],
    outputs: ['y'],
    attrs: { stride: [1, 1], dilation: [1, 1], padding: noPadding, groups: 1, clamp: noClamp, ...attrs },
  };
}

/** Naive grouped / depthwise convolution over an explicitly zero-point-padded input. */
function naiveConv(opts: {
  x: Int8Array;
  inShape: number[];
  w: Int8Array;
  kH: number;
  kW: number;
  outC: number;
  groups: number | 'depthwise';
  depthMultiplier?: number;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding2D;
  zx: number;
  zw: number[];
  bias?: Int32Array;
}): { outShape: number[]; acc: number[] } {
  const [n, h, wd, c] = opts.inShape as [number, number, number, number];
  const ph = h + opts.padding.top + opts.padding.bottom;
  const pw = wd + opts.padding.left + opts.padding.right;
  const padded = (b: number, y: number, x: number, ch: number) => {
    const iy = y - opts.padding.top;
    const ix = x - opts.padding.left;
    return iy < 0 || iy >= h || ix < 0 || ix >= wd ? opts.zx : opts.x[((b * h + iy) * wd + ix) * c + ch]!;
  };
  const effH = (opts.kH - 1) * opts.dilation[0] + 1;
  const effW = (opts.kW - 1) * opts.dilation[1] + 1;
  const outH = Math.floor((ph - effH) / opts.stride[0]) + 1;
  const outW = Math.floor((pw - effW) / opts.stride[1]) + 1;
  const acc: number[] = [];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let oc = 0; oc < opts.outC; oc++) {
          let sum = opts.bias ? opts.bias[oc]! : 0;
          const zw = opts.zw.length === 1 ? opts.zw[0]! : opts.zw[oc]!;
          for (let ky = 0; ky < opts.kH; ky++)
            for (let kx = 0; kx < opts.kW; kx++) {
              const y = oy * opts.stride[0] + ky * opts.dilation[0];
              const x = ox * opts.stride[1] + kx * opts.dilation[1];
              if (opts.groups === 'depthwise') {
                const ic = Math.floor(oc / opts.depthMultiplier!);
                sum += (padded(b, y, x, ic) - opts.zx) * (opts.w[(ky * opts.kW + kx) * opts.outC + oc]! - zw);
              } else {
                const kC = c / opts.groups;
                const group = Math.floor(oc / (opts.outC / opts.groups));
                for (let ic = 0; ic < kC; ic++) {
                  sum += (padded(b, y, x, group * kC + ic) - opts.zx) * (opts.w[((oc * opts.kH + ky) * opts.kW + kx) * kC + ic]! - zw);
                }
              }
            }
          acc.push(sum);
        }
  return { outShape: [n, outH, outW, opts.outC], acc };
}

function requantizeAll(acc: number[], channels: number, mult: Int32Array, shifts: Int32Array, zo: number, min = -128, max = 127): number[] {
  return acc.map((a, i) => Math.min(max, Math.max(min, mbqmBigInt(a, mult[i % channels]!, shifts[i % channels]!) + zo)));
}

describe('Conv2D', () => {
  it('computes a hand-checked 2x2 convolution with bias, rounding and output offset', () => {
    // Real values: x = 0.5 * q, w = 0.5 * q, y = 0.5 * (q - 3): M = 0.5 * 0.5 / 0.5 = 0.5.
    const graph = singleNodeGraph(conv('c', {}), [
      tensor('x', [1, 3, 3, 1], 'int8', q(0.5, 0)),
      tensor('w', [1, 2, 2, 1], 'int8', q(0.5, 0), Int8Array.from([1, 1, 1, 1])),
      tensor('b', [1], 'int32', q(0.25, 0), Int32Array.from([1])),
      tensor('y', [1, 2, 2, 1], 'int8', q(0.5, 3)),
    ]);
    const { outputs } = runReference(graph, [Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])]);
    // Window sums 12, 16, 24, 28, plus bias 1: 13, 17, 25, 29; halved with ties up: 7, 9, 13, 15; plus 3.
    expect(Array.from(outputs[0]!)).toEqual([10, 12, 16, 18]);
  });

  it('matches the naive oracle with padding, stride, dilation, groups, per-channel scales and a ReLU clamp', () => {
    const inShape = [2, 7, 6, 4];
    const groups = 2;
    const outC = 6;
    const [kH, kW] = [3, 2];
    const x = randomInt8(2 * 7 * 6 * 4, 21);
    const w = randomInt8(outC * kH * kW * (4 / groups), 22, -127, 127);
    const bias = randomInt32(outC, 23, -3000, 3000);
    const wScales = [0.011, 0.02, 0.0071, 0.013, 0.05, 0.009];
    const padding = { top: 1, bottom: 2, left: 2, right: 0 };
    const stride: [number, number] = [2, 1];
    const dilation: [number, number] = [2, 2];
    const oracle = naiveConv({ x, inShape, w, kH, kW, outC, groups, stride, dilation, padding, zx: -7, zw: [0], bias });
    const node = conv('grouped', { stride, dilation, padding, groups, clamp: { min: -20, max: 127 } });
    const graph = singleNodeGraph(node, [
      tensor('x', inShape, 'int8', q(0.05, -7)),
      tensor('w', [outC, kH, kW, 4 / groups], 'int8', q(wScales, 0), w),
      tensor('b', [outC], 'int32', undefined, bias),
      tensor('y', oracle.outShape, 'int8', q(0.07, -20)),
    ]);
    const p = convParams(graph, node);
    wScales.forEach((s, c) => {
      expect(p.multipliers[c]).toBe(quantizeMultiplier((Math.fround(0.05) * Math.fround(s)) / Math.fround(0.07)).multiplier);
    });
    const expected = requantizeAll(oracle.acc, outC, p.multipliers, p.shifts, -20, -20, 127);
    expect(Array.from(runReference(graph, [x]).outputs[0]!)).toEqual(expected);
  });

  it('supports non-zero weight zero points and an int32 accumulator output (ONNX ConvInteger)', () => {
    const inShape = [1, 5, 5, 3];
    const x = randomInt8(75, 31);
    const w = randomInt8(4 * 3 * 3 * 3, 32);
    const zw = [5, -3, 0, 17];
    const oracle = naiveConv({ x, inShape, w, kH: 3, kW: 3, outC: 4, groups: 1, stride: [1, 1], dilation: [1, 1], padding: noPadding, zx: 12, zw });
    const graph = singleNodeGraph(conv('ci', {}, false), [
      tensor('x', inShape, 'int8', q(1, 12)),
      tensor('w', [4, 3, 3, 3], 'int8', q(1, zw), w),
      tensor('y', oracle.outShape, 'int32'),
    ]);
    const out = runReference(graph, [x]).outputs[0]!;
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual(oracle.acc);
  });
});

describe('DepthwiseConv2D', () => {
  it('matches the naive oracle with a depth multiplier, padding and stride', () => {
    const inShape = [1, 9, 8, 3];
    const multiplier = 2;
    const outC = 6;
    const x = randomInt8(9 * 8 * 3, 41);
    const w = randomInt8(3 * 3 * outC, 42, -127, 127);
    const bias = randomInt32(outC, 43, -5000, 5000);
    const padding = { top: 1, bottom: 1, left: 1, right: 1 };
    const oracle = naiveConv({ x, inShape, w, kH: 3, kW: 3, outC, groups: 'depthwise', depthMultiplier: multiplier, stride: [2, 2], dilation: [1, 1], padding, zx: 3, zw: [0], bias });
    const node: DepthwiseConv2DNode = {
      name: 'dw',
      op: 'DepthwiseConv2D',
      inputs: ['x', 'w', 'b'],
      outputs: ['y'],
      attrs: { stride: [2, 2], dilation: [1, 1], padding, depthMultiplier: multiplier, clamp: noClamp },
    };
    const graph = singleNodeGraph(node, [
      tensor('x', inShape, 'int8', q(0.1, 3)),
      tensor('w', [1, 3, 3, outC], 'int8', q([0.01, 0.02, 0.03, 0.015, 0.025, 0.005], 0, 3), w),
      tensor('b', [outC], 'int32', undefined, bias),
      tensor('y', oracle.outShape, 'int8', q(0.2, 1)),
    ]);
    const p = convParams(graph, node);
    expect(Array.from(runReference(graph, [x]).outputs[0]!)).toEqual(requantizeAll(oracle.acc, outC, p.multipliers, p.shifts, 1));
  });
});

function fc(inputs: string[], keepNumDims = false): FullyConnectedNode {
  return { name: 'fc', op: 'FullyConnected', inputs, outputs: ['y'], attrs: { clamp: noClamp, keepNumDims } };
}

describe('FullyConnected', () => {
  it('computes a hand-checked product per tensor and per channel, without bias', () => {
    const w = Int8Array.from([1, 1, 1, 1, -1, 0]);
    const perTensor = singleNodeGraph(fc(['x', 'w', '']), [
      tensor('x', [1, 3], 'int8', q(1, 0)),
      tensor('w', [2, 3], 'int8', q(1, 0), w),
      tensor('y', [1, 2], 'int8', q(1, 0)),
    ]);
    expect(Array.from(runReference(perTensor, [Int8Array.from([1, 2, 3])]).outputs[0]!)).toEqual([6, -1]);
    const perChannel = singleNodeGraph(fc(['x', 'w', '']), [
      tensor('x', [1, 3], 'int8', q(1, 0)),
      tensor('w', [2, 3], 'int8', q([1, 0.5], 0), w),
      tensor('y', [1, 2], 'int8', q(1, 0)),
    ]);
    // -1 * 0.5 = -0.5 rounds up to 0 (SaturatingRoundingDoublingHighMul rounds ties towards +infinity).
    expect(Array.from(runReference(perChannel, [Int8Array.from([1, 2, 3])]).outputs[0]!)).toEqual([6, 0]);
  });

  it('derives the per-tensor multiplier from the float32 product of the scales, as TFLite-Micro does', () => {
    const [si, sw, so] = [0.024645552039146423, 0.0037927066441625357, 0.2621210217475891];
    const graph = singleNodeGraph(fc(['x', 'w', '']), [
      tensor('x', [1, 1], 'int8', q(si, 0)),
      tensor('w', [1, 1], 'int8', q(sw, 0), Int8Array.from([1])),
      tensor('y', [1, 1], 'int8', q(so, 0)),
    ]);
    const node = graph.nodes[0] as FullyConnectedNode;
    // Double arithmetic would give 1568360041; float32 (S_in * S_w) gives 1568360009.
    expect(fullyConnectedParams(graph, node).multipliers[0]).toBe(1568360009);
    expect(fullyConnectedParams(graph, node).shifts[0]).toBe(-11);
  });

  it('handles batches, input zero points and asymmetric (uint8-derived) weights', () => {
    const x = randomInt8(2 * 10, 51);
    const w = randomInt8(4 * 10, 52);
    const bias = randomInt32(4, 53, -1000, 1000);
    const graph = singleNodeGraph(fc(['x', 'w', 'b']), [
      tensor('x', [2, 1, 10], 'int8', q(0.03, -4)),
      tensor('w', [4, 10], 'int8', q(0.02, 9), w),
      tensor('b', [4], 'int32', undefined, bias),
      tensor('y', [2, 4], 'int8', q(0.3, 2)),
    ]);
    const m = quantizeMultiplier(Math.fround(Math.fround(0.03) * Math.fround(0.02)) / Math.fround(0.3));
    const expected: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let o = 0; o < 4; o++) {
        let acc = bias[o]!;
        for (let d = 0; d < 10; d++) acc += (w[o * 10 + d]! - 9) * (x[b * 10 + d]! + 4);
        expected.push(Math.min(127, Math.max(-128, mbqmBigInt(acc, m.multiplier, m.shift) + 2)));
      }
    expect(Array.from(runReference(graph, [x]).outputs[0]!)).toEqual(expected);
  });
});

describe('BatchMatMul', () => {
  it('multiplies broadcast batches with offsets, and returns raw int32 for MatMulInteger', () => {
    const lhs = Int8Array.from([1, 2, 3, 4, 5, 6, -1, 0, 2, 3, -2, 1]); // [2, 2, 3]
    const rhs = Int8Array.from([1, 0, -1, 2, 3, 1]); // [1, 3, 2]
    const node: BatchMatMulNode = { name: 'mm', op: 'BatchMatMul', inputs: ['a', 'b'], outputs: ['y'], attrs: { clamp: noClamp } };
    const raw = singleNodeGraph(node, [
      tensor('a', [2, 2, 3], 'int8', q(1, 1)),
      tensor('b', [1, 3, 2], 'int8', q(1, -1)),
      tensor('y', [2, 2, 2], 'int32'),
    ]);
    const expected: number[] = [];
    for (let batch = 0; batch < 2; batch++)
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 2; c++) {
          let acc = 0;
          for (let k = 0; k < 3; k++) acc += (lhs[batch * 6 + r * 3 + k]! - 1) * (rhs[k * 2 + c]! + 1);
          expected.push(acc);
        }
    expect(Array.from(runReference(raw, [lhs, rhs]).outputs[0]!)).toEqual(expected);
    const quantized = singleNodeGraph(node, [
      tensor('a', [2, 2, 3], 'int8', q(0.5, 1)),
      tensor('b', [1, 3, 2], 'int8', q(0.5, -1)),
      tensor('y', [2, 2, 2], 'int8', q(0.25, 0)),
    ]);
    // M = 0.5 * 0.5 / 0.25 = 1: the accumulators themselves.
    expect(Array.from(runReference(quantized, [lhs, rhs]).outputs[0]!)).toEqual(expected.map((v) => Math.min(127, Math.max(-128, v))));
  });
});
