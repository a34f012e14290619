/**
 * remove-no-op-ops: nodes whose output is their input, element for element, with the same type and quantization.
 *
 * - An element-wise int8 -> int8 op (Quantize between two int8 tensors, Relu, Relu6, LeakyRelu, ...) whose input and
 *   output quantization are identical and whose 256-entry table, computed by the reference interpreter itself, is the
 *   identity. Typical: a requantization between equal parameters with the full [-128, 127] clamp, a Relu on a tensor
 *   whose zero point is -128.
 * - A Pad that pads nothing, a Concat of a single input with the output's quantization.
 * (Reshape chains and Transposes that undo each other are simplify-movement's job.)
 *
 * Why it is safe: the readers see the same int8 values under the same scale and zero point, so every later kernel
 * derives the same parameters and computes the same integers.
 */
import type { Graph, Node } from '../ir/types.js';
import { bypassNode, GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { int8Table } from './reference-probe.js';

export function removeNoOpOps(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  for (const { name } of graph.nodes) {
    // Bypassing a node rewrites its readers, so each node is looked up as it is now.
    const node = edit.node(name)!;
    const reason = noOpReason(edit.graph, node);
    if (reason && bypassNode(edit, node)) edit.note(`removed ${node.op} '${node.name}': ${reason}`);
  }
  return edit.result();
}

/** Why `node` computes nothing, or null when it does. */
function noOpReason(graph: Graph, node: Node): string | null {
  if (node.inputs.length !== 1 || node.outputs.length !== 1) return null;
  const input = graph.tensors.get(node.inputs[0]!)!;
  const output = graph.tensors.get(node.outputs[0]!)!;
  if (input.dtype !== output.dtype || !sameQuantization(input, output)) return null;
  switch (node.op) {
    case 'Pad':
      return [...node.attrs.before, ...node.attrs.after].every((p) => p === 0) ? 'pads nothing' : null;
    case 'Concat':
      return 'concatenates a single input';
    default: {
      const table = int8Table(graph, node);
      return table && table.every((v, i) => v === i - 128) ? 'maps every int8 value to itself' : null;
    }
  }
}
