/**
 * remove-pruned-channels: structured pruning left in the graph (filters whose weights are all zero) becomes fewer
 * channels, fewer MACs and fewer weight bytes.
 *
 * A pruned output channel of a Conv2D (one group) or FullyConnected holds one value c everywhere (requantize(bias) + Z,
 * clamped; constant-channels.ts finds it and asks the reference for c). It is removed when everything downstream can
 * do without it:
 * - ops that treat each channel on its own (DepthwiseConv2D with multiplier 1, pooling, activations, per-tensor
 *   requantization, a Reshape or Mean keeping the last axis, Add / Sub / Mul with a per-channel constant) pass it on,
 *   as long as their output channel is constant too; they lose the channel as well (a depthwise filter, bias, scale,
 *   the constant's entry);
 * - a Conv2D (one group) or FullyConnected reading it absorbs it: its terms sum_taps (w - Z_w) * (c - Z_in) are the
 *   same integers at every output position, so they move into the bias. For a Conv2D that needs every window to see
 *   every tap (no padding), unless c = Z_in, when the terms are 0 anyway;
 * - anything else reading it (Add, Concat, Softmax, a graph output, ...) keeps the channel.
 * One channel always stays, so no tensor becomes empty.
 *
 * Why it is safe: the accumulator is int32 arithmetic that wraps (the reference's `| 0`, the C kernels' int32), i.e.
 * arithmetic modulo 2^32, where adding the constant terms to the bias instead of the sum gives the same accumulator
 * bit for bit; every remaining channel keeps its weights, bias, scales and therefore its requantization.
 */
import { graphCost } from '../ir/cost.js';
import type { Conv2DNode, FullyConnectedNode, Graph, Node, ReshapeNode } from '../ir/types.js';
import { channelCount, channelwiseKind, gatherChannelOperand, placeConstant, rewriteWeighted, weightZeroPoint, type WeightedNode } from './channels.js';
import { constantChannels, noPadding, type ChannelConstants } from './constant-channels.js';
import { GraphEdit, type PassResult } from './graph-edit.js';

export interface PrunedChannels {
  /** The Conv2D / FullyConnected whose output channels were removed. */
  producer: string;
  tensor: string;
  /** Removed channel indices (in the original numbering) and the count before. */
  channels: number[];
  channelsBefore: number;
  /** Channel-wise nodes that lost the same channels, and the nodes that absorbed them into their bias. */
  through: string[];
  absorbedBy: string[];
}

export interface PruningSummary {
  removed: PrunedChannels[];
  macsBefore: number;
  macsAfter: number;
  paramBytesBefore: number;
  paramBytesAfter: number;
}

export type PruningResult = PassResult & { summary: PruningSummary };

/** A top producer's output channels and everything they flow into, up to the nodes that absorb them. */
interface ChannelTree {
  top: WeightedNode;
  /** The top's output first, then the outputs of the channel-wise nodes. */
  tensors: string[];
  channelwise: Node[];
  absorbers: { node: WeightedNode; tensor: string }[];
}

export function removePrunedChannels(graph: Graph): PruningResult {
  const constants = constantChannels(graph);
  const edit = new GraphEdit(graph);
  const removed: PrunedChannels[] = [];
  const outputKeep = new Map<Node, number[]>();
  const inputKeep = new Map<Node, { keep: number[]; biasDelta: Int32Array }>();
  const channelwiseKeep = new Map<Node, number[]>();
  const newChannels = new Map<string, number>();

  for (const top of graph.nodes) {
    if (!isDense(top) || !constants.has(top.outputs[0]!)) continue;
    const tree = channelTree(edit, top);
    if (!tree) continue;
    const channels = channelCount(graph.tensors.get(tree.tensors[0]!)!);
    const removable = [...constants.get(tree.tensors[0]!)!.keys()].filter((c) => isRemovable(graph, tree, constants, c)).sort((a, b) => a - b);
    if (removable.length === channels) removable.pop();
    if (removable.length === 0) continue;

    const keep = complement(channels, removable);
    outputKeep.set(top, keep);
    for (const node of tree.channelwise) channelwiseKeep.set(node, keep);
    for (const tensor of tree.tensors) newChannels.set(tensor, keep.length);
    for (const { node, tensor } of tree.absorbers) {
      inputKeep.set(node, { keep, biasDelta: absorbedTerms(graph, node, removable, constants.get(tensor)!) });
    }
    removed.push({
      producer: top.name,
      tensor: tree.tensors[0]!,
      channels: removable,
      channelsBefore: channels,
      through: tree.channelwise.map((n) => n.name),
      absorbedBy: tree.absorbers.map((a) => a.node.name),
    });
  }

  for (const node of graph.nodes) {
    const outputs = outputKeep.get(node) ?? (node.op === 'DepthwiseConv2D' ? channelwiseKeep.get(node) : undefined);
    const absorbed = inputKeep.get(node);
    if (outputs || absorbed) {
      const rewrite = { ...(outputs ? { outputs } : {}), ...(absorbed ? { inputs: absorbed.keep, biasDelta: absorbed.biasDelta } : {}) };
      edit.replaceNode(node, rewriteWeighted(edit, node as WeightedNode, rewrite));
    } else if (node.op === 'Reshape' && channelwiseKeep.has(node)) {
      edit.replaceNode(node, reshapedTo(edit, node, channelwiseKeep.get(node)!.length));
    } else if (channelwiseKeep.has(node) && channelwiseKind(graph, node) === 'constant-operand') {
      edit.replaceNode(node, gatherChannelOperand(edit, node, channelwiseKeep.get(node)!));
    }
  }
  // Last: the rewrites above read the channel counts the kept indices refer to.
  for (const [name, count] of newChannels) {
    const tensor = edit.tensor(name);
    edit.setTensor({ ...tensor, shape: [...tensor.shape.slice(0, -1), count] });
  }
  for (const entry of removed) {
    edit.note(
      `removed ${entry.channels.length} of ${entry.channelsBefore} constant output channels of '${entry.producer}'` +
        (entry.through.length ? `, through ${entry.through.map((n) => `'${n}'`).join(', ')}` : '') +
        (entry.absorbedBy.length ? `, absorbed into the bias of ${entry.absorbedBy.map((n) => `'${n}'`).join(', ')}` : ''),
    );
  }

  const result = edit.result();
  const before = graphCost(graph);
  const after = result.graph === graph ? before : graphCost(result.graph);
  return {
    ...result,
    summary: { removed, macsBefore: before.macs, macsAfter: after.macs, paramBytesBefore: before.paramBytes, paramBytesAfter: after.paramBytes },
  };
}

