/**
 * Concat, Pad, Transpose: pure data movement (Concat may requantize an input quantized unlike its output).
 * Element type follows the tensors' dtype.
 */
import { NodeError } from '../../errors.js';
import { elementCount, stridesOf } from '../../ir/graph.js';
import type { ConcatNode, Graph, PadNode, TransposeNode } from '../../ir/types.js';
import { concatParams } from '../../quant/params.js';
import { ctypeOf, type KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor } from './common.js';
import { loopView, mergeAxes } from './loops.js';
import { cFloat } from '../render.js';

/** Concat along an axis: per outer index, each input's contiguous chunk in turn. */
export function lowerConcat(graph: Graph, node: ConcatNode): KernelCall {
  const output = outputTensor(graph, node);
  const ctype = ctypeOf(output.dtype, node);
  const p = concatParams(graph, node);
  const outShape = output.shape;
  const outer = outShape.slice(0, p.axis).reduce((a, b) => a * b, 1);
  const inner = outShape.slice(p.axis + 1).reduce((a, b) => a * b, 1);
  const outRow = outShape[p.axis]! * inner;
  let offset = 0;
  const parts = node.inputs.map((name, port) => {
    const input = inputTensor(graph, node, port);
    if (input.dtype !== output.dtype) throw new NodeError(node.name, node.op, `input ${port} is ${input.dtype}, the output ${output.dtype}`);
    const chunk = (input.shape[p.axis] ?? 0) * inner;
    if (chunk * outer !== elementCount(input.shape)) {
      throw new NodeError(node.name, node.op, `input ${port} does not fit the output shape [${outShape}] along axis ${p.axis}`);
    }
    const requantize = p.inputs[port];
    if (requantize && output.dtype !== 'int8') throw new NodeError(node.name, node.op, `requantizing concat supports int8 only`);
    const part = { port, chunk, offset, requantize: requantize ?? false };
    offset += chunk;
    return part;
  });
  if (offset !== outRow) throw new NodeError(node.name, node.op, `inputs fill ${offset / inner} of ${outShape[p.axis]} output rows`);
  return {
    template: 'te_concat',
    name: `te_concat_${ctype.replace(/_t$/, '')}`,
    params: { ctype, outer, outRow, parts },
    inputs: [...node.inputs],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}

/** Pad (or crop, for negative amounts): fill with the pad value, then copy the input region that lands inside. */
export function lowerPad(graph: Graph, node: PadNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  const ctype = ctypeOf(output.dtype, node);
  const { before, after, value } = node.attrs;
  const shape = input.shape;
  const rank = shape.length;
  if (before.length !== rank || after.length !== rank || output.shape.some((d, i) => d !== shape[i]! + before[i]! + after[i]!)) {
    throw new NodeError(node.name, node.op, `pads [${before}] / [${after}] do not turn [${shape}] into [${output.shape}]`);
  }
  const inStrides = stridesOf(shape);
  const outStrides = stridesOf(output.shape);
  // Per axis the input indices [first, end) that land inside the output.
  const first = shape.map((_, axis) => Math.max(0, -before[axis]!));
  const end = shape.map((d, axis) => Math.min(d, output.shape[axis]! - before[axis]!));
  const empty = first.some((f, axis) => f >= end[axis]!);
  const inputStart = first.reduce((s, f, axis) => s + f * inStrides[axis]!, 0);
  const outputStart = first.reduce((s, f, axis) => s + (f + before[axis]!) * outStrides[axis]!, 0);
  const axes = empty ? [] : mergeAxes(first.map((f, axis) => end[axis]! - f), [inStrides, outStrides]);
  return {
    template: 'te_pad',
    name: `te_pad_${ctype.replace(/_t$/, '')}`,
    params: {
      ctype,
      outputCount: elementCount(output.shape),
      value: ctype === 'float' ? cFloat(value) : String(value),
      copy: !empty,
      inputStart,
      outputStart,
      loops: loopView(axes, ['strideIn', 'strideOut']),
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}

/** Transpose: the output walked in order, the input through permuted strides. */
export function lowerTranspose(graph: Graph, node: TransposeNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  const ctype = ctypeOf(output.dtype, node);
  const perm = node.attrs.perm;
  const rank = input.shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new NodeError(node.name, node.op, `perm [${perm}] is not a permutation of ${rank} axes`);
  }
  const inStrides = stridesOf(input.shape);
  const outShape = perm.map((p) => input.shape[p]!);
  const axes = mergeAxes(outShape, [perm.map((p) => inStrides[p]!)]);
  return {
    template: 'te_transpose',
    name: `te_transpose_${ctype.replace(/_t$/, '')}`,
    params: { ctype, loops: loopView(axes, ['strideIn']) },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}
