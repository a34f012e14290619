/**
 * Chains of pure data movement (Reshape, Transpose) and what they do to the elements.
 *
 * A chain runs from tensor X through movement nodes to tensor Y; every tensor strictly inside it has exactly one
 * reader (the next node of the chain) and is not a graph output, so the chain can be rewritten as a whole. Instead of
 * reasoning about shapes and perms, the chain is applied to the element indices of X: the result says, for each
 * element of Y, which element of X it is. Everything the passes conclude (identity, pure reshape, channel permutation,
 * row permutation) is read off that map, so it is exact by construction.
 */
import { elementCount, stridesOf } from '../ir/graph.js';
import type { Graph, Node, ReshapeNode, TransposeNode } from '../ir/types.js';

export type MovementNode = ReshapeNode | TransposeNode;

export interface MovementChain {
  /** X: the chain's input. */
  input: string;
  /** Y: the chain's output. */
  output: string;
  nodes: MovementNode[];
}

export function isMovement(node: Node): node is MovementNode {
  return node.op === 'Reshape' || node.op === 'Transpose';
}

/** Every maximal movement chain of the graph, in execution order of their first node. */
export function movementChains(graph: Graph): MovementChain[] {
  const readers = new Map<string, Node[]>();
  for (const node of graph.nodes) for (const name of new Set(node.inputs)) if (name) readers.set(name, [...(readers.get(name) ?? []), node]);
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));
  const producers = new Map<string, Node>();
  for (const node of graph.nodes) for (const name of node.outputs) producers.set(name, node);
  /** A tensor the chain can pass through: a movement result read only by one movement node. */
  const continues = (tensor: string): MovementNode | undefined => {
    const next = readers.get(tensor);
    if (graphOutputs.has(tensor) || next?.length !== 1 || !isMovement(next[0]!)) return undefined;
    return next[0];
  };

  const chains: MovementChain[] = [];
  for (const node of graph.nodes) {
    if (!isMovement(node)) continue;
    const input = node.inputs[0]!;
    const before = producers.get(input);
    if (before && isMovement(before) && continues(input) === node) continue; // inside a chain that started earlier
    const nodes: MovementNode[] = [node];
    let output = node.outputs[0]!;
    for (let next = continues(output); next; next = continues(output)) {
      nodes.push(next);
      output = next.outputs[0]!;
    }
    chains.push({ input, output, nodes });
  }
  return chains;
}

/** For each element of the chain's output (row-major), the index of the input element it holds. */
export function elementSources(graph: Graph, chain: MovementChain): Int32Array {
  let shape = graph.tensors.get(chain.input)!.shape;
  let sources: Int32Array = Int32Array.from({ length: elementCount(shape) }, (_, i) => i);
  for (const node of chain.nodes) {
    if (node.op === 'Transpose') {
      sources = transposeIndices(sources, shape, node.attrs.perm);
      shape = node.attrs.perm.map((p) => shape[p]!);
    } else {
      shape = graph.tensors.get(node.outputs[0]!)!.shape;
    }
  }
  return sources;
}

/** The reference Transpose applied to an index array: output axis i is input axis perm[i]. */
function transposeIndices(values: Int32Array, shape: readonly number[], perm: readonly number[]): Int32Array {
  const out = new Int32Array(values.length);
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = stridesOf(shape);
  const strides = perm.map((p) => inStrides[p]!);
  const index = new Array<number>(perm.length).fill(0);
  let source = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = values[source]!;
    for (let axis = perm.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += strides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= strides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

export function isIdentity(sources: Int32Array): boolean {
  return sources.every((s, i) => s === i);
}

/**
 * The permutation P with Y[..., c] = X[..., P[c]] for every leading index, when the map is exactly that for
 * `channels` = the size of the last axis (null otherwise, and for the identity).
 */
export function channelPermutation(sources: Int32Array, channels: number): number[] | null {
  if (channels < 2 || sources.length % channels !== 0) return null;
  const perm = Array.from(sources.subarray(0, channels));
  if (perm.every((p, c) => p === c)) return null;
  for (let base = 0; base < sources.length; base += channels) {
    for (let c = 0; c < channels; c++) if (sources[base + c] !== base + perm[c]!) return null;
  }
  return perm;
}

/** The permutation p with row[j] = X-row[p[j]] for every row of `depth` elements (null if rows mix). */
export function rowPermutation(sources: Int32Array, depth: number): number[] | null {
  if (depth < 1 || sources.length % depth !== 0) return null;
  const perm = Array.from(sources.subarray(0, depth));
  for (let base = 0; base < sources.length; base += depth) {
    for (let j = 0; j < depth; j++) if (sources[base + j] !== base + perm[j]!) return null;
  }
  return perm;
}
