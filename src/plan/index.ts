/**
 * The static memory plan: every activation tensor and kernel scratch buffer gets a fixed offset in one arena, so the
 * generated code needs no allocator.
 *
 * Graph inputs and outputs: by default (`io: 'caller'`) kernels read the caller's input buffers and write the caller's
 * output buffers directly. The application already owns those buffers (it fills the input and reads the result), so
 * copying them through the arena would only add RAM and two memcpys per inference. `io: 'arena'` plans them in the
 * arena like any other tensor (TFLite-Micro's layout), which the report uses as the like-for-like comparison.
 *
 * Slices (zero-copy concatenation): a tensor may be given no storage of its own and live inside another tensor's
 * storage at a byte offset instead — a Concat input that its producer writes straight into its part of the Concat's
 * output. The containing storage is then live from the first write of any slice to its own last read, which is never
 * longer in total than the separate input buffers plus the output it replaces (they are all live at the Concat's
 * step anyway).
 *
 * Overlays (in-place kernels): a node's output may be placed over one of its inputs that dies at that node, both
 * starting at the same byte or both ending at the same byte, when its kernel guarantees that it never overwrites an
 * input byte it still has to read (src/codegen/lower/in-place.ts decides which to take). The two storages become one
 * of the larger extent, live over both lifetimes. Chains of overlays (depthwise in place, then a pointwise in place
 * over its output) make one storage whose members follow each other in time.
 */
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { Graph } from '../ir/types.js';
import { computeLiveness, type Liveness, type Storage } from './liveness.js';
import { alignUp, planOffsets, type BufferPart, type LiveBuffer, type PlacementOrder } from './offsets.js';

export type IoPlacement = 'caller' | 'arena';

/** A kernel's request for a buffer that lives only while its node runs (im2col and the like). */
export interface ScratchRequest {
  /** Index of the node in graph.nodes. */
  node: number;
  bytes: number;
  /** What it holds, for the report ("im2col"). */
  purpose: string;
}

/** A tensor stored inside another tensor's storage (see the header). */
export interface TensorSlice {
  /** The tensor without storage of its own: a node output that no Reshape aliases. */
  tensor: string;
  /** The tensor whose storage holds it (itself no slice); its storage must be planned in the arena. */
  within: string;
  /** Offset of the slice's first element from the start of `within`. */
  byteOffset: number;
  /**
   * Bytes from byteOffset that the slice's elements span: its own size for a contiguous block, more for a
   * channel slice whose rows are interleaved with the other inputs' rows.
   */
  extentBytes: number;
}

/** A node output placed over one of the node's inputs (see the header). */
export interface TensorOverlay {
  output: string;
  input: string;
  /** Both start at the same byte, or both end at the same byte. */
  align: 'start' | 'end';
}

export interface PlanOptions {
  /** Byte alignment of every offset; default 4 (int32 tensors and word loads). */
  alignment?: number;
  io?: IoPlacement;
  scratch?: readonly ScratchRequest[];
  slices?: readonly TensorSlice[];
  overlays?: readonly TensorOverlay[];
}

/** Where a tensor's bytes are at run time. */
export type BufferKind = 'arena' | 'input' | 'output' | 'constant';

export interface PlannedTensor {
  name: string;
  bytes: number;
  firstUse: number;
  lastUse: number;
  buffer: BufferKind;
  /** Byte offset in the arena (buffer 'arena'); 0 otherwise. */
  offset: number;
  /** Index into the caller's inputs or outputs (buffer 'input' / 'output'). */
  ioIndex?: number;
  /** The tensor whose storage this Reshape output shares. */
  aliasOf?: string;
  /** Set for a slice (and its Reshape aliases): the tensor whose storage holds it, and where in it. */
  sliceOf?: { tensor: string; byteOffset: number };
  /** Bytes from `offset` its elements span, when more than `bytes` (an interleaved channel slice). */
  extentBytes?: number;
}

export interface PlannedScratch extends ScratchRequest {
  offset: number;
}

/** Data movement the run function must do besides the layers. */
export interface BoundaryCopy {
  tensor: string;
  /** inputs[index] -> tensor before the first layer, or tensor -> outputs[index] after the last one. */
  direction: 'in' | 'out';
  index: number;
  bytes: number;
}

