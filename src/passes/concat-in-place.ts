/**
 * Concatenations whose inputs can be written straight into the output (an analysis for memory planning and code
 * generation: zero-copy concat, C.ReLU's Concat(x, Neg(x))). The graph is not changed; the IR has no attribute for it,
 * so optimizeGraph returns the node names in `concatInPlace`.
 *
 * A Concat is listed when it is int8 with two or more distinct inputs and, for every input:
 * - a node writes it (not a graph input or constant), that node has no other output, and nothing else reads it and it
 *   is not a graph output, so its producer may write it inside the Concat's output buffer instead;
 * - it has the output's quantization, so the Concat copies it unchanged (no requantization);
 * and the Concat's axis is the last axis (an NHWC channel concat: each input is a strided slice of every output row)
 * or every axis before it has size 1 (each input is one contiguous block of the output).
 */
import { sameQuantization } from './graph-edit.js';
import type { Graph, Node } from '../ir/types.js';

export function findInPlaceConcats(graph: Graph): Set<string> {
  const readers = new Map<string, number>();
  for (const node of graph.nodes) for (const name of new Set(node.inputs)) if (name) readers.set(name, (readers.get(name) ?? 0) + 1);
  const producers = new Map<string, Node>();
  for (const node of graph.nodes) for (const name of node.outputs) producers.set(name, node);
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));

  const found = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op !== 'Concat' || node.inputs.length < 2 || new Set(node.inputs).size !== node.inputs.length) continue;
    const output = graph.tensors.get(node.outputs[0]!)!;
    const rank = output.shape.length;
    const axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
    const placeable = axis === rank - 1 || output.shape.slice(0, axis).every((d) => d === 1);
    const writable = node.inputs.every((name) => {
      const input = graph.tensors.get(name)!;
      const producer = producers.get(name);
      return (
        producer !== undefined &&
        producer.outputs.length === 1 &&
        readers.get(name) === 1 &&
        !graphOutputs.has(name) &&
        input.dtype === 'int8' &&
        sameQuantization(input, output)
      );
    });
    if (output.dtype === 'int8' && placeable && writable) found.add(node.name);
  }
  return found;
}
