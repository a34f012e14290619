/**
 * fold-pad-into-conv: an explicit spatial Pad read only by a Conv2D, DepthwiseConv2D or MaxPool2D becomes that node's
 * own padding.
 *
 * Why it is safe:
 * - Convolutions skip taps outside the input, which is exactly a tap holding the input zero point Z (its term
 *   w * (x - Z) is 0). So a Pad with value Z (the pad output's zero point, equal to the pad input's) adds nothing the
 *   implicit padding does not. The output size is the same function of (size + pads).
 * - MaxPool2D takes the maximum of the taps inside the input; a padded tap holding -128 can never raise a maximum, so
 *   only a Pad with value -128 folds, and only while every window keeps at least one real tap (each total pad smaller
 *   than the filter), since the kernel needs one.
 * - AveragePool2D divides by the number of real taps, so explicit padding (counted) and implicit padding (not
 *   counted) differ: it never folds.
 * The node then reads the Pad's input, which must carry the same quantization as the Pad's output (the one the node
 * derived its arithmetic from).
 */
import type { Conv2DNode, DepthwiseConv2DNode, Graph, Node, PadNode, Padding2D, Pool2DNode } from '../ir/types.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';

type PaddedNode = Conv2DNode | DepthwiseConv2DNode | Pool2DNode;

export function foldPadIntoConv(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  for (const { name } of graph.nodes) {
    const pad = edit.node(name)!;
    if (pad.op !== 'Pad') continue;
    const padded = pad.outputs[0]!;
    const readers = edit.consumers(padded);
    if (readers.length !== 1 || edit.isGraphOutput(padded)) continue;
    const reader = readers[0]!;
    if (reader.inputs[0] !== padded || reader.inputs.indexOf(padded) !== reader.inputs.lastIndexOf(padded)) continue;
    const padding = foldedPadding(edit.graph, pad, reader);
    if (!padding) continue;
    edit.replaceNode(reader, { ...reader, inputs: [pad.inputs[0]!, ...reader.inputs.slice(1)], attrs: { ...(reader as PaddedNode).attrs, padding } } as Node);
    edit.removeNode(pad);
    const { top, bottom, left, right } = padding;
    edit.note(`folded Pad '${pad.name}' into ${reader.op} '${reader.name}': padding top ${top}, bottom ${bottom}, left ${left}, right ${right}`);
  }
  return edit.result();
}

/** The reader's padding with the Pad's added, or null when the Pad cannot fold into it. */
function foldedPadding(graph: Graph, pad: PadNode, reader: Node): Padding2D | null {
  if (reader.op !== 'Conv2D' && reader.op !== 'DepthwiseConv2D' && reader.op !== 'MaxPool2D') return null;
  const input = graph.tensors.get(pad.inputs[0]!)!;
  const output = graph.tensors.get(pad.outputs[0]!)!;
  if (input.shape.length !== 4 || input.dtype !== 'int8' || !output.quant || !sameQuantization(input, output)) return null;
  const { before, after, value } = pad.attrs;
  if (before[0] !== 0 || after[0] !== 0 || before[3] !== 0 || after[3] !== 0) return null; // batch or channel padding
  const zeroPoint = output.quant.zeroPoint[0]!;
  const current = reader.attrs.padding;
  const padding: Padding2D = {
    top: current.top + before[1]!,
    bottom: current.bottom + after[1]!,
    left: current.left + before[2]!,
    right: current.right + after[2]!,
  };
  if (reader.op === 'MaxPool2D') {
    const [filterHeight, filterWidth] = reader.attrs.filter;
    const everyWindowHasATap = padding.top < filterHeight && padding.bottom < filterHeight && padding.left < filterWidth && padding.right < filterWidth;
    return value === -128 && everyWindowHasATap ? padding : null;
  }
  return value === zeroPoint ? padding : null;
}
