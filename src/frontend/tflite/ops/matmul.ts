/** FULLY_CONNECTED (constant [Cout, Cin] weights) and BATCH_MATMUL (two run-time operands). */
import type { BatchMatMulNode, FullyConnectedNode } from '../../../ir/types.js';
import { elementCount } from '../../../ir/graph.js';
import { fullRange, fusedActivationClamp } from '../fused-activation.js';
import { batchMatMulAdjoints, fullyConnectedOptions } from '../options.js';
import {
  InvalidNode,
  type OperatorContext,
  Unsupported,
  requireBias,
  requireInt8Activation,
  requireInt8Weights,
  withOptionalBias,
} from './context.js';

export function importFullyConnected(context: OperatorContext): FullyConnectedNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const weights = requireInt8Weights(context.input(1, 'weights'), 'weights', 2, 0);
  const bias = context.optionalInput(2);
  const output = requireInt8Activation(context.output(), 'output');
  const options = fullyConnectedOptions(context.options('FullyConnectedOptions'));
  if (!options.plainWeights) throw new Unsupported('shuffled weights (SHUFFLED4x16INT8) are not supported');
  const [outChannels, inChannels] = weights.shape as [number, number];
  if (inChannels === 0 || elementCount(input.shape) % inChannels !== 0) {
    throw new InvalidNode(`input [${input.shape.join(', ')}] does not flatten into rows of ${inChannels}`);
  }
  if (output.shape[output.shape.length - 1] !== outChannels) {
    throw new InvalidNode(`output '${output.name}' has shape [${output.shape.join(', ')}], expected ${outChannels} columns`);
  }
  requireBias(bias, outChannels);
  return {
    op: 'FullyConnected',
    name: context.name,
    inputs: withOptionalBias(context.inputNames),
    outputs: [output.name],
    attrs: { clamp: fusedActivationClamp(options.activation, output), keepNumDims: options.keepNumDims },
  };
}

export function importBatchMatMul(context: OperatorContext): BatchMatMulNode {
  const left = requireInt8Activation(context.input(0, 'left operand'), 'left operand');
  const right = requireInt8Activation(context.input(1, 'right operand'), 'right operand');
  const output = requireInt8Activation(context.output(), 'output');
  const { adjX, adjY } = batchMatMulAdjoints(context.options('BatchMatMulOptions'));
  if (adjX || adjY) throw new Unsupported('transposed operands (adj_x / adj_y) are not supported');
  if (left.shape.length < 2 || right.shape.length < 2) {
    throw new InvalidNode('operands must have rank 2 or more');
  }
  if (left.shape[left.shape.length - 1] !== right.shape[right.shape.length - 2]) {
    throw new InvalidNode(`operands [${left.shape.join(', ')}] and [${right.shape.join(', ')}] do not multiply`);
  }
  return {
    op: 'BatchMatMul',
    name: context.name,
    inputs: [left.name, right.name],
    outputs: [output.name],
    attrs: { clamp: fullRange(output.dtype) },
  };
}
