/**
 * The static memory plan: every activation tensor and kernel scratch buffer gets a fixed offset in one arena, so the
 * generated code needs no allocator.
 *
 * Graph inputs and outputs: by default (`io: 'caller'`) kernels read the caller's input buffers and write the caller's
 * output buffers directly. The application already owns those buffers (it fills the input and reads the result), so
 * copying them through the arena would only add RAM and two memcpys per inference. `io: 'arena'` plans them in the
 * arena like any other tensor (TFLite-Micro's layout), which the report uses as the like-for-like comparison.
 */
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { Graph } from '../ir/types.js';
import { computeLiveness, type Storage } from './liveness.js';
import { planOffsets, type LiveBuffer, type PlacementOrder } from './offsets.js';

export type IoPlacement = 'caller' | 'arena';

/** A kernel's request for a buffer that lives only while its node runs (im2col and the like). */
export interface ScratchRequest {
  /** Index of the node in graph.nodes. */
  node: number;
  bytes: number;
  /** What it holds, for the report ("im2col"). */
  purpose: string;
}

export interface PlanOptions {
  /** Byte alignment of every offset; default 4 (int32 tensors and word loads). */
  alignment?: number;
  io?: IoPlacement;
  scratch?: readonly ScratchRequest[];
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
  const liveness = computeLiveness(graph);
  const placement = placeStorages(graph, liveness.storages, io);

  const arenaStorages = liveness.storages.filter((s) => placement.get(s.root)!.buffer === 'arena');
  const scratch = (options.scratch ?? []).filter((s) => s.bytes > 0);
  const buffers: LiveBuffer[] = [
    ...arenaStorages.map((s) => ({ id: `tensor:${s.root}`, bytes: s.bytes, firstUse: s.firstUse, lastUse: s.lastUse })),
    ...scratch.map((s, i) => ({ id: `scratch:${i}`, bytes: s.bytes, firstUse: s.node, lastUse: s.node })),
  ];
  const offsets = planOffsets(buffers, alignment);

  const tensors: PlannedTensor[] = liveness.tensors.map((t) => {
    const where = placement.get(t.aliasOf ?? t.name)!;
    return {
      name: t.name,
      bytes: t.bytes,
      firstUse: t.firstUse,
      lastUse: t.lastUse,
      buffer: where.buffer,
      offset: where.buffer === 'arena' ? offsets.offsets.get(`tensor:${t.aliasOf ?? t.name}`)! : 0,
      ...(where.ioIndex !== undefined ? { ioIndex: where.ioIndex } : {}),
      ...(t.aliasOf ? { aliasOf: t.aliasOf } : {}),
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
