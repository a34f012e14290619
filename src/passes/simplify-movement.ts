/**
 * simplify-movement: chains of Reshape / Transpose (see movement-chains.ts) become as little data movement as they are:
 * - a chain that leaves every element where it was and keeps the shape (Transpose(p) then Transpose(inverse p), a
 *   Reshape to the same shape, ...) disappears: its readers read its input;
 * - a chain that keeps the element order but changes the shape (Reshape after Reshape, a Transpose that only moves
 *   size-1 axes, ...) becomes one Reshape;
 * - a chain of Transposes only becomes one Transpose with the composed perm.
 *
 * Why it is safe: these nodes do no arithmetic and the chain's element map (computed by applying the chain to element
 * indices) is what decides; quantization is carried through movement unchanged, and the replacement writes the chain's
 * own output tensor (same name, shape, type and quantization).
 */
import type { Graph, TransposeNode } from '../ir/types.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { elementSources, isIdentity, movementChains, type MovementChain } from './movement-chains.js';

export function simplifyMovement(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  // One chain at a time, re-finding the chains after each rewrite: removing one renames what the next one reads.
  const settled = new Set<string>();
  for (;;) {
    const chain = movementChains(edit.graph).find((c) => !settled.has(c.output));
    if (!chain) break;
    if (!simplifyChain(edit, chain)) settled.add(chain.output);
  }
  return edit.result();
}

/** Rewrites the chain if it can be simpler; true when it did. */
function simplifyChain(edit: GraphEdit, chain: MovementChain): boolean {
  const graph = edit.graph;
  const input = graph.tensors.get(chain.input)!;
  const output = graph.tensors.get(chain.output)!;
  if (input.dtype !== output.dtype || !sameQuantization(input, output)) return false;
  const names = chain.nodes.map((node) => `${node.op} '${node.name}'`).join(', ');
  const last = chain.nodes[chain.nodes.length - 1]!;

  if (isIdentity(elementSources(graph, chain))) {
    if (sameShape(input.shape, output.shape)) {
      if (edit.isGraphOutput(chain.output) && !edit.isInternal(chain.input)) return false;
      for (const node of chain.nodes) edit.removeNode(node);
      edit.renameUses(chain.output, chain.input);
      edit.note(`removed ${names}: together they move no element`);
      return true;
    }
    if (chain.nodes.length === 1 && last.op === 'Reshape') return false;
    edit.replaceNodes(chain.nodes, { op: 'Reshape', name: last.name, inputs: [chain.input], outputs: [chain.output], attrs: { shape: [...output.shape] } });
    edit.note(`replaced ${names} by one Reshape: they keep the element order`);
    return true;
  }

  if (chain.nodes.length > 1 && chain.nodes.every((node): node is TransposeNode => node.op === 'Transpose')) {
    // Output axis i of the second is its input axis p2[i], which is axis p1[p2[i]] of the first's input.
    const perm = chain.nodes.map((node) => node.attrs.perm).reduce((p1, p2) => p2.map((axis) => p1[axis]!));
    edit.replaceNodes(chain.nodes, { op: 'Transpose', name: last.name, inputs: [chain.input], outputs: [chain.output], attrs: { perm } });
    edit.note(`merged ${names} into one Transpose [${perm.join(', ')}]`);
    return true;
  }
  return false;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