export interface ArenaPlan {
  arenaBytes: number;
  /** The largest sum of arena buffers live at one step: the lower bound any placement must reach. */
  peakLiveBytes: number;
  alignment: number;
  io: IoPlacement;
  order: PlacementOrder;
  candidates: { order: PlacementOrder; arenaBytes: number }[];
  tensors: PlannedTensor[];
  scratch: PlannedScratch[];
  copies: BoundaryCopy[];
}

export function planArena(graph: Graph, options: PlanOptions = {}): ArenaPlan {
  const alignment = options.alignment ?? 4;
  const io = options.io ?? 'caller';
  const slices = new Map((options.slices ?? []).map((s) => [s.tensor, s]));
  const sliced = withSlices(computeLiveness(graph), slices);
  const sliceIo = placeStorages(graph, sliced.storages, io);
  for (const slice of slices.values()) {
    const container = sliceIo.get(sliced.rootOf.get(slice.within)!)!;
    if (container.buffer !== 'arena') throw new Error(`slice '${slice.tensor}' of '${slice.within}': the container is not planned in the arena (${container.buffer})`);
  }
  const sliceRoots = new Set([...slices.values()].flatMap((s) => [sliced.rootOf.get(s.within)!]));
  const overlaid = withOverlays(graph, sliced, options.overlays ?? [], sliceIo, sliceRoots, alignment);
  const liveness = overlaid.liveness;
  const placement = placeStorages(graph, liveness.storages, io);

  const arenaStorages = liveness.storages.filter((s) => placement.get(s.root)!.buffer === 'arena');
  const scratch = (options.scratch ?? []).filter((s) => s.bytes > 0);
  const buffers: LiveBuffer[] = [
    ...arenaStorages.map((s) => {
      const parts = overlaid.parts.get(s.root);
      return { id: `tensor:${s.root}`, bytes: s.bytes, firstUse: s.firstUse, lastUse: s.lastUse, ...(parts ? { parts } : {}) };
    }),
    ...scratch.map((s, i) => ({ id: `scratch:${i}`, bytes: s.bytes, firstUse: s.node, lastUse: s.node })),
  ];
  const offsets = planOffsets(buffers, alignment);

  const tensors: PlannedTensor[] = liveness.tensors.map((t) => {
    const ownRoot = t.aliasOf ?? t.name;
    const slice = slices.get(ownRoot);
    const root = liveness.rootOf.get(t.name)!;
    const where = placement.get(root)!;
    // Within the planned storage: where the overlay put this tensor's own storage, then where the slice is in it.
    const inStorage = (overlaid.offsetIn.get(sliced.rootOf.get(t.name)!) ?? 0) + (slice?.byteOffset ?? 0);
    const offset = where.buffer === 'arena' ? offsets.offsets.get(`tensor:${root}`)! + inStorage : 0;
    return {
      name: t.name,
      bytes: t.bytes,
      firstUse: t.firstUse,
      lastUse: t.lastUse,
      buffer: where.buffer,
      offset,
      ...(where.ioIndex !== undefined ? { ioIndex: where.ioIndex } : {}),
      ...(t.aliasOf ? { aliasOf: t.aliasOf } : {}),
      ...(slice ? { sliceOf: { tensor: slice.within, byteOffset: slice.byteOffset } } : {}),
      ...(slice && slice.extentBytes > t.bytes ? { extentBytes: slice.extentBytes } : {}),
    };
  });

  return {
    arenaBytes: offsets.arenaBytes,
    peakLiveBytes: offsets.peakLiveBytes,
    alignment,
    io,
    order: offsets.order,
    candidates: offsets.candidates,
    tensors,
    scratch: scratch.map((s, i) => ({ ...s, offset: offsets.offsets.get(`scratch:${i}`)! })),
    copies: boundaryCopies(graph, tensors, io),
  };
}

/**
 * Liveness with every slice's storage merged into its container's: one storage, live over the union of both, whose
 * members include the slice and its aliases. rootOf then maps a slice's tensors to the container's root.
 */
