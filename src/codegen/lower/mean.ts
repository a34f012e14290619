/**
 * Mean -> te_mean_s8 over any set of axes: per output element an int32 sum over the reduced axes, then the
 * truncating average (same quantization in and out) or the requantized mean, as src/quant/params.ts decides.
 */
import { NodeError } from '../../errors.js';
import { elementCount, stridesOf } from '../../ir/graph.js';
import type { Graph, MeanNode } from '../../ir/types.js';
import { meanParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';
import { mergeAxes } from './loops.js';

export function lowerMean(graph: Graph, node: MeanNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8');
  requireDtype(node, output, 'output', 'int8');
  const shape = input.shape;
  const rank = shape.length;
  const reduced = new Set(node.attrs.axes.map((a) => (a < 0 ? a + rank : a)));
  for (const axis of reduced) {
    if (axis < 0 || axis >= rank) throw new NodeError(node.name, node.op, `axis ${axis} is out of range for rank ${rank}`);
  }
  const strides = stridesOf(shape);
  const kept = mergeAxes(shape.map((d, axis) => (reduced.has(axis) ? 1 : d)), [strides]);
  const summed = mergeAxes(shape.map((d, axis) => (reduced.has(axis) ? d : 1)), [strides]);
  const outCount = shape.reduce((n, d, axis) => (reduced.has(axis) ? n : n * d), 1);
  if (outCount !== elementCount(output.shape)) {
    throw new NodeError(node.name, node.op, `output has ${elementCount(output.shape)} elements, the reduction gives ${outCount}`);
  }
  const p = meanParams(graph, node);
  return {
    template: 'te_mean_s8',
    name: 'te_mean_s8',
    params: {
      kept: kept.map((a, index) => ({ index, extent: a.extent, stride: a.strides[0]! })),
      summed: summed.map((a, index) => ({ index, extent: a.extent, stride: a.strides[0]! })),
      average: p.mode === 'average',
      count: p.count,
      inputZeroPoint: p.inputZeroPoint,
      outputZeroPoint: p.outputZeroPoint,
      multiplier: p.multiplier,
      shift: p.shift,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}
