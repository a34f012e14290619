/**
 * Offset assignment for buffers with known lifetimes: the classic "dynamic storage allocation" problem, solved the
 * way TFLite's planners do it — greedy orders plus conflict-aware first fit — with several orders tried and the
 * smallest arena kept (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net Inference", 2020).
 *
 * A buffer is live over the closed step interval [firstUse, lastUse]; two buffers conflict when their intervals
 * intersect, and conflicting buffers never share a byte. Buffers that do not conflict may overlap freely.
 *
 * A buffer may be made of parts at fixed offsets from its start, each with a lifetime of its own (the tensors of a
 * chain of in-place layers, src/plan/index.ts): it is placed as one piece, but only its parts' bytes that are live at
 * a step block other buffers there. Treating it as one block live over the union of its parts would keep a wide
 * early tensor's bytes reserved while only a narrow late one still lives.
 */

/** A part of a buffer: `offset` bytes from its start, live over [firstUse, lastUse]. */
export interface BufferPart {
  offset: number;
  bytes: number;
  firstUse: number;
  lastUse: number;
}

export interface LiveBuffer {
  id: string;
  /** The extent: the end of its last byte (for a buffer of parts, the end of the highest part). */
  bytes: number;
  firstUse: number;
  lastUse: number;
  /** Absent: one part, the whole buffer over its whole lifetime. */
  parts?: readonly BufferPart[];
}

function partsOf(buffer: LiveBuffer): readonly BufferPart[] {
  return buffer.parts ?? [{ offset: 0, bytes: buffer.bytes, firstUse: buffer.firstUse, lastUse: buffer.lastUse }];
}

/** Bytes of the buffer live at a step: the union of its live parts' ranges. */
function liveBytesAt(buffer: LiveBuffer, step: number): number {
  if (!buffer.parts) return buffer.firstUse <= step && step <= buffer.lastUse ? buffer.bytes : 0;
  const live = buffer.parts.filter((p) => p.bytes > 0 && p.firstUse <= step && step <= p.lastUse).sort((a, b) => a.offset - b.offset);
  let total = 0;
  let end = -Infinity;
  for (const p of live) {
    const start = Math.max(p.offset, end);
    if (p.offset + p.bytes > start) total += p.offset + p.bytes - start;
    end = Math.max(end, p.offset + p.bytes);
  }
  return total;
}

export type PlacementOrder = 'greedy-by-size' | 'greedy-by-breadth' | 'greedy-by-duration' | 'first-use';

export interface OffsetPlan {
  /** Byte offset of every buffer (aligned). */
  offsets: Map<string, number>;
  /** End of the highest placed buffer, rounded up to the alignment. */
  arenaBytes: number;
  /** Largest sum of (aligned) sizes live at one step: no placement can do better. */
  peakLiveBytes: number;
  order: PlacementOrder;
  /** Arena size each order reached, for the report. */
  candidates: { order: PlacementOrder; arenaBytes: number }[];
}

const ORDERS: PlacementOrder[] = ['greedy-by-size', 'greedy-by-breadth', 'greedy-by-duration', 'first-use'];

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function conflicts(a: LiveBuffer, b: LiveBuffer): boolean {
  return a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
}

/** Places every buffer with each order and keeps the smallest arena (ties: the first order listed). */
export function planOffsets(buffers: readonly LiveBuffer[], alignment: number): OffsetPlan {
  const sized = buffers.map((b) => ({ ...b, bytes: alignUp(b.bytes, alignment) }));
  const candidates = ORDERS.map((order) => {
    const offsets = placeInOrder(sized, orderBuffers(sized, order), alignment);
    return { order, offsets, arenaBytes: arenaEnd(sized, offsets) };
  });
  const best = candidates.reduce((a, b) => (b.arenaBytes < a.arenaBytes ? b : a));
  return {
    offsets: best.offsets,
    arenaBytes: best.arenaBytes,
    peakLiveBytes: peakLiveBytes(sized),
    order: best.order,
    candidates: candidates.map(({ order, arenaBytes }) => ({ order, arenaBytes })),
  };
}

