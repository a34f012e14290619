import { describe, expect, it } from 'vitest';
import type { Graph, Node, Tensor } from '../../src/ir/types.js';
import { planArena, type ArenaPlan } from '../../src/plan/index.js';
import { computeLiveness } from '../../src/plan/liveness.js';
import { graphOf, relu } from './support/graphs.js';
import { LAYER_KINDS, mergeLayers, quant, randomLayer, tensor } from '../codegen/support/layers.js';
import { Random } from '../codegen/support/random.js';

const q = quant(0.1, 0);

/** A chain in -> t1 -> ... -> tN -> out of `size`-byte tensors. */
function chain(length: number, size: number): Graph {
  const names = ['in', ...Array.from({ length: length - 1 }, (_, i) => `t${i + 1}`), 'out'];
  return graphOf(
    names.map((n) => tensor(n, [size], 'int8', q)),
    names.slice(1).map((n, i) => relu(`relu${i}`, names[i]!, n)),
    ['in'],
    ['out'],
  );
}

/** Every pair of arena buffers live at a common step occupies disjoint bytes. */
function expectNoOverlap(plan: ArenaPlan): void {
  const arena = [
    ...plan.tensors.filter((t) => t.buffer === 'arena' && !t.aliasOf).map((t) => ({ id: t.name, ...t, ...lifetimeOf(plan, t.name) })),
    ...plan.scratch.map((s, i) => ({ id: `scratch${i}`, offset: s.offset, bytes: s.bytes, firstUse: s.node, lastUse: s.node })),
  ];
  for (let i = 0; i < arena.length; i++) {
    for (let j = i + 1; j < arena.length; j++) {
      const a = arena[i]!;
      const b = arena[j]!;
      const together = a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
      const disjoint = a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset;
      if (together && a.bytes > 0 && b.bytes > 0 && !disjoint) throw new Error(`${a.id} and ${b.id} overlap while both live`);
    }
    expect(arena[i]!.offset + arena[i]!.bytes).toBeLessThanOrEqual(plan.arenaBytes);
  }
}

/** The lifetime of a storage: the union over the tensor and its aliases. */
function lifetimeOf(plan: ArenaPlan, root: string): { firstUse: number; lastUse: number } {
  const members = plan.tensors.filter((t) => t.name === root || t.aliasOf === root);
  return { firstUse: Math.min(...members.map((m) => m.firstUse)), lastUse: Math.max(...members.map((m) => m.lastUse)) };
}

describe('planArena', () => {
  it('collapses a chain to two buffers, the graph input and output staying in the caller buffers', () => {
    const plan = planArena(chain(8, 1000));
    expect(plan.arenaBytes).toBe(2000);
    expect(plan.tensors.find((t) => t.name === 'in')).toMatchObject({ buffer: 'input', ioIndex: 0 });
    expect(plan.tensors.find((t) => t.name === 'out')).toMatchObject({ buffer: 'output', ioIndex: 0 });
    expect(plan.copies).toEqual([]);
    expectNoOverlap(plan);
  });

  it('with io "arena" plans the input and output too, and copies them in and out', () => {
    const plan = planArena(chain(8, 1000), { io: 'arena' });
    expect(plan.arenaBytes).toBe(2000);
    expect(plan.tensors.every((t) => t.buffer === 'arena')).toBe(true);
    expect(plan.copies).toEqual([
      { tensor: 'in', direction: 'in', index: 0, bytes: 1000 },
      { tensor: 'out', direction: 'out', index: 0, bytes: 1000 },
    ]);
    expectNoOverlap(plan);
  });

  it('gives a no-op Reshape the storage of its input', () => {
    const g = graphOf(
      [tensor('in', [4, 8], 'int8', q), tensor('a', [4, 8], 'int8', q), tensor('flat', [32], 'int8', q), tensor('out', [32], 'int8', q)],
      [relu('r1', 'in', 'a'), { op: 'Reshape', name: 'reshape', inputs: ['a'], outputs: ['flat'], attrs: { shape: [32] } }, relu('r2', 'flat', 'out')],
      ['in'],
      ['out'],
    );
    const plan = planArena(g);
    const a = plan.tensors.find((t) => t.name === 'a')!;
    const flat = plan.tensors.find((t) => t.name === 'flat')!;
    expect(flat).toMatchObject({ buffer: 'arena', offset: a.offset, aliasOf: 'a' });
    expect(plan.arenaBytes).toBe(32);
  });

  it('makes a Reshape that ends the graph write the caller output, and copies an input passed straight through', () => {
    const g = graphOf(
      [tensor('in', [2, 3], 'int8', q), tensor('a', [2, 3], 'int8', q), tensor('out', [6], 'int8', q), tensor('same', [6], 'int8', q)],
      [relu('r', 'in', 'a'), { op: 'Reshape', name: 'reshape', inputs: ['a'], outputs: ['out'], attrs: { shape: [6] } },
        { op: 'Reshape', name: 'pass', inputs: ['in'], outputs: ['same'], attrs: { shape: [6] } }],
      ['in'],
      ['out', 'same', 'out'],
    );
    const plan = planArena(g);
    expect(plan.tensors.find((t) => t.name === 'a')).toMatchObject({ buffer: 'output', ioIndex: 0 });
    expect(plan.tensors.find((t) => t.name === 'same')).toMatchObject({ buffer: 'input', ioIndex: 0, aliasOf: 'in' });
    expect(plan.arenaBytes).toBe(0);
    expect(plan.copies).toEqual([
      { tensor: 'same', direction: 'out', index: 1, bytes: 6 },
      { tensor: 'out', direction: 'out', index: 2, bytes: 6 },
    ]);
  });

  it('keeps a scratch buffer clear of its layer\'s tensors and lets other layers reuse its bytes', () => {
    const plan = planArena(chain(4, 100), { scratch: [{ node: 1, bytes: 64, purpose: 'im2col' }] });
    expectNoOverlap(plan);
    expect(plan.scratch).toHaveLength(1);
    expect(plan.arenaBytes).toBe(264);
    expect(plan.peakLiveBytes).toBe(264);
  });

  it('keeps a skip connection alive until its last reader', () => {
    // in -> a -> b -> c; sum = a + c: a stays live across b and c.
    const t = (n: string) => tensor(n, [256], 'int8', q);
    const g = graphOf(
      [t('in'), t('a'), t('b'), t('c'), t('sum')],
      [relu('r1', 'in', 'a'), relu('r2', 'a', 'b'), relu('r3', 'b', 'c'),
        { op: 'Add', name: 'add', inputs: ['a', 'c'], outputs: ['sum'], attrs: { clamp: { min: -128, max: 127 } } }],
      ['in'],
      ['sum'],
    );
    const plan = planArena(g);
    expect(plan.tensors.find((x) => x.name === 'a')).toMatchObject({ firstUse: 0, lastUse: 3 });
    expect(plan.arenaBytes).toBe(768);
    expectNoOverlap(plan);
  });

  it('never overlaps live buffers on graphs of random layers, in either io mode, and never exceeds their sum', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = new Random(seed);
      const layers = Array.from({ length: random.int(1, 8) }, (_, i) => randomLayer(random.pick(LAYER_KINDS), seed * 100 + i, `l${i}`));
      const { graph } = mergeLayers(`random${seed}`, layers);
      const scratch = graph.nodes.map((_, node) => ({ node, bytes: random.int(0, 50), purpose: 'test' }));
      for (const io of ['caller', 'arena'] as const) {
        const plan = planArena(graph, { io, scratch, alignment: random.pick([4, 8]) });
        expectNoOverlap(plan);
        for (const t of plan.tensors) if (t.buffer === 'arena') expect(t.offset % plan.alignment).toBe(0);
        const storages = computeLiveness(graph).storages;
        const sum = [...storages.filter((s) => plan.tensors.find((t) => t.name === s.root)!.buffer === 'arena').map((s) => s.bytes), ...scratch.map((s) => s.bytes)]
          .reduce((a, b) => a + Math.ceil(b / plan.alignment) * plan.alignment, 0);
        expect(plan.arenaBytes).toBeLessThanOrEqual(sum);
        expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.peakLiveBytes);
      }
    }
  });
});

