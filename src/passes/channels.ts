/**
 * Channel bookkeeping shared by the passes that move or drop channels (fold-channel-shuffle, remove-pruned-channels):
 * which ops treat every channel on its own, and how a weighted op's constants are gathered along a channel axis.
 *
 * "Channel" is the last axis of an activation (NHWC's C, FullyConnected's output column).
 */
import type { Conv2DNode, DepthwiseConv2DNode, FullyConnectedNode, Graph, Node, Quantization, Tensor, TensorData } from '../ir/types.js';
import type { GraphEdit } from './graph-edit.js';

export type WeightedNode = Conv2DNode | DepthwiseConv2DNode | FullyConnectedNode;

export type ChannelwiseKind = 'depthwise' | 'constant-operand' | 'plain';

/**
 * How `node` relates its output channels to its input-0 channels, when output channel c depends only on input channel c:
 * 'depthwise' (a DepthwiseConv2D with multiplier 1: per-channel weights, bias and scales go along with the channel),
 * 'constant-operand' (Add, Sub or Mul of the activation and a constant that is one value or one value per channel:
 * that value goes along with the channel), 'plain' (pooling, activations, per-tensor requantization, a Reshape or Mean
 * that keeps the last axis: no per-channel constants), or null.
 */
export function channelwiseKind(graph: Graph, node: Node): ChannelwiseKind | null {
  const input = graph.tensors.get(node.inputs[0] ?? '');
  const output = graph.tensors.get(node.outputs[0] ?? '');
  if (!input || !output || input.data || node.outputs.length !== 1) return null;
  const channels = input.shape[input.shape.length - 1];
  if (channels === undefined || output.shape[output.shape.length - 1] !== channels) return null;
  if (!perTensor(input) || !perTensor(output)) return null;
  switch (node.op) {
    case 'DepthwiseConv2D':
      return node.attrs.depthMultiplier === 1 && output.dtype === 'int8' ? 'depthwise' : null;
    case 'AveragePool2D':
    case 'MaxPool2D':
    case 'Relu':
    case 'Relu6':
    case 'Neg':
    case 'Logistic':
    case 'Tanh':
    case 'HardSwish':
    case 'LeakyRelu':
    case 'Quantize':
      return 'plain';
    case 'Reshape':
      return 'plain';
    case 'Add':
    case 'Sub':
    case 'Mul': {
      const operand = graph.tensors.get(node.inputs[1]!)!;
      const sameShape = input.shape.length === output.shape.length && input.shape.every((d, i) => d === output.shape[i]);
      return sameShape && operand.data && isChannelVector(operand, channels) ? 'constant-operand' : null;
    }
    case 'Mean': {
      const rank = input.shape.length;
      const reducesChannels = node.attrs.axes.some((axis) => (axis < 0 ? axis + rank : axis) === rank - 1);
      return reducesChannels ? null : 'plain';
    }
    default:
      return null;
  }
}

/** A constant that broadcasts along every axis but the last, where it has one value or one per channel. */
function isChannelVector(tensor: Tensor, channels: number): boolean {
  const last = tensor.shape[tensor.shape.length - 1] ?? 1;
  return tensor.shape.slice(0, -1).every((d) => d === 1) && (last === 1 || last === channels);
}

/** A 'constant-operand' node with its per-channel constant gathered (out[j] = constant[indices[j]]); a single value stays. */
export function gatherChannelOperand(edit: GraphEdit, node: Node, indices: readonly number[]): Node {
  const operand = edit.tensor(node.inputs[1]!);
  if (operand.data!.length === 1) return node;
  const gathered = gatherTensor(operand, operand.shape.length - 1, indices);
  return { ...node, inputs: [node.inputs[0]!, placeConstant(edit, node, 1, gathered, `${node.name}_operand`)] } as Node;
}

/** Per-tensor quantized (or not quantized at all): a permutation or removal of channels leaves its parameters alone. */
function perTensor(tensor: Tensor): boolean {
  return !tensor.quant || tensor.quant.scale.length === 1;
}

/** Number of channels (last axis) of a tensor. */
export function channelCount(tensor: Tensor): number {
  return tensor.shape[tensor.shape.length - 1]!;
}

/** out[..., j, ...] = data[..., indices[j], ...] along `axis` of `shape`. */
export function gatherAxis<T extends TensorData>(data: T, shape: readonly number[], axis: number, indices: readonly number[]): T {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const size = shape[axis]!;
  const out = new (data.constructor as new (length: number) => T)(outer * indices.length * inner);
  const source = data as unknown as ArrayLike<number | bigint>;
  const target = out as unknown as { [i: number]: number | bigint };
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indices.length; j++) {
      const from = (o * size + indices[j]!) * inner;
      const to = (o * indices.length + j) * inner;
      for (let i = 0; i < inner; i++) target[to + i] = source[from + i]!;
    }
  }
  return out;
}

/**
 * A constant gathered along `axis` (its per-channel quantization too, when it is along that axis). With `view`, the
 * data is read in that shape instead, which splits the tensor's last axis (FullyConnected weights [Cout, depth] seen as
 * [Cout, depth / C, C]); the result keeps the tensor's own rank and quantization.
 */
