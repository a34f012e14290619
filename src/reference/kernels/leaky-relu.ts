/**
 * LEAKY_RELU int8 (reference_ops::QuantizeLeakyRelu): non-negative inputs rescaled by S_in / S_out, negative ones by
 * alpha * S_in / S_out, each with its own multiplier.
 */
import type { Graph, LeakyReluNode, TensorData } from '../../ir/types.js';
import { leakyReluParams, leakyReluValue } from '../../quant/params.js';
import { allocateInt8Output, numbers, required, type KernelInputs } from './common.js';

export function leakyRelu(graph: Graph, node: LeakyReluNode, inputs: KernelInputs): TensorData[] {
  const p = leakyReluParams(graph, node);
  const x = numbers(required(node, inputs, 0, 'input'));
  const output = allocateInt8Output(graph, node);
  for (let i = 0; i < x.length; i++) output[i] = leakyReluValue(p, x[i]!);
  return [output];
}
