/**
 * When the device's outputs differ from the reference: which layer diverges first?
 *
 * The device gives only the graph's outputs, so the firmware is rebuilt with taps: the same graph with
 * intermediate tensors added as extra outputs. The layers' kernels are generated exactly as before (only where
 * their outputs are stored changes), the tap firmware runs on the same device with the same inputs, and every
 * tapped tensor is compared with the reference interpreter's intermediate of the same name. The first tensor in
 * execution order that differs names the layer: all its inputs matched (they are earlier taps, graph inputs or
 * constants) and its output did not. Taps go in batches that fit the RAM the firmware leaves free; batches run in
 * execution order and the search stops at the first that diverges.
 *
 * A rebuild on the host (gcc) would be cheaper but would not run the device's kernels (SIMD paths, the target's
 * compiler); the tap firmware does. If the taps all match and the outputs no longer differ, the fault depends on
 * where tensors are placed in memory, and that is what is reported.
 */
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { Graph, GraphIO, TensorData } from '../ir/types.js';
import { compareTensors, type TensorComparison } from './validate.js';

export interface DivergingLayer extends TensorComparison {
  index: number;
  name: string;
  op: string;
  /** The tensor that differed (the layer's output). */
  tensor: string;
}

export interface DivergenceDiagnosis {
  layer?: DivergingLayer;
  /** One line: what the taps showed. */
  note: string;
  /** Tap firmwares built and run. */
  tapBuilds: number;
}

/** Runs a tap graph on the device: its outputs in graph.outputs order (the original outputs first, then the taps). */
export type RunTapGraph = (graph: Graph, taps: readonly string[]) => Promise<TensorData[]>;

/** A tap graph that does not fit the device: split the batch and try again. */
export class TapBatchTooLarge extends Error {}

export interface DivergenceSearch {
  graph: Graph;
  /** The reference interpreter's intermediates for the same inputs (keepIntermediates). */
  reference: Map<string, TensorData>;
  /** Bytes of tapped tensors one firmware may hold. */
  budgetBytes: number;
  run: RunTapGraph;
  onBatch?: (batch: { first: string; count: number; bytes: number }) => void;
}

/** Tensors worth tapping, in execution order: outputs of layers with code (a Reshape only renames its input). */
export function tapCandidates(graph: Graph): string[] {
  const outputs = new Set(graph.outputs.map((io) => io.tensor));
  return graph.nodes.filter((node) => node.op !== 'Reshape').flatMap((node) => node.outputs.filter((t) => t !== '' && !outputs.has(t)));
}

export function tensorBytes(graph: Graph, name: string): number {
  const tensor = tensorOf(graph, name);
  return elementCount(tensor.shape) * dtypeBytes(tensor.dtype);
}

/** Consecutive runs of candidates whose bytes stay within the budget (a tensor larger than it goes alone). */
export function tapBatches(graph: Graph, candidates: readonly string[], budgetBytes: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const tensor of candidates) {
    const size = tensorBytes(graph, tensor);
    if (current.length > 0 && bytes + size > budgetBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(tensor);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The graph with `taps` appended to its outputs, in the IR dtype (no boundary conversion). */
export function tapGraph(graph: Graph, taps: readonly string[]): Graph {
  const extra: GraphIO[] = taps.map((tensor) => ({ tensor, name: tensor, externalDtype: tensorOf(graph, tensor).dtype }));
  return { ...graph, outputs: [...graph.outputs, ...extra] };
}

export async function findFirstDivergingLayer(search: DivergenceSearch): Promise<DivergenceDiagnosis> {
  const { graph, reference } = search;
  const producer = new Map(graph.nodes.flatMap((node, index) => node.outputs.map((t) => [t, index] as const)));
  const layerOf = (tensor: string, comparison: TensorComparison): DivergingLayer => {
    const index = producer.get(tensor)!;
    const node = graph.nodes[index]!;
    return { index, name: node.name, op: node.op, tensor, ...comparison };
  };
  let tapBuilds = 0;
  /** Graph outputs that still differ in the tap firmware, with how. */
  const differing = new Map<string, TensorComparison>();
  const pending = tapBatches(graph, tapCandidates(graph), search.budgetBytes);
  // A run with no taps at all still tells whether the outputs differ (a graph whose only layers produce outputs).
  if (pending.length === 0) pending.push([]);

  while (pending.length > 0) {
    const batch = pending.shift()!;
    search.onBatch?.({ first: batch[0] ?? '', count: batch.length, bytes: batch.reduce((s, t) => s + tensorBytes(graph, t), 0) });
    let outputs: TensorData[];
    try {
      outputs = await search.run(tapGraph(graph, batch), batch);
      tapBuilds++;
    } catch (error) {
      if (!(error instanceof TapBatchTooLarge)) throw error;
      if (batch.length <= 1) {
        return { note: `the tap firmware for '${batch[0]}' does not fit the device: no layer can be named`, tapBuilds };
      }
      const half = Math.ceil(batch.length / 2);
      pending.unshift(batch.slice(0, half), batch.slice(half));
      continue;
    }
    const originals = graph.outputs.length;
    graph.outputs.forEach((io, i) => {
      const comparison = compareTensors(outputs[i]!, reference.get(io.tensor)!);
      if (comparison.mismatches > 0) differing.set(io.tensor, comparison);
    });
    for (const [i, tensor] of batch.entries()) {
      const comparison = compareTensors(outputs[originals + i]!, reference.get(tensor)!);
      if (comparison.mismatches > 0) {
        return { layer: layerOf(tensor, comparison), note: `first differing intermediate: '${tensor}'`, tapBuilds };
      }
    }
  }
  if (differing.size === 0) {
    return {
      note: 'with the intermediate tensors exposed the outputs match the reference: the fault depends on where tensors are placed in memory',
      tapBuilds,
    };
  }
  // Every intermediate matched: a layer that writes a graph output diverged, from inputs that were right.
  const first = [...differing.keys()].filter((tensor) => producer.has(tensor)).sort((a, b) => producer.get(a)! - producer.get(b)!)[0];
  if (first === undefined) return { note: 'every intermediate matches and no layer writes the differing output', tapBuilds };
  return { layer: layerOf(first, differing.get(first)!), note: `every intermediate matches; output '${first}' differs`, tapBuilds };
}
