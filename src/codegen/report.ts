/**
 * What `tinyedge compile --json` prints: the memory plan and the layers of a generated library, as plain JSON data.
 */
import type { Graph } from '../ir/types.js';
import { planArena, type BufferKind, type IoPlacement } from '../plan/index.js';
import type { PlacementOrder } from '../plan/offsets.js';
import { libraryFileNames, type GeneratedLibrary } from './index.js';
import type { WeightStorage } from './kernel-call.js';

export interface CompileReport {
  model: string;
  /** P in tinyedge_P_run. */
  prefix: string;
  files: string[];
  /** Static RAM of the arena. */
  arenaBytes: number;
  /** The largest total of tensors live at one layer: the bound no plan can beat. */
  peakBytes: number;
  /** The arena if the inputs and outputs were copied into it too (TFLite-Micro's layout), for comparison. */
  arenaBytesWithIo: number;
  io: IoPlacement;
  alignment: number;
  placement: PlacementOrder;
  placementCandidates: { order: PlacementOrder; arenaBytes: number }[];
  /** Weights, biases, requantization constants and tables (flash). */
  constantBytes: number;
  tensors: { name: string; buffer: BufferKind; offset: number; bytes: number; firstUse: number; lastUse: number; aliasOf?: string; ioIndex?: number }[];
  scratch: { layer: number; purpose: string; offset: number; bytes: number }[];
  layers: {
    index: number;
    name: string;
    op: string;
    function: string | null;
    scratchBytes: number;
    weights?: WeightStorage;
    noCode?: string;
    /** The input whose bytes the layer's output overwrites (an in-place kernel). */
    inPlaceOver?: string;
  }[];
}

export function compileReport(graph: Graph, library: GeneratedLibrary): CompileReport {
  const plan = library.plan;
  // The same plan (fusions, scratch, zero-copy slices) with the inputs and outputs in the arena too.
  const withIo = planArena(library.planned.graph, { ...library.planned.options, alignment: plan.alignment, io: 'arena' });
  return {
    model: graph.name,
    prefix: library.prefix,
    files: Object.values(libraryFileNames(library.prefix)),
    arenaBytes: plan.arenaBytes,
    peakBytes: plan.peakLiveBytes,
    arenaBytesWithIo: withIo.arenaBytes,
    io: plan.io,
    alignment: plan.alignment,
    placement: plan.order,
    placementCandidates: plan.candidates,
    constantBytes: library.constantBytes,
    tensors: plan.tensors.map((t) => ({
      name: t.name,
      buffer: t.buffer,
      offset: t.offset,
      bytes: t.bytes,
      firstUse: t.firstUse,
      lastUse: t.lastUse,
      ...(t.aliasOf ? { aliasOf: t.aliasOf } : {}),
      ...(t.ioIndex !== undefined ? { ioIndex: t.ioIndex } : {}),
    })),
    scratch: plan.scratch.map((s) => ({ layer: s.node, purpose: s.purpose, offset: s.offset, bytes: s.bytes })),
    layers: library.layers.map((l) => ({
      index: l.index,
      name: l.name,
      op: l.op,
      function: l.function,
      scratchBytes: l.scratchBytes,
      ...(l.weights ? { weights: l.weights } : {}),
      ...(l.noCode ? { noCode: l.noCode } : {}),
      ...(l.inPlaceOver ? { inPlaceOver: l.inPlaceOver } : {}),
    })),
  };
}
