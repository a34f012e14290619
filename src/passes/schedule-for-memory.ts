/**
 * The execution order with the smallest arena. A graph with branches (fire modules, Inception cells, ResNet's
 * projection shortcuts, ShuffleNet's two-branch units) can run in many topological orders, and the peak of live
 * activations depends on which: running a branch that ends in a small tensor first frees its inputs early; running
 * the wide one first keeps its output waiting. Several orders are built and each is planned with the real planner
 * (src/plan); the smallest arena wins, the model's own order on ties (so chains and already good orders stay as they
 * are).
 *
 * Orders tried: the model's own; depth-first (finish the branch in progress before starting another, the order that
 * keeps the fewest branch outputs waiting); and greedy by memory (run next the ready node that adds the fewest live
 * bytes: its outputs minus the inputs it is the last reader of).
 *
 * Only the order changes, so every value is the one the reference computes.
 */
import { dtypeBytes, elementCount, isConstant, tensorOf } from '../ir/graph.js';
import type { Graph, Node } from '../ir/types.js';
import { planArena } from '../plan/index.js';
import type { PassResult } from './graph-edit.js';

type Order = 'model' | 'depth-first' | 'greedy-by-memory';

export function scheduleForMemory(graph: Graph): PassResult {
  if (graph.nodes.length < 3 || !hasBranches(graph)) return { graph, changes: [] };
  const arenaOf = (nodes: Node[]) => planArena({ ...graph, nodes }).arenaBytes;
  const original = arenaOf(graph.nodes);
  let best = { order: 'model' as Order, nodes: graph.nodes, bytes: original };
  for (const order of ['depth-first', 'greedy-by-memory'] as const) {
    const nodes = topologicalOrder(graph, order);
    const bytes = arenaOf(nodes);
    if (bytes < best.bytes) best = { order, nodes, bytes };
  }
  if (best.order === 'model') return { graph, changes: [] };
  const moved = best.nodes.filter((node, index) => graph.nodes[index] !== node).length;
  return {
    graph: { ...graph, nodes: best.nodes },
    changes: [`execution order ${best.order}: ${moved} of ${graph.nodes.length} layers moved, arena ${original} -> ${best.bytes} bytes`],
  };
}

/** Whether any tensor is read by more than one node (otherwise a chain: one order only). */
function hasBranches(graph: Graph): boolean {
  const readers = new Map<string, number>();
  for (const node of graph.nodes) {
    for (const input of new Set(node.inputs)) if (input && tensorOf(graph, input).data === undefined) readers.set(input, (readers.get(input) ?? 0) + 1);
  }
  return [...readers.values()].some((count) => count > 1);
}

function topologicalOrder(graph: Graph, order: Exclude<Order, 'model'>): Node[] {
  const producerOf = new Map<string, number>();
  graph.nodes.forEach((node, index) => node.outputs.forEach((out) => out && producerOf.set(out, index)));
  const dependencies = graph.nodes.map((node) => new Set(node.inputs.filter((i) => i && producerOf.has(i)).map((i) => producerOf.get(i)!)));
  const dependents = graph.nodes.map(() => [] as number[]);
  dependencies.forEach((deps, index) => deps.forEach((d) => dependents[d]!.push(index)));
  const readersLeft = new Map<string, number>();
  for (const node of graph.nodes) for (const input of new Set(node.inputs)) if (input) readersLeft.set(input, (readersLeft.get(input) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));
  const bytesOf = (name: string) => {
    const t = tensorOf(graph, name);
    return isConstant(t) ? 0 : elementCount(t.shape) * dtypeBytes(t.dtype);
  };

  const waiting = dependencies.map((deps) => deps.size);
  // Ready nodes with the step at which they became ready (depth-first prefers the latest).
  const ready = new Map<number, number>();
  waiting.forEach((count, index) => count === 0 && ready.set(index, 0));
  const result: Node[] = [];
  const better = (candidate: number, current: number): boolean => {
    const [a, b] = order === 'depth-first' ? [-ready.get(candidate)!, -ready.get(current)!] : [addedBytes(candidate), addedBytes(current)];
    return a !== b ? a < b : candidate < current;
  };
  for (let step = 1; ready.size > 0; step++) {
    const pick = [...ready.keys()].reduce((a, b) => (better(b, a) ? b : a));
    ready.delete(pick);
    const node = graph.nodes[pick]!;
    result.push(node);
    for (const input of new Set(node.inputs)) if (input) readersLeft.set(input, readersLeft.get(input)! - 1);
    for (const next of dependents[pick]!) if (--waiting[next]! === 0) ready.set(next, step);
  }
  if (result.length !== graph.nodes.length) throw new Error('internal: the graph has a cycle');
  return result;

  /** Bytes that running the node would add to the live set: its outputs, less the inputs it reads last. */
  function addedBytes(index: number): number {
    const node = graph.nodes[index]!;
    const produced = node.outputs.reduce((sum, out) => sum + (out ? bytesOf(out) : 0), 0);
    const freed = [...new Set(node.inputs)].reduce(
      (sum, input) => sum + (input && readersLeft.get(input) === 1 && !graphOutputs.has(input) ? bytesOf(input) : 0),
      0,
    );
    return produced - freed;
  }
}
