/**
 * Weight sparsity per layer (an analysis: the graph is not changed). Code generation decides whether a layer is worth a
 * compressed form; `inspect` reports the numbers.
 *
 * A weight counts as zero when it equals its channel's weight zero point (0 for TFLite weights): then its product
 * (w - Z_w) * (x - Z_in) is 0 for every input, which is what a sparse kernel may skip. Channels whose weights are all
 * zero are counted separately: they are structured pruning, which remove-pruned-channels turns into fewer channels.
 */
import type { Graph, Node } from '../ir/types.js';
import { weightZeroPoint, type WeightedNode } from './channels.js';

export interface LayerSparsity {
  node: string;
  op: WeightedNode['op'];
  weights: string;
  /** Number of weights, and how many of them are zero. */
  elements: number;
  zeros: number;
  /** zeros / elements. */
  sparsity: number;
  /** Output channels, and how many of them have only zero weights. */
  channels: number;
  zeroChannels: number;
}

export interface SparsityReport {
  layers: LayerSparsity[];
  /** Totals over distinct weight tensors. */
  elements: number;
  zeros: number;
  sparsity: number;
}

export function analyzeSparsity(graph: Graph): SparsityReport {
  const layers = graph.nodes.filter(isWeighted).map((node) => layerSparsity(graph, node));
  const counted = new Set<string>();
  let elements = 0;
  let zeros = 0;
  for (const layer of layers) {
    if (counted.has(layer.weights)) continue;
    counted.add(layer.weights);
    elements += layer.elements;
    zeros += layer.zeros;
  }
  return { layers, elements, zeros, sparsity: elements ? zeros / elements : 0 };
}

function isWeighted(node: Node): node is WeightedNode {
  return node.op === 'Conv2D' || node.op === 'DepthwiseConv2D' || node.op === 'FullyConnected';
}

function layerSparsity(graph: Graph, node: WeightedNode): LayerSparsity {
  const weights = graph.tensors.get(node.inputs[1]!)!;
  const data = weights.data!;
  const channelAxis = node.op === 'DepthwiseConv2D' ? 3 : 0;
  const channels = weights.shape[channelAxis]!;
  // OHWI / [Cout, Cin]: channel-major rows; [1, kh, kw, C]: the channel is the fastest axis.
  const channelOf = channelAxis === 0 ? (i: number) => Math.floor(i / (data.length / channels)) : (i: number) => i % channels;
  const nonZeroChannels = new Set<number>();
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const channel = channelOf(i);
    if (Number(data[i]) === weightZeroPoint(weights, channel)) zeros++;
    else nonZeroChannels.add(channel);
  }
  return {
    node: node.name,
    op: node.op,
    weights: weights.name,
    elements: data.length,
    zeros,
    sparsity: data.length ? zeros / data.length : 0,
    channels,
    zeroChannels: channels - nonZeroChannels.size,
  };
}
