/**
 * scheduleForMemory: on a graph whose own order keeps two wide branch tensors alive at once, a depth-first order
 * halves the arena; a chain and an order that is already best stay untouched; every order found is topological and
 * the reference computes the same outputs with it.
 */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/types.js';
import { scheduleForMemory } from '../../src/passes/schedule-for-memory.js';
import { planArena } from '../../src/plan/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { add, relu, sizedGraph } from '../plan/support/graphs.js';

/** in -> wide a1 -> narrow a2, in -> wide b1 -> narrow b2, out = a2 + b2; the model runs both wide layers first. */
function twoBranches(): Graph {
  const sizes = { in: 16, a1: 2000, a2: 16, b1: 2000, b2: 16, out: 16 };
  return sizedGraph(sizes, [relu('a1', 'in', 'a1'), relu('b1', 'in', 'b1'), relu('a2', 'a1', 'a2'), relu('b2', 'b1', 'b2'), add('sum', 'a2', 'b2', 'out')], 'out');
}

function isTopological(graph: Graph): boolean {
  const available = new Set(graph.inputs.map((io) => io.tensor));
  for (const node of graph.nodes) {
    if (!node.inputs.every((i) => !i || available.has(i) || graph.tensors.get(i)!.data !== undefined)) return false;
    node.outputs.forEach((o) => available.add(o));
  }
  return true;
}

describe('scheduleForMemory', () => {
  it('runs each branch to its narrow end before starting the next when that shrinks the arena', () => {
    const graph = twoBranches();
    const before = planArena(graph).arenaBytes;
    const result = scheduleForMemory(graph);
    expect(result.graph.nodes.map((n) => n.name)).toEqual(['a1', 'a2', 'b1', 'b2', 'sum']);
    expect(isTopological(result.graph)).toBe(true);
    const after = planArena(result.graph).arenaBytes;
    expect(before).toBe(4016);
    // The widest step now: a2 waiting while b1 -> b2 runs.
    expect(after).toBe(2032);
    expect(result.changes).toEqual([`execution order depth-first: 2 of 5 layers moved, arena ${before} -> ${after} bytes`]);
    const input = Int8Array.from({ length: 16 }, (_, i) => i * 7 - 50);
    expect(runReference(result.graph, [input]).outputs).toEqual(runReference(graph, [input]).outputs);
  });

  it('leaves a chain and an order that is already the best as they are', () => {
    const chain = sizedGraph({ in: 16, a: 64, b: 64, out: 16 }, [relu('a', 'in', 'a'), relu('b', 'a', 'b'), relu('c', 'b', 'out')]);
    expect(scheduleForMemory(chain)).toEqual({ graph: chain, changes: [] });
    const good = scheduleForMemory(twoBranches()).graph;
    expect(scheduleForMemory(good).graph).toBe(good);
  });
});
