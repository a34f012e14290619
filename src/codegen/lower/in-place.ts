/**
 * In-place kernels: a layer writes its output over an input that dies with it (TinyEngine's in-place depthwise,
 * pointwise convolutions whose output pixel p is written only after input pixel p was read, a residual Add's output
 * over the residual). Each kernel says which inputs it can overwrite and how the two must be aligned
 * (KernelCall.inPlace); this step decides which of those offers to take.
 *
 * An offer is only worth taking where it lowers the arena: running in place can cost a little (the depthwise kernel
 * copies each row out of a ring of row buffers), and a lone overlay rarely lowers the peak (KWS needs both its
 * depthwise and its pointwise layers in place before the 2 x 8,000-byte step disappears). So every feasible offer is
 * taken in execution order while the arena does not grow, and then every taken one is given back, last first, where
 * the arena stays as small without it.
 */
import { tensorOf } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { IoPlacement, TensorOverlay, TensorSlice } from '../../plan/index.js';
import { computeLiveness } from '../../plan/liveness.js';
import { isKernelCall, type InPlaceOption, type KernelCall, type Lowering } from '../kernel-call.js';

export interface InPlacePlacement {
  /** The lowerings, those running in place rendered with `inPlace: true` and their in-place scratch. */
  lowerings: Lowering[];
  overlays: TensorOverlay[];
}

interface Offer {
  node: number;
  overlay: TensorOverlay;
  call: KernelCall;
}

/**
 * `graph` is the graph that will be planned (index-aligned with `lowerings`); `arenaBytes` plans the arena for the
 * given lowerings (their scratch) and overlays, with the concatenation slices already chosen (`slices`).
 */
export function placeOutputsInPlace(
  graph: Graph,
  lowerings: readonly Lowering[],
  slices: readonly TensorSlice[],
  io: IoPlacement,
  arenaBytes: (lowerings: readonly Lowering[], overlays: readonly TensorOverlay[]) => number,
): InPlacePlacement {
  const offers = feasibleOffers(graph, lowerings, slices, io);
  if (offers.length === 0) return { lowerings: [...lowerings], overlays: [] };
  const apply = (taken: readonly Offer[]): InPlacePlacement => {
    const result = [...lowerings];
    for (const offer of taken) result[offer.node] = offer.call;
    return { lowerings: result, overlays: taken.map((o) => o.overlay) };
  };
  const size = (taken: readonly Offer[]): number => {
    const placement = apply(taken);
    return arenaBytes(placement.lowerings, placement.overlays);
  };

  let taken: Offer[] = [];
  let best = size(taken);
  for (const offer of offers) {
    if (taken.some((t) => t.node === offer.node)) continue;
    const trial = [...taken, offer];
    const bytes = size(trial);
    if (bytes <= best) {
      taken = trial;
      best = bytes;
    }
  }
  for (const offer of [...taken].reverse()) {
    const without = taken.filter((t) => t !== offer);
    if (size(without) <= best) taken = without;
  }
  return apply(taken);
}

/**
 * Offers whose input dies at the layer and whose two tensors are plain arena tensors: not a graph input or output
 * in the caller's buffers, not part of a zero-copy concatenation, not read twice by the layer.
 */
function feasibleOffers(graph: Graph, lowerings: readonly Lowering[], slices: readonly TensorSlice[], io: IoPlacement): Offer[] {
  const liveness = computeLiveness(graph);
  const storageOf = new Map(liveness.storages.map((s) => [s.root, s]));
  const inSlices = new Set(slices.flatMap((s) => [liveness.rootOf.get(s.tensor), liveness.rootOf.get(s.within)]));
  const callerBuffers = new Set<string>();
  if (io === 'caller') {
    for (const g of [...graph.inputs, ...graph.outputs]) callerBuffers.add(liveness.rootOf.get(g.tensor) ?? g.tensor);
  }
  const plain = (tensor: string): boolean => {
    const root = liveness.rootOf.get(tensor);
    return root !== undefined && !inSlices.has(root) && !callerBuffers.has(root) && tensorOf(graph, tensor).data === undefined;
  };

  const offers: Offer[] = [];
  lowerings.forEach((lowering, node) => {
    if (!isKernelCall(lowering) || !lowering.inPlace || lowering.params['outputPixelStride'] !== undefined) return;
    if (lowering.outputs.length !== 1) return;
    const output = lowering.outputs[0]!;
    const option = lowering.inPlace.find((o) => feasible(o, output, node));
    if (!option) return;
    const { scratch: _ownScratch, ...rest } = lowering;
    const call: KernelCall = {
      ...rest,
      params: { ...lowering.params, inPlace: true },
      ...(option.scratch ? { scratch: option.scratch } : {}),
    };
    offers.push({ node, overlay: { output, input: option.input, align: option.align }, call });
  });
  return offers;

  function feasible(option: InPlaceOption, output: string, node: number): boolean {
    if (!plain(option.input) || !plain(output)) return false;
    const inputRoot = liveness.rootOf.get(option.input)!;
    if (inputRoot === liveness.rootOf.get(output)) return false;
    if (storageOf.get(inputRoot)?.lastUse !== node) return false;
    const reads = graph.nodes[node]!.inputs.filter((name) => name && liveness.rootOf.get(name) === inputRoot).length;
    return reads === 1;
  }
}
