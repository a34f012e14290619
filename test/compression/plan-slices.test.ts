/**
 * planArena's slices (zero-copy concatenation): a slice has no storage of its own, lives at its offset inside its
 * container, and the container is live from the first write of any of its slices.
 */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/types.js';
import { planArena, type TensorSlice } from '../../src/plan/index.js';
import { IrBuilder, q } from '../passes/support/ir-builder.js';

/** x -> a (conv), x -> mid (conv) -> b (conv); Concat(a, b) -> reader: a is written before the other branch runs. */
function branches(): Graph {
  const b = new IrBuilder('branches', 3);
  const x = b.input('x', [1, 4, 4, 8]);
  const a = b.conv(x, 4, { name: 'a', quant: q(0.05, 0) });
  const mid = b.conv(x, 4, { name: 'mid' });
  const second = b.conv(mid, 4, { name: 'b', quant: q(0.05, 0) });
  const cat = b.concat([a, second], 3, q(0.05, 0), 'cat');
  b.output(b.conv(cat, 8, { name: 'reader' }));
  return b.build();
}

const SLICES: TensorSlice[] = [
  { tensor: 'a_out', within: 'cat_out', byteOffset: 0, extentBytes: 15 * 8 + 4 },
  { tensor: 'b_out', within: 'cat_out', byteOffset: 4, extentBytes: 15 * 8 + 4 },
];

describe('planArena slices', () => {
  it('places each slice at its offset in the container, which is live from the first slice written', () => {
    const plan = planArena(branches(), { slices: SLICES });
    const byName = new Map(plan.tensors.map((t) => [t.name, t]));
    const container = byName.get('cat_out')!;
    expect(byName.get('a_out')).toMatchObject({ buffer: 'arena', offset: container.offset, sliceOf: { tensor: 'cat_out', byteOffset: 0 }, extentBytes: 124 });
    expect(byName.get('b_out')).toMatchObject({ offset: container.offset + 4, sliceOf: { tensor: 'cat_out', byteOffset: 4 } });
    // 'mid' is live while a_out waits in the container: they must not overlap.
    const mid = byName.get('mid_out')!;
    expect(mid.offset + mid.bytes <= container.offset || container.offset + container.bytes <= mid.offset).toBe(true);
    // Without slices the Concat's step holds a, b and the output (64 + 64 + 128); with them, the output and 'mid'.
    expect(planArena(branches()).arenaBytes).toBe(256);
    expect(plan.arenaBytes).toBe(128 + 64);
  });

  it('rejects slices that do not fit, nest, or sit in a caller buffer', () => {
    const graph = branches();
    expect(() => planArena(graph, { slices: [{ tensor: 'a_out', within: 'cat_out', byteOffset: 8, extentBytes: 124 }] })).toThrow(/does not fit/);
    expect(() =>
      planArena(graph, {
        slices: [
          { tensor: 'b_out', within: 'cat_out', byteOffset: 4, extentBytes: 124 },
          { tensor: 'cat_out', within: 'mid_out', byteOffset: 0, extentBytes: 64 },
        ],
      }),
    ).toThrow(/is a slice itself/);
    expect(() => planArena(graph, { slices: [{ tensor: 'a_out', within: 'reader_out', byteOffset: 0, extentBytes: 64 }] })).toThrow(/not planned in the arena/);
  });
});