function withSlices(liveness: Liveness, slices: ReadonlyMap<string, TensorSlice>): Liveness {
  if (slices.size === 0) return liveness;
  const storages = new Map(liveness.storages.map((s) => [s.root, { ...s, members: [...s.members] }]));
  const rootOf = new Map(liveness.rootOf);
  for (const slice of slices.values()) {
    const own = storages.get(slice.tensor);
    const containerRoot = liveness.rootOf.get(slice.within);
    if (!own || liveness.rootOf.get(slice.tensor) !== slice.tensor) throw new Error(`slice '${slice.tensor}' is not a storage of its own (a Reshape alias or not an activation)`);
    if (containerRoot === undefined || slices.has(containerRoot)) throw new Error(`slice '${slice.tensor}': its container '${slice.within}' is not an activation or is a slice itself`);
    const container = storages.get(containerRoot)!;
    if (slice.byteOffset < 0 || slice.byteOffset + slice.extentBytes > container.bytes || own.bytes > slice.extentBytes) {
      throw new Error(`slice '${slice.tensor}' (${own.bytes} bytes spanning ${slice.extentBytes} at ${slice.byteOffset}) does not fit in '${slice.within}' (${container.bytes} bytes)`);
    }
    container.members.push(...own.members);
    container.firstUse = Math.min(container.firstUse, own.firstUse);
    container.lastUse = Math.max(container.lastUse, own.lastUse);
    storages.delete(slice.tensor);
    for (const member of own.members) rootOf.set(member, containerRoot);
  }
  return { tensors: liveness.tensors, storages: [...storages.values()], rootOf };
}

/**
 * Liveness with every overlay's two storages merged into one: members keep their byte offset inside it (offsetIn,
 * by their storage root before the merge) and their own lifetimes (parts, by the merged storage's root, for the
 * offset planner); rootOf maps every tensor to the merged storage's root.
 *
 * 'end' puts the input's last byte at the output's last byte, or past it where that is not a multiple of the
 * alignment: the input only has to start no earlier than (output bytes - input bytes) after the output for the
 * kernel's order of reads and writes to be safe (src/codegen/lower/dsp/conv2d.ts), and every tensor stays aligned.
 */
function withOverlays(
  graph: Graph,
  liveness: Liveness,
  overlays: readonly TensorOverlay[],
  placement: ReadonlyMap<string, Placement>,
  sliceRoots: ReadonlySet<string>,
  alignment: number,
): { liveness: Liveness; offsetIn: Map<string, number>; parts: Map<string, BufferPart[]> } {
  const offsetIn = new Map<string, number>();
  const parts = new Map<string, BufferPart[]>();
  if (overlays.length === 0) return { liveness, offsetIn, parts };
  const byRoot = new Map(liveness.storages.map((s) => [s.root, s]));
  // Groups of pre-merge storages with their relative offsets; a storage's group is found through groupOf.
  const groupOf = new Map<string, string>();
  const groups = new Map<string, Map<string, number>>();
  const groupFor = (root: string): Map<string, number> => {
    const key = groupOf.get(root) ?? root;
    let group = groups.get(key);
    if (!group) {
      group = new Map([[root, 0]]);
      groups.set(key, group);
      groupOf.set(root, key);
    }
    return group;
  };
  for (const overlay of overlays) {
    const outputRoot = liveness.rootOf.get(overlay.output);
    const inputRoot = liveness.rootOf.get(overlay.input);
    const describe = `overlay of '${overlay.output}' on '${overlay.input}'`;
    if (outputRoot === undefined || inputRoot === undefined) throw new Error(`${describe}: not activations`);
    if (outputRoot === inputRoot) throw new Error(`${describe}: they already share storage`);
    for (const root of [outputRoot, inputRoot]) {
      if (sliceRoots.has(root)) throw new Error(`${describe}: '${root}' holds concatenation slices`);
      if (placement.get(root)?.buffer !== 'arena') throw new Error(`${describe}: '${root}' is not planned in the arena`);
    }
    const producer = graph.nodes.findIndex((n) => n.outputs.includes(overlay.output));
    const input = byRoot.get(inputRoot)!;
    if (producer < 0 || !graph.nodes[producer]!.inputs.includes(overlay.input) || input.lastUse !== producer) {
      throw new Error(`${describe}: the input must be read by the output's producer and die there`);
    }
    const output = byRoot.get(outputRoot)!;
    const outputGroup = groupFor(outputRoot);
    const inputGroup = groupFor(inputRoot);
    if (outputGroup === inputGroup) throw new Error(`${describe}: a cycle of overlays`);
    // Offset of the output's storage relative to the input's.
    const delta = overlay.align === 'start' ? 0 : -alignUp(Math.max(0, output.bytes - input.bytes), alignment);
    const shift = inputGroup.get(inputRoot)! + delta - outputGroup.get(outputRoot)!;
    const key = groupOf.get(inputRoot)!;
    for (const [root, offset] of outputGroup) {
      inputGroup.set(root, offset + shift);
      groups.delete(groupOf.get(root)!);
      groupOf.set(root, key);
    }
    groups.set(key, inputGroup);
  }

  const storages = liveness.storages.filter((s) => !groupOf.has(s.root));
  const rootOf = new Map(liveness.rootOf);
  for (const group of new Set(groups.values())) {
    const members = [...group].map(([root, offset]) => ({ storage: byRoot.get(root)!, offset }));
    const base = Math.min(...members.map((m) => m.offset));
    members.sort((a, b) => a.storage.firstUse - b.storage.firstUse);
    const root = members[0]!.storage.root;
    for (const m of members) {
      offsetIn.set(m.storage.root, m.offset - base);
      for (const name of m.storage.members) rootOf.set(name, root);
    }
    for (const a of members) {
      for (const b of members) {
        if (a === b || a.storage.root > b.storage.root) continue;
        const bytesOverlap = a.offset < b.offset + b.storage.bytes && b.offset < a.offset + a.storage.bytes;
        const overlapsInTime = a.storage.firstUse < b.storage.lastUse && b.storage.firstUse < a.storage.lastUse;
        if (bytesOverlap && overlapsInTime) throw new Error(`overlays place '${a.storage.root}' and '${b.storage.root}' on the same bytes while both are live`);
      }
    }
    storages.push({
      root,
      members: members.flatMap((m) => m.storage.members),
      bytes: Math.max(...members.map((m) => m.offset - base + m.storage.bytes)),
      firstUse: Math.min(...members.map((m) => m.storage.firstUse)),
      lastUse: Math.max(...members.map((m) => m.storage.lastUse)),
    });
    parts.set(
      root,
      members.map((m) => ({ offset: m.offset - base, bytes: m.storage.bytes, firstUse: m.storage.firstUse, lastUse: m.storage.lastUse })),
    );
  }
  return { liveness: { tensors: liveness.tensors, storages, rootOf }, offsetIn, parts };
}