describe('planArena overlays (in-place kernels)', () => {
  /** in -> a (800) -> b (800) -> c (1600) -> d (400) -> out: every tensor dies at its only reader. */
  function widening(): Graph {
    const sizes: Record<string, number> = { in: 100, a: 800, b: 800, c: 1600, d: 400, out: 100 };
    const names = Object.keys(sizes);
    return graphOf(
      names.map((n) => tensor(n, [sizes[n]!], 'int8', q)),
      names.slice(1).map((n, i) => relu(`r${i}`, names[i]!, n)),
      ['in'],
      ['out'],
    );
  }
  const offsetOf = (plan: ArenaPlan, name: string) => plan.tensors.find((t) => t.name === name)!.offset;

  it('places a chain of overlays at the aligned starts and ends asked for, shrinking the arena to the widest tensor', () => {
    const g = widening();
    const plain = planArena(g);
    expect(plain.arenaBytes).toBe(2400);
    const plan = planArena(g, {
      overlays: [
        { output: 'b', input: 'a', align: 'start' },
        { output: 'c', input: 'b', align: 'end' },
        { output: 'd', input: 'c', align: 'start' },
      ],
    });
    expect(offsetOf(plan, 'b')).toBe(offsetOf(plan, 'a'));
    expect(offsetOf(plan, 'c') + 1600).toBe(offsetOf(plan, 'b') + 800);
    expect(offsetOf(plan, 'd')).toBe(offsetOf(plan, 'c'));
    expect(plan.arenaBytes).toBe(1600);
  });

  it('refuses an overlay whose input is still read after the layer, or that is not planned in the arena', () => {
    const g = graphOf(
      ['in', 'a', 'b', 'sum'].map((n) => tensor(n, [64], 'int8', q)),
      [relu('r1', 'in', 'a'), relu('r2', 'a', 'b'),
        { op: 'Add', name: 'add', inputs: ['a', 'b'], outputs: ['sum'], attrs: { clamp: { min: -128, max: 127 } } }],
      ['in'],
      ['sum'],
    );
    expect(() => planArena(g, { overlays: [{ output: 'b', input: 'a', align: 'start' }] })).toThrow(/die there/);
    expect(() => planArena(g, { overlays: [{ output: 'a', input: 'in', align: 'start' }] })).toThrow(/not planned in the arena/);
    const plan = planArena(g, { io: 'arena', overlays: [{ output: 'a', input: 'in', align: 'start' }] });
    expect(offsetOf(plan, 'a')).toBe(offsetOf(plan, 'in'));
  });
});