/** Conv2D with one group or FullyConnected (constant channels are only tracked for int8 outputs). */
function isDense(node: Node): node is Conv2DNode | FullyConnectedNode {
  return (node.op === 'Conv2D' && node.attrs.groups === 1) || node.op === 'FullyConnected';
}

/** The tree below `top`'s output, or null when some reader can neither pass a channel on nor absorb it. */
function channelTree(edit: GraphEdit, top: WeightedNode): ChannelTree | null {
  const tree: ChannelTree = { top, tensors: [], channelwise: [], absorbers: [] };
  const visit = (tensor: string): boolean => {
    if (!edit.isInternal(tensor)) return false;
    tree.tensors.push(tensor);
    for (const reader of edit.consumers(tensor)) {
      if (reader.inputs.indexOf(tensor) !== 0 || reader.inputs.lastIndexOf(tensor) !== 0) return false;
      if (isDense(reader)) {
        const depth = edit.tensor(reader.inputs[1]!).shape[1]!;
        if (reader.op === 'FullyConnected' && depth % channelCount(edit.tensor(tensor)) !== 0) return false;
        tree.absorbers.push({ node: reader, tensor });
      } else if (channelwiseKind(edit.graph, reader)) {
        tree.channelwise.push(reader);
        if (!visit(reader.outputs[0]!)) return false;
      } else {
        return false;
      }
    }
    return true;
  };
  return visit(top.outputs[0]!) ? tree : null;
}

function isRemovable(graph: Graph, tree: ChannelTree, constants: Map<string, ChannelConstants>, channel: number): boolean {
  if (!tree.tensors.every((t) => constants.get(t)?.has(channel))) return false;
  return tree.absorbers.every(({ node, tensor }) => {
    if (node.op !== 'Conv2D' || noPadding(node.attrs.padding)) return true;
    return constants.get(tensor)!.get(channel) === graph.tensors.get(tensor)!.quant!.zeroPoint[0];
  });
}

/**
 * Per output channel of an absorbing node: sum over the removed input channels i (value c_i) and over every tap /
 * column that reads them of (w - Z_w) * (c_i - Z_in), in wrapping int32 arithmetic.
 */
function absorbedTerms(graph: Graph, node: WeightedNode, removed: readonly number[], values: ChannelConstants): Int32Array {
  const input = graph.tensors.get(node.inputs[0]!)!;
  const inputZeroPoint = input.quant!.zeroPoint[0]!;
  const weights = graph.tensors.get(node.inputs[1]!)!;
  const data = weights.data!;
  const outputs = weights.shape[0]!;
  const channels = channelCount(input);
  // Both layouts read channel i at i, i + C, i + 2C, ... within a filter's row: OHWI (one group) and [Cout, depth].
  const rowLength = data.length / outputs;
  const terms = new Int32Array(outputs);
  for (let o = 0; o < outputs; o++) {
    const zero = weightZeroPoint(weights, o);
    let sum = 0;
    for (const i of removed) {
      const offsetValue = values.get(i)! - inputZeroPoint;
      for (let j = o * rowLength + i; j < (o + 1) * rowLength; j += channels) sum = (sum + Math.imul(Number(data[j]) - zero, offsetValue)) | 0;
    }
    terms[o] = sum;
  }
  return terms;
}

/** A Reshape in a channel tree with its target's last axis shrunk (and its constant shape operand, if it has one). */
function reshapedTo(edit: GraphEdit, node: ReshapeNode, channels: number): ReshapeNode {
  const old = edit.tensor(node.outputs[0]!).shape;
  const shape = [...old.slice(0, -1), channels];
  const inputs = [...node.inputs];
  const operand = node.inputs[1] ? edit.tensor(node.inputs[1]) : undefined;
  if (operand?.data && operand.data.length === shape.length) {
    const data = operand.data instanceof BigInt64Array ? BigInt64Array.from(shape, BigInt) : Int32Array.from(shape);
    inputs[1] = placeConstant(edit, node, 1, { ...operand, dtype: data instanceof BigInt64Array ? 'int64' : 'int32', data }, `${node.name}_shape`);
  }
  return { ...node, inputs, attrs: { shape } };
}

function complement(count: number, removed: readonly number[]): number[] {
  const drop = new Set(removed);
  return Array.from({ length: count }, (_, i) => i).filter((i) => !drop.has(i));
}