interface Placement {
  buffer: BufferKind;
  ioIndex?: number;
}

/** Chooses, per storage, between the arena, a caller buffer and the constant data itself. */
function placeStorages(graph: Graph, storages: readonly Storage[], io: IoPlacement): Map<string, Placement> {
  const placement = new Map<string, Placement>();
  for (const storage of storages) {
    if (tensorOf(graph, storage.root).data !== undefined) {
      placement.set(storage.root, { buffer: 'constant' });
      continue;
    }
    if (io === 'caller') {
      const inputIndex = graph.inputs.findIndex((g) => g.tensor === storage.root);
      if (inputIndex >= 0) {
        placement.set(storage.root, { buffer: 'input', ioIndex: inputIndex });
        continue;
      }
      const outputIndex = graph.outputs.findIndex((g) => storage.members.includes(g.tensor));
      if (outputIndex >= 0) {
        placement.set(storage.root, { buffer: 'output', ioIndex: outputIndex });
        continue;
      }
    }
    placement.set(storage.root, { buffer: 'arena' });
  }
  return placement;
}

/**
 * Copies in and out of the caller's buffers. With caller placement only the outputs whose storage is elsewhere
 * (an input passed straight through, the same storage listed as two outputs) need one.
 */
function boundaryCopies(graph: Graph, tensors: readonly PlannedTensor[], io: IoPlacement): BoundaryCopy[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const copies: BoundaryCopy[] = [];
  graph.inputs.forEach((g, index) => {
    const t = byName.get(g.tensor);
    if (t && t.buffer === 'arena') copies.push({ tensor: g.tensor, direction: 'in', index, bytes: t.bytes });
  });
  graph.outputs.forEach((g, index) => {
    const t = byName.get(g.tensor);
    const inPlace = t?.buffer === 'output' && t.ioIndex === index;
    const bytes = t?.bytes ?? tensorBytes(graph, g.tensor);
    if (!inPlace) copies.push({ tensor: g.tensor, direction: 'out', index, bytes });
  });
  return copies;
}

function tensorBytes(graph: Graph, name: string): number {
  const tensor = tensorOf(graph, name);
  return elementCount(tensor.shape) * dtypeBytes(tensor.dtype);
}
