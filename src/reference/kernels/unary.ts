/**
 * LOGISTIC, TANH, HARD_SWISH, NEG, RELU, RELU6 on int8: each maps 256 input values to 256 outputs, so the kernel
 * is a look-up in the table src/quant/params.ts computes with TFLite-Micro's arithmetic (the same table code
 * generation emits).
 */
import { NodeError } from '../../errors.js';
import type { Graph, TensorData, UnaryNode } from '../../ir/types.js';
import { unaryLut } from '../../quant/params.js';
import { allocateInt8Output, dtypeOfData, required, type KernelInputs } from './common.js';

export function unary(graph: Graph, node: UnaryNode, inputs: KernelInputs): TensorData[] {
  const x = required(node, inputs, 0, 'input');
  if (!(x instanceof Int8Array)) throw new NodeError(node.name, node.op, `input is ${dtypeOfData(x)}; this kernel takes int8`);
  return [applyLut(unaryLut(graph, node), x, allocateInt8Output(graph, node))];
}

/** output[i] = table[x[i] + 128]. */
export function applyLut(table: Int8Array, x: Int8Array, output: Int8Array): Int8Array {
  for (let i = 0; i < x.length; i++) output[i] = table[x[i]! + 128]!;
  return output;
}
