/**
 * MEAN int8 over any set of axes (tflite-micro reduce_common.cc EvalIntegerMean): the int32 sum of the raw inputs
 * per output element, then either the truncating integer average (input and output quantization equal) or
 * (sum - Z_in * count) requantized with a multiplier that includes 1/count.
 */
import { NodeError } from '../../errors.js';
import { stridesOf } from '../../ir/graph.js';
import type { Graph, MeanNode, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../../quant/fixedpoint.js';
import { meanParams } from '../../quant/params.js';
import { allocateInt8Output, inputTensor, numbers, required, type KernelInputs } from './common.js';

export function mean(graph: Graph, node: MeanNode, inputs: KernelInputs): TensorData[] {
  const p = meanParams(graph, node);
  const shape = inputTensor(graph, node, 0).shape;
  const rank = shape.length;
  const reduced = new Set(node.attrs.axes.map((a) => (a < 0 ? a + rank : a)));
  for (const axis of reduced) {
    if (axis < 0 || axis >= rank) throw new NodeError(node.name, node.op, `axis ${axis} is out of range for rank ${rank}`);
  }
  const x = numbers(required(node, inputs, 0, 'input'));
  const output = allocateInt8Output(graph, node);

  // Output strides over the kept axes (0 on reduced ones) map each input element to its output element.
  const keptShape = shape.map((d, axis) => (reduced.has(axis) ? 1 : d));
  const keptStrides = stridesOf(keptShape).map((s, axis) => (reduced.has(axis) ? 0 : s));
  const outCount = keptShape.reduce((a, b) => a * b, 1);
  if (outCount !== output.length) {
    throw new NodeError(node.name, node.op, `output has ${output.length} elements, the reduction gives ${outCount}`);
  }
  const sums = new Int32Array(outCount);
  const index = new Array<number>(rank).fill(0);
  let target = 0;
  for (let i = 0; i < x.length; i++) {
    sums[target] = sums[target]! + x[i]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      target += keptStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      target -= keptStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }

  for (let o = 0; o < outCount; o++) {
    if (p.mode === 'average') {
      output[o] = Math.trunc(sums[o]! / p.count);
    } else {
      const shifted = (sums[o]! - p.inputZeroPoint * p.count) | 0;
      const v = multiplyByQuantizedMultiplier(shifted, p.multiplier, p.shift) + p.outputZeroPoint;
      output[o] = v < -128 ? -128 : v > 127 ? 127 : v;
    }
  }
  return [output];
}
