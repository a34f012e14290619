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
 * 3. A grouped Conv2D producer stores its results in Y's order (Conv2D attrs.outputPositions: filter o is written to
 *    channel outputPositions[o]), reached through channel-wise ops as in 1. This is ShuffleNet v1's unit: 1x1 grouped conv
 *    -> shuffle -> 3x3 depthwise -> 1x1 grouped conv. Neither side's weights can express that shuffle: a grouped
 *    convolution's groups are contiguous blocks of its weights and of its input channels, and the shuffle exists
 *    precisely to give each group of the next convolution one channel from every group of the previous one — the
 *    channels group h of the reader needs are spread with a stride over the producer's groups, so permuting the
 *    producer's filters would move filters out of the group whose input they read, and permuting the reader's input
 *    weights (through the depthwise, whose per-channel constants could follow) would need a group that reads
 *    non-contiguous channels. Where the permutation keeps every filter inside its own group, it is a plain weight
 *    reorder as in 1 and no store order is needed. Only the store changes: every filter computes the same
 *    accumulator from the same input bytes with the same constants, and its int8 result goes to another address, so
 *    the output is bit-identical; the kernel's cost is the same (an index computed at compile time: a channel stride
 *    for a shuffle, see src/codegen/lower/conv2d.ts). Tried last, so that a fold into weights alone, which needs
 *    nothing of the kernel, wins where both are possible. Not for weights that the code generator would store sparse
 *    (its sparse kernels write channels in order).
 *
 * Not folded: readers or producers of other kinds (a grouped convolution reading a shuffle: see 3), graph
 * inputs/outputs.
 */
import type { Conv2DNode, FullyConnectedNode, Graph, Node } from '../ir/types.js';
import { channelCount, channelwiseKind, gatherChannelOperand, inversePermutation, rewriteWeighted, weightZeroPoint, type ChannelwiseKind, type WeightedNode } from './channels.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { channelPermutation, elementSources, movementChains, type MovementChain } from './movement-chains.js';
import { SPARSE_MIN_ZEROS } from '../codegen/lower/sparse.js';

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
  const singleReader = edit.consumers(chain.input).length === 1;
  const intoProducer = singleReader ? producerRewrites(edit, chain.input, perm, false) : null;
  const intoReaders = intoProducer ? null : readerRewrites(edit, chain.output, perm);
  const intoStoreOrder = intoProducer || intoReaders || !singleReader ? null : producerRewrites(edit, chain.input, perm, true);
  const rewrites = intoProducer ?? intoReaders ?? intoStoreOrder;
  if (!rewrites) return;
  for (const rewrite of rewrites) rewrite(edit);
  for (const node of chain.nodes) edit.removeNode(node);
  edit.renameUses(chain.output, chain.input);
  const target = intoProducer ? 'the weights producing its input' : intoReaders ? 'the weights reading its output' : 'the store order of the grouped convolution producing its input';
  edit.note(`folded the channel permutation ${nodes} into ${target}`);
}

/**
 * Make `tensor` hold tensor'[c] = tensor[perm[c]] by reordering what computes it; null when impossible. `tensor` has
 * one reader, the node that asked. `storeOrder`: a grouped Conv2D may change where it stores its channels (3. above).
 */
function producerRewrites(edit: GraphEdit, tensor: string, perm: readonly number[], storeOrder: boolean): Rewrite[] | null {
  if (!edit.isInternal(tensor)) return null;
  const producer = edit.producer(tensor)!;
  if (producer.op === 'Conv2D' && (producer.attrs.groups > 1 || producer.attrs.outputPositions)) return groupedRewrites(edit, producer, perm, storeOrder);
  if (isDenseWeighted(producer)) return [(e) => e.replaceNode(producer, rewriteWeighted(e, producer, { outputs: perm }))];
  const kind = channelwiseKind(edit.graph, producer);
  if (!kind) return null;
  const input = producer.inputs[0]!;
  if (edit.consumers(input).length !== 1) return null;
  const upstream = producerRewrites(edit, input, perm, storeOrder);
  if (!upstream) return null;
  return [...upstream, ...reorderChannelwise(producer, kind, perm)];
}

/**
 * A grouped Conv2D whose output becomes output'[c] = output[perm[c]]: its filters reordered when each stays in its own
 * group, otherwise stored at new positions; null for weights the code generator would store sparse.
 */
function groupedRewrites(edit: GraphEdit, conv: Conv2DNode, perm: readonly number[], storeOrder: boolean): Rewrite[] | null {
  const channels = perm.length;
  const perGroup = channels / conv.attrs.groups;
  const positions = conv.attrs.outputPositions;
  if (!positions && perm.every((source, c) => Math.floor(source / perGroup) === Math.floor(c / perGroup))) {
    return [(e) => e.replaceNode(conv, rewriteWeighted(e, conv, { outputs: perm }))];
  }
  if (!storeOrder || mostlyZero(edit.graph, conv)) return null;
  // Filter o was stored at channel p = positions[o]; that value must now be at the channel c with perm[c] = p.
  const inverse = inversePermutation(perm);
  const stored = Array.from({ length: channels }, (_, o) => inverse[positions ? positions[o]! : o]!);
  const isIdentity = stored.every((p, o) => p === o);
  return [
    (e) => {
      const { outputPositions: _, ...attrs } = conv.attrs;
      e.replaceNode(conv, { ...conv, attrs: isIdentity ? attrs : { ...attrs, outputPositions: stored } });
    },
  ];
}

/** At least the share of zero weights (at their zero point) at which code generation stores weights sparse. */
function mostlyZero(graph: Graph, conv: Conv2DNode): boolean {
  const weights = graph.tensors.get(conv.inputs[1]!)!;
  const data = weights.data as ArrayLike<number>;
  const perFilter = data.length / weights.shape[0]!;
  let zeros = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === weightZeroPoint(weights, Math.floor(i / perFilter))) zeros++;
  return zeros >= SPARSE_MIN_ZEROS * data.length;
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
  return (node.op === 'Conv2D' && node.attrs.groups === 1 && !node.attrs.outputPositions) || node.op === 'FullyConnected';
}

/** A FullyConnected row (its depth) holds whole channel vectors of its input, so channel c sits at columns q * C + c. */
export function fullyConnectedReadsWholeRows(graph: Graph, node: Extract<Node, { op: 'FullyConnected' }>): boolean {
  const channels = channelCount(graph.tensors.get(node.inputs[0]!)!);
  const depth = graph.tensors.get(node.inputs[1]!)!.shape[1]!;
  return depth % channels === 0;
}