/** The order in which buffers are handed to first fit. */
function orderBuffers(buffers: readonly LiveBuffer[], order: PlacementOrder): LiveBuffer[] {
  const bySizeThenLifetime = (a: LiveBuffer, b: LiveBuffer): number =>
    b.bytes - a.bytes || b.lastUse - b.firstUse - (a.lastUse - a.firstUse) || a.firstUse - b.firstUse || compareIds(a, b);
  switch (order) {
    case 'greedy-by-size':
      return [...buffers].sort(bySizeThenLifetime);
    case 'greedy-by-duration':
      return [...buffers].sort(
        (a, b) => b.lastUse - b.firstUse - (a.lastUse - a.firstUse) || bySizeThenLifetime(a, b),
      );
    case 'greedy-by-breadth':
      return byBreadth(buffers, bySizeThenLifetime);
    case 'first-use':
      // Execution order, as a linear allocator would see the buffers, but with first fit: strong on chains.
      return [...buffers].sort((a, b) => a.firstUse - b.firstUse || bySizeThenLifetime(a, b));
  }
}

/**
 * Steps in decreasing order of their breadth (the bytes live at that step); each step contributes its not yet
 * ordered buffers, largest first. The widest moment of the network is packed first, where packing matters most.
 */
function byBreadth(buffers: readonly LiveBuffer[], within: (a: LiveBuffer, b: LiveBuffer) => number): LiveBuffer[] {
  const steps = stepRange(buffers);
  const breadth = new Map<number, number>();
  for (const b of buffers) for (let s = b.firstUse; s <= b.lastUse; s++) breadth.set(s, (breadth.get(s) ?? 0) + liveBytesAt(b, s));
  const stepOrder = steps.sort((a, b) => (breadth.get(b) ?? 0) - (breadth.get(a) ?? 0) || a - b);
  const taken = new Set<LiveBuffer>();
  const ordered: LiveBuffer[] = [];
  for (const step of stepOrder) {
    const live = buffers.filter((b) => !taken.has(b) && b.firstUse <= step && step <= b.lastUse).sort(within);
    for (const b of live) {
      taken.add(b);
      ordered.push(b);
    }
  }
  return ordered;
}

function stepRange(buffers: readonly LiveBuffer[]): number[] {
  const steps = new Set<number>();
  for (const b of buffers) for (let s = b.firstUse; s <= b.lastUse; s++) steps.add(s);
  return [...steps];
}

/**
 * Conflict-aware first fit: the lowest aligned offset at which none of the buffer's parts shares a byte with a part
 * of an already placed buffer live at a common step.
 */
function placeInOrder(all: readonly LiveBuffer[], ordered: readonly LiveBuffer[], alignment: number): Map<string, number> {
  const offsets = new Map<string, number>();
  const placed: LiveBuffer[] = [];
  for (const buffer of ordered) {
    // Offsets X that would make a part of this buffer overlap a live part of a placed one: lo < X < hi.
    const forbidden: [number, number][] = [];
    for (const other of placed) {
      const base = offsets.get(other.id)!;
      for (const theirs of partsOf(other)) {
        if (theirs.bytes === 0) continue;
        for (const mine of partsOf(buffer)) {
          if (mine.bytes === 0 || mine.firstUse > theirs.lastUse || theirs.firstUse > mine.lastUse) continue;
          forbidden.push([base + theirs.offset - mine.offset - mine.bytes, base + theirs.offset + theirs.bytes - mine.offset]);
        }
      }
    }
    forbidden.sort((a, b) => a[0] - b[0]);
    let candidate = 0;
    for (let moved = true; moved; ) {
      moved = false;
      for (const [lo, hi] of forbidden) {
        if (lo < candidate && candidate < hi) {
          candidate = alignUp(hi, alignment);
          moved = true;
        }
      }
    }
    offsets.set(buffer.id, candidate);
    placed.push(buffer);
  }
  if (offsets.size !== all.length) throw new Error('offset planner lost a buffer (duplicate ids?)');
  return offsets;
}

function arenaEnd(buffers: readonly LiveBuffer[], offsets: Map<string, number>): number {
  return buffers.reduce((end, b) => Math.max(end, offsets.get(b.id)! + b.bytes), 0);
}

export function peakLiveBytes(buffers: readonly LiveBuffer[]): number {
  // Live sums change only where a part starts, so the maximum is reached at some part's firstUse.
  let peak = 0;
  for (const start of new Set(buffers.flatMap((b) => partsOf(b).map((p) => p.firstUse)))) {
    peak = Math.max(peak, buffers.reduce((sum, b) => sum + liveBytesAt(b, start), 0));
  }
  return peak;
}

function compareIds(a: LiveBuffer, b: LiveBuffer): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
