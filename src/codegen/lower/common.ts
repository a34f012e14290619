/**
 * Pieces several lowerings share: tensor look-ups that name the node on failure, the requantizing output stage, and
 * the folding of the input offset into the bias.
 */
import { NodeError } from '../../errors.js';
import { tensorOf } from '../../ir/graph.js';
import type { Graph, Node, Tensor } from '../../ir/types.js';
import type { ConvParams } from '../../quant/params.js';
import type { ConstantArray } from '../kernel-call.js';

const INT32_MAX = 2147483647;

export function inputTensor(graph: Graph, node: Node, index: number): Tensor {
  const name = node.inputs[index];
  if (!name) throw new NodeError(node.name, node.op, `missing input ${index}`);
  return tensorOf(graph, name);
}

export function outputTensor(graph: Graph, node: Node, index = 0): Tensor {
  const name = node.outputs[index];
  if (!name) throw new NodeError(node.name, node.op, `missing output ${index}`);
  return tensorOf(graph, name);
}

export function constantData(node: Node, tensor: Tensor, port: string): NonNullable<Tensor['data']> {
  if (!tensor.data) throw new NodeError(node.name, node.op, `${port} '${tensor.name}' must be a constant for code generation`);
  return tensor.data;
}

export function requireDtype(node: Node, tensor: Tensor, port: string, ...dtypes: Tensor['dtype'][]): void {
  if (!dtypes.includes(tensor.dtype)) {
    throw new NodeError(node.name, node.op, `${port} '${tensor.name}' is ${tensor.dtype}; code generation supports ${dtypes.join(' or ')}`);
  }
}

/**
 * The operands of a weighted layer (convolution, depthwise, fully connected), checked alike: int8 input and constant
 * int8 weights, an int8 or int32 (unrequantized) output, and the ranks the kernel expects (null: any).
 */
export function weightedOperands(
  graph: Graph,
  node: Node,
  ranks: { input: number | null; weights: number; output: number | null },
): { input: Tensor; weights: Tensor; output: Tensor; weightData: NonNullable<Tensor['data']> } {
  const input = inputTensor(graph, node, 0);
  const weights = inputTensor(graph, node, 1);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8');
  requireDtype(node, weights, 'weights', 'int8');
  requireDtype(node, output, 'output', 'int8', 'int32');
  if (ranks.input !== null) requireRank(node, input, 'input', ranks.input);
  requireRank(node, weights, 'weights', ranks.weights);
  if (ranks.output !== null) requireRank(node, output, 'output', ranks.output);
  return { input, weights, output, weightData: constantData(node, weights, 'weights') };
}

export function requireRank(node: Node, tensor: Tensor, port: string, rank: number): void {
  if (tensor.shape.length !== rank) {
    throw new NodeError(node.name, node.op, `${port} '${tensor.name}' has shape [${tensor.shape}]; code generation expects rank ${rank}`);
  }
}

function allEqual(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * Template constants of the requantizing output stage. One multiplier/shift for all channels becomes a literal the
 * compiler folds; per-channel ones become const int32 arrays next to the weights.
 */
export function outputStage(params: ConvParams): { params: Record<string, unknown>; constants: ConstantArray[] } {
  if (params.int32Output) {
    return { params: { int32Output: true, perChannel: false, multiplier: 0, shift: 0, outputOffset: 0, min: 0, max: 0 }, constants: [] };
  }
  const common = { int32Output: false, outputOffset: params.outputOffset, min: params.clamp.min, max: params.clamp.max };
  if (allEqual(params.multipliers) && allEqual(params.shifts)) {
    return {
      params: { ...common, perChannel: false, multiplier: params.multipliers[0] ?? 0, shift: params.shifts[0] ?? 0 },
      constants: [],
    };
  }
  return {
    params: { ...common, perChannel: true, multiplier: 0, shift: 0 },
    constants: [
      { role: 'multipliers', ctype: 'int32_t', values: params.multipliers, describe: 'Q31 requantization multiplier per output channel' },
      { role: 'shifts', ctype: 'int32_t', values: params.shifts, describe: 'requantization shift per output channel' },
    ],
  };
}

/** Whether every weight zero point is 0 (TFLite's symmetric weights): the accumulation can then fold the input offset. */
export function symmetricWeights(params: ConvParams): boolean {
  return params.weightOffsets.every((o) => o === 0);
}

/**
 * bias[c] + inputOffset * sum_k w[c][k]: with it, the inner loop is a plain sum of x * w. Exact whenever the taps
 * that fall in padding hold the input zero point (x + inputOffset = 0), which the kernels guarantee.
 * `weightsPerChannel` consecutive weights belong to channel c (OHWI / [Cout, Cin] layouts).
 */
export function foldInputOffsetIntoBias(
  node: Node,
  params: ConvParams,
  weights: ArrayLike<number>,
  weightsPerChannel: number,
): Int32Array {
  const folded = new Int32Array(params.outputChannels);
  for (let c = 0; c < params.outputChannels; c++) {
    let sum = 0;
    for (let k = 0; k < weightsPerChannel; k++) sum += weights[c * weightsPerChannel + k]!;
    const value = (params.bias?.[c] ?? 0) + params.inputOffset * sum;
    checkAccumulatorBound(node, Math.abs(value) + weightsPerChannel * 128 * 128);
    folded[c] = value;
  }
  return folded;
}

/** The bias as an int32 array (zeros when absent), after checking the plain accumulation cannot overflow. */
export function plainBias(node: Node, params: ConvParams, tapsPerOutput: number): Int32Array {
  const bias = params.bias ? Int32Array.from(params.bias) : new Int32Array(params.outputChannels);
  for (const b of bias) checkAccumulatorBound(node, Math.abs(b) + tapsPerOutput * 255 * 255);
  return bias;
}

/** The int32 accumulator of the generated code must hold every partial sum, as TFLite-Micro's does. */
function checkAccumulatorBound(node: Node, bound: number): void {
  if (bound > INT32_MAX) {
    throw new NodeError(node.name, node.op, `its int32 accumulator can overflow (bound ${bound}); no int8 kernel can run it exactly`);
  }
}
