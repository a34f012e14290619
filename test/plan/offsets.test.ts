import { describe, expect, it } from 'vitest';
import { alignUp, conflicts, planOffsets, type LiveBuffer } from '../../src/plan/offsets.js';
import { Random } from '../codegen/support/random.js';

function expectNoOverlapOfLiveBuffers(buffers: LiveBuffer[], offsets: Map<string, number>, alignment: number): void {
  for (let i = 0; i < buffers.length; i++) {
    const a = buffers[i]!;
    const aStart = offsets.get(a.id)!;
    expect(aStart % alignment).toBe(0);
    for (let j = i + 1; j < buffers.length; j++) {
      const b = buffers[j]!;
      if (!conflicts(a, b) || a.bytes === 0 || b.bytes === 0) continue;
      const bStart = offsets.get(b.id)!;
      const disjoint = aStart + alignUp(a.bytes, alignment) <= bStart || bStart + alignUp(b.bytes, alignment) <= aStart;
      if (!disjoint) throw new Error(`${a.id} [${aStart}, +${a.bytes}) overlaps ${b.id} [${bStart}, +${b.bytes}) while both live`);
    }
  }
}

function randomIntervals(random: Random): LiveBuffer[] {
  const steps = random.int(1, 40);
  return Array.from({ length: random.int(1, 60) }, (_, i) => {
    const firstUse = random.int(0, steps - 1);
    return {
      id: `b${i}`,
      bytes: random.bool(0.05) ? 0 : random.int(1, random.bool(0.2) ? 50_000 : 3_000),
      firstUse,
      lastUse: random.int(firstUse, Math.min(steps - 1, firstUse + random.int(0, 8))),
    };
  });
}

describe('planOffsets', () => {
  it('never overlaps two simultaneously live buffers, and never exceeds their sum (400 seeded interval sets)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = new Random(seed);
      const buffers = randomIntervals(random);
      const alignment = random.pick([4, 8]);
      const plan = planOffsets(buffers, alignment);
      expectNoOverlapOfLiveBuffers(buffers, plan.offsets, alignment);
      const sum = buffers.reduce((s, b) => s + alignUp(b.bytes, alignment), 0);
      expect(plan.arenaBytes).toBeLessThanOrEqual(sum);
      expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.peakLiveBytes);
      expect(plan.arenaBytes).toBe(Math.min(...plan.candidates.map((c) => c.arenaBytes)));
      for (const b of buffers) {
        expect(plan.offsets.get(b.id)! + alignUp(b.bytes, alignment)).toBeLessThanOrEqual(plan.arenaBytes);
      }
    }
  });

  it('collapses a chain of layers to two buffers', () => {
    // Layer i reads buffer i and writes buffer i+1: only neighbours are ever live together.
    const buffers = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, bytes: 1000, firstUse: Math.max(i - 1, 0), lastUse: i }));
    const plan = planOffsets(buffers, 4);
    expect(plan.arenaBytes).toBe(2000);
    expect(new Set(plan.offsets.values())).toEqual(new Set([0, 1000]));
  });

  it('reaches the peak exactly for a chain of shrinking layers', () => {
    const sizes = [9000, 7000, 5000, 3000, 1000];
    const buffers = sizes.map((bytes, i) => ({ id: `t${i}`, bytes, firstUse: Math.max(i - 1, 0), lastUse: i }));
    const plan = planOffsets(buffers, 4);
    expect(plan.arenaBytes).toBe(16_000);
    expect(plan.peakLiveBytes).toBe(16_000);
  });

  it('keeps a long-lived skip connection clear of the buffers around it', () => {
    const buffers: LiveBuffer[] = [
      { id: 'skip', bytes: 4096, firstUse: 0, lastUse: 3 },
      { id: 'a', bytes: 4096, firstUse: 1, lastUse: 2 },
      { id: 'b', bytes: 4096, firstUse: 2, lastUse: 3 },
      { id: 'sum', bytes: 4096, firstUse: 3, lastUse: 4 },
    ];
    const plan = planOffsets(buffers, 4);
    expectNoOverlapOfLiveBuffers(buffers, plan.offsets, 4);
    expect(plan.arenaBytes).toBe(3 * 4096);
  });

  it('rounds sizes up to the alignment', () => {
    const plan = planOffsets(
      [
        { id: 'x', bytes: 5, firstUse: 0, lastUse: 1 },
        { id: 'y', bytes: 3, firstUse: 1, lastUse: 1 },
      ],
      8,
    );
    expect(plan.arenaBytes).toBe(16);
  });
});

describe('planOffsets with buffers of parts (in-place chains)', () => {
  it('lets other buffers use the bytes of a part that is no longer live, and never overlaps live parts (200 seeded sets)', () => {
    // One chain: a wide part early, a narrow one late, at the chain's start; a buffer live only late fits in the
    // wide part's upper bytes.
    const chain: LiveBuffer = { id: 'chain', bytes: 1000, firstUse: 0, lastUse: 3, parts: [
      { offset: 0, bytes: 1000, firstUse: 0, lastUse: 1 },
      { offset: 0, bytes: 200, firstUse: 1, lastUse: 3 },
    ] };
    const late: LiveBuffer = { id: 'late', bytes: 600, firstUse: 2, lastUse: 3 };
    const plan = planOffsets([chain, late], 4);
    expect(plan.offsets.get('late')).toBe(200);
    expect(plan.arenaBytes).toBe(1000);
    expect(plan.peakLiveBytes).toBe(1000);

    for (let seed = 1; seed <= 200; seed++) {
      const random = new Random(seed);
      const buffers: LiveBuffer[] = randomIntervals(random).map((b) => {
        if (!random.bool(0.3) || b.bytes === 0) return b;
        const parts = Array.from({ length: random.int(2, 4) }, () => {
          const first = random.int(b.firstUse, b.lastUse);
          return { offset: 4 * random.int(0, 50), bytes: random.int(1, b.bytes), firstUse: first, lastUse: random.int(first, b.lastUse) };
        });
        return { ...b, bytes: Math.max(...parts.map((p) => p.offset + p.bytes)), parts };
      });
      const result = planOffsets(buffers, 4);
      const placed = buffers.flatMap((b) =>
        (b.parts ?? [{ offset: 0, bytes: b.bytes, firstUse: b.firstUse, lastUse: b.lastUse }]).map((p) => ({ id: b.id, start: result.offsets.get(b.id)! + p.offset, ...p })),
      );
      for (const a of placed) {
        expect(a.start + a.bytes).toBeLessThanOrEqual(result.arenaBytes);
        for (const b of placed) {
          if (a.id >= b.id || a.bytes === 0 || b.bytes === 0 || a.firstUse > b.lastUse || b.firstUse > a.lastUse) continue;
          if (a.start < b.start + b.bytes && b.start < a.start + a.bytes) throw new Error(`seed ${seed}: ${a.id} and ${b.id} overlap while live`);
        }
      }
    }
  });
});
