/**
 * Offset assignment for buffers with known lifetimes: the classic "dynamic storage allocation" problem, solved the
 * way TFLite's planners do it — greedy orders plus conflict-aware first fit — with several orders tried and the
 * smallest arena kept (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net Inference", 2020).
 *
 * A buffer is live over the closed step interval [firstUse, lastUse]; two buffers conflict when their intervals
 * intersect, and conflicting buffers never share a byte. Buffers that do not conflict may overlap freely.
 */

export interface LiveBuffer {
  id: string;
  bytes: number;
  firstUse: number;
  lastUse: number;
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
  for (const b of buffers) for (let s = b.firstUse; s <= b.lastUse; s++) breadth.set(s, (breadth.get(s) ?? 0) + b.bytes);
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

/** Conflict-aware first fit: the lowest offset whose gap between conflicting, already placed buffers is large enough. */
function placeInOrder(all: readonly LiveBuffer[], ordered: readonly LiveBuffer[], alignment: number): Map<string, number> {
  const offsets = new Map<string, number>();
  const placed: LiveBuffer[] = [];
  for (const buffer of ordered) {
    const blocking = placed
      .filter((p) => p.bytes > 0 && conflicts(p, buffer))
      .map((p) => ({ start: offsets.get(p.id)!, end: offsets.get(p.id)! + p.bytes }))
      .sort((a, b) => a.start - b.start);
    let candidate = 0;
    for (const range of blocking) {
      if (candidate + buffer.bytes <= range.start) break;
      candidate = Math.max(candidate, alignUp(range.end, alignment));
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
  // Live sums change only where a buffer starts, so the maximum is reached at some firstUse.
  let peak = 0;
  for (const start of new Set(buffers.map((b) => b.firstUse))) {
    const live = buffers.reduce((sum, b) => (b.firstUse <= start && start <= b.lastUse ? sum + b.bytes : sum), 0);
    peak = Math.max(peak, live);
  }
  return peak;
}

function compareIds(a: LiveBuffer, b: LiveBuffer): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