export function gatherTensor(tensor: Tensor, axis: number, indices: readonly number[], view?: readonly number[]): Tensor {
  const data = gatherAxis(tensor.data!, view ?? tensor.shape, axis, indices);
  if (view) {
    const leading = tensor.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return { ...tensor, shape: [...tensor.shape.slice(0, -1), data.length / leading], data };
  }
  const shape = tensor.shape.map((d, i) => (i === axis ? indices.length : d));
  return { ...tensor, shape, data, ...(tensor.quant ? { quant: gatherQuantization(tensor.quant, axis, indices) } : {}) };
}

export function gatherQuantization(quant: Quantization, axis: number, indices: readonly number[]): Quantization {
  if (quant.scale.length === 1 || quant.axis !== axis) return quant;
  return { scale: indices.map((i) => quant.scale[i]!), zeroPoint: indices.map((i) => quant.zeroPoint[i]!), axis: quant.axis };
}

/** The axis of a weighted op's weights that holds its output channels. */
export function outputChannelAxis(node: WeightedNode): number {
  return node.op === 'DepthwiseConv2D' ? 3 : 0;
}

/** Bias as int32 (an int64 bias converted), or null when the node has none. */
export function biasValues(graph: Graph, node: WeightedNode): Int32Array | null {
  const name = node.inputs[2];
  if (!name) return null;
  const data = graph.tensors.get(name)!.data!;
  return data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Effective weight zero point of output channel c (TFLite weights: 0). */
export function weightZeroPoint(weights: Tensor, channel: number): number {
  const zeroPoints = weights.quant?.zeroPoint ?? [0];
  return zeroPoints.length === 1 ? zeroPoints[0]! : zeroPoints[channel]!;
}

export interface WeightedRewrite {
  /** Output channels to keep, in their new order (absent: all, unchanged). */
  outputs?: readonly number[];
  /**
   * Input channels (last axis of input 0, as the graph being edited has it when this is called) to keep, in their new
   * order; Conv2D with one group and FullyConnected only.
   */
  inputs?: readonly number[];
  /** Added to the bias of every (original) output channel, with int32 wrap-around as the accumulator has. */
  biasDelta?: Int32Array;
}

/**
 * `node` with its weights and bias gathered along output and/or input channels and the bias shifted by biasDelta.
 * Constants only this node reads keep their names; shared ones are copied under new names. Does not touch the
 * node's activation tensors (the caller reshapes those).
 */
export function rewriteWeighted(edit: GraphEdit, node: WeightedNode, rewrite: WeightedRewrite): WeightedNode {
  const graph = edit.graph;
  let weights = graph.tensors.get(node.inputs[1]!)!;
  const outputAxis = outputChannelAxis(node);
  const outputCount = weights.shape[outputAxis]!;
  if (rewrite.inputs) {
    if (node.op === 'Conv2D') {
      weights = gatherTensor(weights, 3, rewrite.inputs);
    } else if (node.op === 'FullyConnected') {
      const inputChannels = channelCount(graph.tensors.get(node.inputs[0]!)!);
      const [rows, depth] = weights.shape as [number, number];
      weights = gatherTensor(weights, 2, rewrite.inputs, [rows, depth / inputChannels, inputChannels]);
    } else {
      throw new Error(`internal: ${node.op} '${node.name}' cannot drop or reorder input channels on its own`);
    }
  }
  if (rewrite.outputs) weights = gatherTensor(weights, outputAxis, rewrite.outputs);

  const biasChanges = rewrite.biasDelta !== undefined || rewrite.outputs !== undefined;
  let bias = biasValues(graph, node);
  if (rewrite.biasDelta) {
    const base = bias ?? new Int32Array(outputCount);
    bias = base.map((b, c) => (b + rewrite.biasDelta![c]!) | 0);
  }
  if (bias && rewrite.outputs) bias = Int32Array.from(rewrite.outputs, (c) => bias![c]!);

  const inputs = [...node.inputs];
  inputs[1] = placeConstant(edit, node, 1, weights, `${node.name}_weights`);
  if (bias && biasChanges) {
    const existing = node.inputs[2] ? graph.tensors.get(node.inputs[2]) : undefined;
    const biasTensor: Tensor = existing
      ? { ...existing, dtype: 'int32', shape: [bias.length], data: bias, ...(existing.quant ? { quant: gatherQuantization(existing.quant, 0, rewrite.outputs ?? [...existing.quant.scale.keys()]) } : {}) }
      : { name: '', dtype: 'int32', shape: [bias.length], data: bias };
    inputs[2] = placeConstant(edit, node, 2, biasTensor, `${node.name}_bias`);
  }
  return { ...node, inputs } as WeightedNode;
}

/**
 * Store a rewritten constant for input `port` of `node`: under the old name when no other node reads it, otherwise
 * (or when the port was empty) under a new name.
 */
export function placeConstant(edit: GraphEdit, node: Node, port: number, tensor: Tensor, base: string): string {
  const old = node.inputs[port];
  const shared = old ? edit.consumers(old).some((other) => other !== node) : true;
  const name = !old || shared ? edit.uniqueTensorName(old ? `${old}_${node.name}` : base) : old;
  edit.setTensor({ ...tensor, name });
  return name;
}

/** The inverse of a permutation. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}
