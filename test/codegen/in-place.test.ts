/**
 * Which in-place offers code generation takes (src/codegen/lower/in-place.ts), on lowerings made up for a chain of
 * layers and planned by the real planner: offers are taken only where the arena shrinks, the kernels taken get
 * `inPlace: true` and their in-place scratch, and an offer whose input is read later is never made.
 */
import { describe, expect, it } from 'vitest';
import type { KernelCall, Lowering } from '../../src/codegen/kernel-call.js';
import { placeOutputsInPlace } from '../../src/codegen/lower/in-place.js';
import type { Graph } from '../../src/ir/types.js';
import { planArena } from '../../src/plan/index.js';
import { relu, sizedGraph } from '../plan/support/graphs.js';

function call(input: string, output: string, options: { inPlace?: KernelCall['inPlace']; scratch?: number } = {}): KernelCall {
  return {
    template: 'test', name: 'te_test', params: { channels: 4 }, inputs: [input], outputs: [output], constants: [],
    ...(options.scratch ? { scratch: { bytes: options.scratch, purpose: 'test' } } : {}),
    ...(options.inPlace ? { inPlace: options.inPlace } : {}),
  };
}

function place(graph: Graph, lowerings: Lowering[]) {
  return placeOutputsInPlace(graph, lowerings, [], 'caller', (of, overlays) => {
    const scratch = of.flatMap((l, node) => ('scratch' in l && l.scratch ? [{ node, bytes: l.scratch.bytes, purpose: 'test' }] : []));
    return planArena(graph, { scratch, overlays }).arenaBytes;
  });
}

describe('placeOutputsInPlace', () => {
  // in (caller) -> a 800 -> b 800 -> c 1600 -> d 100 -> out (caller): the peak is b + c at r2.
  const graph = sizedGraph({ in: 100, a: 800, b: 800, c: 1600, d: 100, out: 100 }, [
    relu('r0', 'in', 'a'), relu('r1', 'a', 'b'), relu('r2', 'b', 'c'), relu('r3', 'c', 'd'), relu('r4', 'd', 'out'),
  ]);

  it('takes the offers that shrink the arena, with their scratch, and gives back the ones that do not', () => {
    const lowerings = [
      call('in', 'a'),
      call('a', 'b', { scratch: 64, inPlace: [{ input: 'a', align: 'start', scratch: { bytes: 96, purpose: 'ring' } }] }),
      call('b', 'c', { scratch: 32, inPlace: [{ input: 'b', align: 'end' }] }),
      call('c', 'd', { inPlace: [{ input: 'c', align: 'start', scratch: { bytes: 100, purpose: 'ring' } }] }),
      call('d', 'out'),
    ];
    const plain = planArena(graph, { scratch: [{ node: 1, bytes: 64, purpose: 't' }, { node: 2, bytes: 32, purpose: 't' }] }).arenaBytes;
    expect(plain).toBe(2432);
    const placed = place(graph, lowerings);
    // c over b takes the r2 peak down to c's 1600 bytes (b inside c's last 800); the peak is then c + d at r3. b over
    // a would only trade a's bytes at r1 for more scratch, and d over c d's 100 bytes for 100 of scratch: no gain,
    // both given back.
    expect(placed.overlays).toEqual([{ output: 'c', input: 'b', align: 'end' }]);
    const [, first, second, third] = placed.lowerings as KernelCall[];
    expect(first).toBe(lowerings[1]);
    expect(second!.params).toEqual({ channels: 4, inPlace: true });
    expect(second!.scratch).toBeUndefined();
    expect(third).toBe(lowerings[3]);
    const scratch = [{ node: 1, bytes: 64, purpose: 'test' }];
    const plan = planArena(graph, { scratch, overlays: placed.overlays });
    expect(plan.arenaBytes).toBe(1700);
    const offsetOf = (name: string) => plan.tensors.find((t) => t.name === name)!.offset;
    expect(offsetOf('b') + 800).toBe(offsetOf('c') + 1600);
  });

  it('never offers an input that a later layer still reads, nor a caller buffer', () => {
    const branching = sizedGraph({ in: 64, a: 64, b: 64, out: 64 }, [
      relu('r0', 'in', 'a'),
      relu('r1', 'a', 'b'),
      { op: 'Add', name: 'add', inputs: ['a', 'b'], outputs: ['out'], attrs: { clamp: { min: -128, max: 127 } } },
    ]);
    const placed = place(branching, [
      call('in', 'a', { inPlace: [{ input: 'in', align: 'start' }] }),
      call('a', 'b', { inPlace: [{ input: 'a', align: 'start' }] }),
      { ...call('a', 'out'), inputs: ['a', 'b'] },
    ]);
    expect(placed.overlays).toEqual([]);
  });
});
