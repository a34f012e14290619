/**
 * fold-channel-shuffle: a movement chain (movement-chains.ts) that only permutes channels, Y[..., c] = X[..., P[c]]
 * (ShuffleNet's Reshape [N,H,W,g,C/g] -> Transpose -> Reshape [N,H,W,C]; in an ONNX import the same with the NCHW
 * round trip around it: Transpose to NCHW -> Reshape -> Transpose -> Reshape -> Transpose to NHWC), is folded into
 * weights at compile time and disappears. Two ways, tried in this order:
 *
 * 1. The producer of X writes its channels in Y's order: Conv2D (one group) and FullyConnected reorder their output
 *    channels (weight rows, bias, per-channel scales); ops that treat each channel on its own (DepthwiseConv2D with
 *    multiplier 1, pooling, activations, ...) reorder theirs and pass the permutation further up. X must have no
 *    other reader.
 * 2. Every reader of Y reads X instead: Conv2D (one group) and FullyConnected reorder their input-channel weights;
 *    channel-wise ops (also Add / Sub / Mul with a per-channel constant) reorder their per-channel constants, so
 *    their own output comes out permuted the same way, and pass the permutation on to their readers.
 *
 * Why it is safe: each channel's result is computed by exactly the same integer operations on the same values, only
 * stored at another channel index; a MAC op's accumulator is a sum over input channels in int32 (wrapping), whose
 * value does not depend on the order of its terms. Quantization of activations is per tensor, so moving a channel
 * moves nothing else.
 *
 * Not folded: grouped convolutions (a shuffle between two grouped convolutions, as in ShuffleNet v1, mixes the groups;
 * no reordering of either side's weights expresses it), readers or producers of other kinds, graph inputs/outputs.
 */
import type { Conv2DNode, FullyConnectedNode, Graph, Node } from '../ir/types.js';
import { channelCount, channelwiseKind, gatherChannelOperand, inversePermutation, rewriteWeighted, type ChannelwiseKind, type WeightedNode } from './channels.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { channelPermutation, elementSources, movementChains, type MovementChain } from './movement-chains.js';

/** Deferred rewrites, applied only once the whole fold is known to be possible. */
type Rewrite = (edit: GraphEdit) => void;

export function foldChannelShuffle(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  const tried = new Set<string>();
  for (;;) {
    const chain = movementChains(edit.graph).find((c) => !tried.has(c.output));
    if (!chain) break;
    tried.add(chain.output);
    foldChain(edit, chain);
  }
  return edit.result();
}

function foldChain(edit: GraphEdit, chain: MovementChain): void {
  const graph = edit.graph;
  const x = graph.tensors.get(chain.input)!;
  const y = graph.tensors.get(chain.output)!;
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i]) || !sameQuantization(x, y)) return;
  const perm = channelPermutation(elementSources(graph, chain), channelCount(y));
  if (!perm || edit.isGraphOutput(chain.output)) return;

  const nodes = chain.nodes.map((node) => `${node.op} '${node.name}'`).join(', ');
  const intoProducer = edit.consumers(chain.input).length === 1 ? producerRewrites(edit, chain.input, perm) : null;
  const rewrites = intoProducer ?? readerRewrites(edit, chain.output, perm);
  if (!rewrites) return;
  for (const rewrite of rewrites) rewrite(edit);
  for (const node of chain.nodes) edit.removeNode(node);
  edit.renameUses(chain.output, chain.input);
  edit.note(`folded the channel permutation ${nodes} into ${intoProducer ? 'the weights producing its input' : 'the weights reading its output'}`);
}

/**
 * Make `tensor` hold tensor'[c] = tensor[perm[c]] by reordering what computes it; null when impossible. `tensor` has
 * one reader, the node that asked.
 */
function producerRewrites(edit: GraphEdit, tensor: string, perm: readonly number[]): Rewrite[] | null {
  if (!edit.isInternal(tensor)) return null;
  const producer = edit.producer(tensor)!;
  if (isDenseWeighted(producer)) return [(e) => e.replaceNode(producer, rewriteWeighted(e, producer, { outputs: perm }))];
  const kind = channelwiseKind(edit.graph, producer);
  if (!kind) return null;
  const input = producer.inputs[0]!;
  if (edit.consumers(input).length !== 1) return null;
  const upstream = producerRewrites(edit, input, perm);
  if (!upstream) return null;
  return [...upstream, ...reorderChannelwise(producer, kind, perm)];
}

/**
 * Make every reader of `tensor` read tensor' instead, where tensor[c] = tensor'[perm[c]]; null when impossible.
 */
function readerRewrites(edit: GraphEdit, tensor: string, perm: readonly number[]): Rewrite[] | null {
  if (edit.isGraphOutput(tensor)) return null;
  const inverse = inversePermutation(perm);
  const rewrites: Rewrite[] = [];
  for (const reader of edit.consumers(tensor)) {
    if (reader.inputs.indexOf(tensor) !== 0 || reader.inputs.lastIndexOf(tensor) !== 0) return null;
    if (isDenseWeighted(reader)) {
      if (reader.op === 'FullyConnected' && !fullyConnectedReadsWholeRows(edit.graph, reader)) return null;
      rewrites.push((e) => e.replaceNode(reader, rewriteWeighted(e, reader, { inputs: inverse })));
      continue;
    }
    const kind = channelwiseKind(edit.graph, reader);
    if (!kind) return null;
    const downstream = readerRewrites(edit, reader.outputs[0]!, perm);
    if (!downstream) return null;
    rewrites.push(...downstream, ...reorderChannelwise(reader, kind, inverse));
  }
  return rewrites;
}

/** Reorder a channel-wise node's per-channel constants: new channel j takes old channel order[j]'s. */
function reorderChannelwise(node: Node, kind: ChannelwiseKind, order: readonly number[]): Rewrite[] {
  switch (kind) {
    case 'depthwise':
      return [(e) => e.replaceNode(node, rewriteWeighted(e, node as WeightedNode, { outputs: order }))];
    case 'constant-operand':
      return [(e) => e.replaceNode(node, gatherChannelOperand(e, node, order))];
    case 'plain':
      return [];
  }
}

/** Conv2D with one group or FullyConnected: a MAC op that sums over every input channel for each output channel. */
function isDenseWeighted(node: Node): node is Conv2DNode | FullyConnectedNode {
  return (node.op === 'Conv2D' && node.attrs.groups === 1) || node.op === 'FullyConnected';
}

/** A FullyConnected row (its depth) holds whole channel vectors of its input, so channel c sits at columns q * C + c. */
export function fullyConnectedReadsWholeRows(graph: Graph, node: Extract<Node, { op: 'FullyConnected' }>): boolean {
  const channels = channelCount(graph.tensors.get(node.inputs[0]!)!);
  const depth = graph.tensors.get(node.inputs[1]!)!.shape[1]!;
  return depth % channels === 0;
}
