/**
 * Which channels of each int8 activation hold one value everywhere, whatever the graph input — the trace that
 * structured pruning leaves in a quantized graph (a filter whose weights are all zero outputs requantize(bias) + Z,
 * clamped, at every position), followed through the ops that keep channels apart.
 *
 * Whether a channel is constant is decided from the structure (which weights are zero, which input channels a filter
 * reads, whether padding can change what a window sees); its value is then asked of the reference interpreter, so it is
 * exactly what the kernel computes.
 */
import { elementCount } from '../ir/graph.js';
import type { Conv2DNode, DepthwiseConv2DNode, FullyConnectedNode, Graph, Node, Padding2D, Tensor } from '../ir/types.js';
import { channelCount, channelwiseKind, weightZeroPoint } from './channels.js';
import { runSingleNode } from './reference-probe.js';

/** Constant channels of one tensor: channel -> its int8 value. */
export type ChannelConstants = Map<number, number>;

export function constantChannels(graph: Graph): Map<string, ChannelConstants> {
  const constants = new Map<string, ChannelConstants>();
  for (const node of graph.nodes) {
    if (node.outputs.length !== 1) continue;
    const input = graph.tensors.get(node.inputs[0] ?? '');
    const output = graph.tensors.get(node.outputs[0]!)!;
    if (!input || input.data || input.dtype !== 'int8' || output.dtype !== 'int8' || !input.quant || !output.quant) continue;
    const known = constants.get(input.name) ?? new Map<number, number>();
    const candidates = constantOutputs(graph, node, input, known);
    if (candidates.length === 0) continue;
    const values = node.op === 'Reshape' ? known : probeValues(graph, node, input, known);
    const found: ChannelConstants = new Map();
    for (const channel of candidates) {
      const value = values.get(channel);
      if (value !== undefined) found.set(channel, value);
    }
    if (found.size > 0) constants.set(output.name, found);
  }
  return constants;
}

/** Output channels of `node` that are constant given the input's constant channels (structure only). */
function constantOutputs(graph: Graph, node: Node, input: Tensor, known: ChannelConstants): number[] {
  const inputZeroPoint = input.quant!.zeroPoint[0]!;
  /** Input channels whose values are known and, under padding, equal to what a padded tap contributes (Z). */
  const usable = (channels: Iterable<number>, padding: Padding2D | null): boolean => {
    for (const c of channels) {
      const value = known.get(c);
      if (value === undefined || (padding && !noPadding(padding) && value !== inputZeroPoint)) return false;
    }
    return true;
  };
  switch (node.op) {
    case 'Conv2D':
      return range(weightsOf(graph, node).shape[0]!).filter((o) => usable(convChannelsRead(graph, node, o), node.attrs.padding));
    case 'DepthwiseConv2D':
      return range(weightsOf(graph, node).shape[3]!).filter((o) => usable(depthwiseChannelsRead(graph, node, o), node.attrs.padding));
    case 'FullyConnected': {
      const depth = weightsOf(graph, node).shape[1]!;
      const channels = channelCount(input);
      if (depth % channels !== 0) return [];
      return range(weightsOf(graph, node).shape[0]!).filter((o) => usable(fullyConnectedChannelsRead(graph, node, o, channels), null));
    }
    default:
      return channelwiseKind(graph, node) ? [...known.keys()] : [];
  }
}

/** Input channels that filter `o` of a Conv2D multiplies by a non-zero effective weight. */
function convChannelsRead(graph: Graph, node: Conv2DNode, o: number): Set<number> {
  const weights = weightsOf(graph, node);
  const [outputs, kh, kw, groupChannels] = weights.shape as [number, number, number, number];
  const base = Math.floor(o / (outputs / node.attrs.groups)) * groupChannels;
  const zero = weightZeroPoint(weights, o);
  const data = weights.data!;
  const read = new Set<number>();
  for (let tap = 0; tap < kh * kw; tap++) {
    for (let c = 0; c < groupChannels; c++) if (Number(data[(o * kh * kw + tap) * groupChannels + c]) !== zero) read.add(base + c);
  }
  return read;
}

function depthwiseChannelsRead(graph: Graph, node: DepthwiseConv2DNode, o: number): Set<number> {
  const weights = weightsOf(graph, node);
  const [, kh, kw, outputs] = weights.shape as [number, number, number, number];
  const zero = weightZeroPoint(weights, o);
  for (let tap = 0; tap < kh * kw; tap++) {
    if (Number(weights.data![tap * outputs + o]) !== zero) return new Set([Math.floor(o / node.attrs.depthMultiplier)]);
  }
  return new Set();
}

function fullyConnectedChannelsRead(graph: Graph, node: FullyConnectedNode, o: number, channels: number): Set<number> {
  const weights = weightsOf(graph, node);
  const depth = weights.shape[1]!;
  const zero = weightZeroPoint(weights, o);
  const read = new Set<number>();
  for (let j = 0; j < depth; j++) if (Number(weights.data![o * depth + j]) !== zero) read.add(j % channels);
  return read;
}

/**
 * Runs the node on an input whose known channels hold their constants (the others their zero point) and reads every
 * output channel's value; a channel that is not the same at every position is left out.
 */
function probeValues(graph: Graph, node: Node, input: Tensor, known: ChannelConstants): ChannelConstants {
  const channels = channelCount(input);
  const zeroPoint = input.quant!.zeroPoint[0]!;
  const data = new Int8Array(elementCount(input.shape));
  for (let i = 0; i < data.length; i++) data[i] = known.get(i % channels) ?? zeroPoint;
  let result: Int8Array;
  try {
    result = runSingleNode(graph, node, [data])[0] as Int8Array;
  } catch {
    return new Map(); // what the reference cannot run has no known constants
  }
  const outputChannels = channelCount(graph.tensors.get(node.outputs[0]!)!);
  const values: ChannelConstants = new Map();
  for (let c = 0; c < outputChannels; c++) {
    let constant = true;
    for (let i = c + outputChannels; i < result.length && constant; i += outputChannels) constant = result[i] === result[c];
    if (constant) values.set(c, result[c]!);
  }
  return values;
}

function weightsOf(graph: Graph, node: Node): Tensor {
  return graph.tensors.get(node.inputs[1]!)!;
}

export function noPadding(padding: Padding2D): boolean {
  return padding.top === 0 && padding.bottom === 0 && padding.left === 0 && padding.right === 0;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
