/**
 * Which activation tensors share storage, and over which steps of the execution order each storage is live.
 *
 * Steps are node indices in graph.nodes (already topological: the execution order). A no-op Reshape makes its
 * output an alias of its input: one storage, live over the union of both lifetimes.
 */
import { dtypeBytes, elementCount, isConstant, producers, tensorOf } from '../ir/graph.js';
import type { Graph } from '../ir/types.js';

/** One piece of storage and every tensor name that refers to it. */
export interface Storage {
  /** The tensor that owns the bytes: a node output, a graph input or a constant. */
  root: string;
  /** root first, then its Reshape aliases in execution order. */
  members: string[];
  bytes: number;
  /** First step that writes or (for graph inputs) reads the storage. */
  firstUse: number;
  /** Last step that reads it; the last step of the graph when it holds a graph output. */
  lastUse: number;
}

export interface TensorLifetime {
  name: string;
  bytes: number;
  firstUse: number;
  lastUse: number;
  /** The storage root, when this tensor is a Reshape alias of it. */
  aliasOf?: string;
}

export interface Liveness {
  tensors: TensorLifetime[];
  storages: Storage[];
  /** Storage root of every activation tensor (constants map to themselves). */
  rootOf: Map<string, string>;
}

export function computeLiveness(graph: Graph): Liveness {
  const lastStep = Math.max(graph.nodes.length - 1, 0);
  const producerIndex = new Map<string, number>();
  graph.nodes.forEach((node, index) => node.outputs.forEach((out) => out && producerIndex.set(out, index)));
  const lastRead = new Map<string, number>();
  graph.nodes.forEach((node, index) => node.inputs.forEach((input) => input && lastRead.set(input, index)));
  const graphInputs = new Set(graph.inputs.map((io) => io.tensor));
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));

  const rootOf = aliasRoots(graph);
  const activations = activationTensors(graph);
  const tensors: TensorLifetime[] = activations.map((name) => {
    const tensor = tensorOf(graph, name);
    const firstUse = graphInputs.has(name) ? 0 : (producerIndex.get(name) ?? 0);
    const read = lastRead.get(name) ?? firstUse;
    const lastUse = graphOutputs.has(name) ? lastStep : Math.max(read, firstUse);
    const root = rootOf.get(name)!;
    return {
      name,
      bytes: elementCount(tensor.shape) * dtypeBytes(tensor.dtype),
      firstUse,
      lastUse,
      ...(root !== name ? { aliasOf: root } : {}),
    };
  });

  const storages = new Map<string, Storage>();
  for (const t of tensors) {
    const root = t.aliasOf ?? t.name;
    const storage = storages.get(root);
    if (!storage) {
      storages.set(root, { root, members: [t.name], bytes: t.bytes, firstUse: t.firstUse, lastUse: t.lastUse });
    } else {
      storage.members.push(t.name);
      storage.firstUse = Math.min(storage.firstUse, t.firstUse);
      storage.lastUse = Math.max(storage.lastUse, t.lastUse);
    }
  }
  return { tensors, storages: [...storages.values()], rootOf };
}

/** Reshape outputs point to the storage of their (transitive) input. */
function aliasRoots(graph: Graph): Map<string, string> {
  const rootOf = new Map<string, string>();
  for (const name of graph.tensors.keys()) rootOf.set(name, name);
  for (const node of graph.nodes) {
    if (node.op !== 'Reshape') continue;
    const input = node.inputs[0]!;
    rootOf.set(node.outputs[0]!, rootOf.get(input) ?? input);
  }
  return rootOf;
}

/**
 * Tensors that need run-time storage: graph inputs, node outputs, and the non-constant tensors nodes read, in
 * execution order of first appearance. A Reshape of a constant stays a constant.
 */
function activationTensors(graph: Graph): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const producedBy = producers(graph);
  const add = (name: string): void => {
    if (!name || seen.has(name)) return;
    seen.add(name);
    const tensor = tensorOf(graph, name);
    if (!isConstant(tensor) && !isReshapeOfConstant(graph, name, producedBy)) order.push(name);
  };
  for (const io of graph.inputs) add(io.tensor);
  for (const node of graph.nodes) {
    for (const input of node.inputs) add(input);
    for (const output of node.outputs) add(output);
  }
  for (const io of graph.outputs) add(io.tensor);
  return order;
}

function isReshapeOfConstant(graph: Graph, name: string, producedBy: ReturnType<typeof producers>): boolean {
  let node = producedBy.get(name);
  while (node?.op === 'Reshape') {
    const input = tensorOf(graph, node.inputs[0]!);
    if (isConstant(input)) return true;
    node = producedBy.get(node.inputs[0]!);
  }
  return false;
}
