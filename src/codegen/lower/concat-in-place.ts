/**
 * Zero-copy concatenation (SqueezeNet's fire modules, ShuffleNet's stride-2 units, Inception-style branches): each
 * input of a Concat that the passes found writable in place (src/passes/concat-in-place.ts) gets no buffer of its own;
 * its producer writes it straight into its part of the Concat's output, and the Concat has no code at all.
 *
 * Two shapes of concatenation qualify:
 * - every axis before the concatenation axis has size 1: each input is one contiguous block of the output, at the
 *   sum of the sizes before it. Any kernel can write there (a block at an unaligned offset only one whose stores are
 *   byte stores: the portable templates);
 * - the last axis (NHWC channels): each input is a slice of every output pixel — channels [offset, offset + C_i) of
 *   rows that are C_total apart. Its producer must write pixels C_total elements apart: the kernels listed in
 *   STRIDED_OUTPUT take that stride as the compile-time parameter `outputPixelStride` (absent: their own channel
 *   count), and the slice's first byte is the channel offset, which the output pointer carries.
 *
 * A Concat is considered only if every input can be, and its output is planned in the arena (not a caller buffer).
 * Zero-copy is not free in memory: the whole output is reserved from the first in-place input's producer on, so while
 * a later branch computes its intermediates the other inputs' space is taken (ShuffleNet's stride-2 unit in the usual
 * branch order: the first branch's slice waits through the second branch's wide 1x1). So the arena is compared with
 * the arena without any input in place, and inputs go back to being copied, the costliest first, until it is no
 * larger (see placeConcatsInPlace).
 * The values are the ones the Concat would copy — the passes only list Concats whose inputs share the output's
 * quantization — so outputs stay bit-identical; the memory plan (src/plan, slices) makes the output live from its
 * first input's producer on, instead of the inputs and the output separately.
 */
import { tensorOf } from '../../ir/graph.js';
import type { Graph } from '../../ir/types.js';
import type { TensorSlice } from '../../plan/index.js';
import { computeLiveness } from '../../plan/liveness.js';
import { isKernelCall, type KernelCall, type Lowering } from '../kernel-call.js';

/**
 * Templates that write output pixel p at output + p * outputPixelStride (int8 elements) when given that parameter.
 * `pixelChannels` says whether the template also needs the channel count per pixel (one that otherwise walks its
 * output as a flat array).
 */
const STRIDED_OUTPUT: ReadonlyMap<string, { pixelChannels: boolean }> = new Map([
  ['te_conv2d_s8', { pixelChannels: false }],
  ['te_conv2d_1x1_s8', { pixelChannels: false }],
  ['te_conv2d_1d_s8', { pixelChannels: false }],
  ['te_conv2d_sparse_s8', { pixelChannels: false }],
  ['te_depthwise_conv2d_s8', { pixelChannels: false }],
  ['te_pool_s8', { pixelChannels: false }],
  ['te_lut_s8', { pixelChannels: true }],
  ['te_crelu_s8', { pixelChannels: false }],
]);

/** Templates whose stores are all byte stores (any offset is fine for a contiguous block). */
const BYTE_STORES = new Set([...STRIDED_OUTPUT.keys(), 'te_fully_connected_s8', 'te_fully_connected_sparse_s8', 'te_add_s8', 'te_mul_s8', 'te_requantize', 'te_pad', 'te_transpose', 'te_concat', 'te_mean_s8']);

const WORD = 4;

export interface ConcatPlacement {
  /** The lowerings, with in-place Concats turned into no code and their inputs' producers writing into the slices. */
  lowerings: Lowering[];
  slices: TensorSlice[];
  /** Names of the Concats done in place entirely (no code left). */
  concats: string[];
  /** Names of the Concats that copy only some of their inputs, the others written in place. */
  partial: string[];
}

/** One Concat input that can be written in place. */
interface InPlaceInput {
  concat: number;
  port: number;
  slice: TensorSlice;
  producer: number;
  /** The producer's lowering writing into the slice. */
  call: KernelCall;
}

/**
 * `graph` is the graph that will be planned (its nodes index-aligned with `lowerings`); `candidates` the Concats the
 * passes' analysis found writable in place; `arenaBytes` plans the arena with the given slices.
 *
 * Every input of every feasible Concat starts in place; while the arena is larger than with none in place, the input
 * whose return to a copy shrinks the arena most goes back to being copied (ShuffleNet's stride-2 unit: the first
 * branch's). A Concat with some inputs left keeps a copy loop for those only.
 */
export function placeConcatsInPlace(
  graph: Graph,
  lowerings: readonly Lowering[],
  candidates: ReadonlySet<string>,
  arenaBytes: (slices: TensorSlice[]) => number,
): ConcatPlacement {
  let chosen = feasibleInputs(graph, lowerings, candidates);
  if (chosen.length > 0) {
    const limit = arenaBytes([]);
    const arenaWith = (list: InPlaceInput[]) => arenaBytes(list.map((c) => c.slice));
    while (chosen.length > 0 && arenaWith(chosen) > limit) {
      const options = chosen.map((dropped) => chosen.filter((c) => c !== dropped));
      const sizes = options.map(arenaWith);
      chosen = options[sizes.indexOf(Math.min(...sizes))]!;
    }
  }
  const result = [...lowerings];
  const concats: string[] = [];
  const partial: string[] = [];
  for (const concat of new Set(chosen.map((c) => c.concat))) {
    const inputs = chosen.filter((c) => c.concat === concat);
    for (const input of inputs) result[input.producer] = input.call;
    const node = graph.nodes[concat]!;
    const copy = lowerings[concat] as KernelCall;
    if (inputs.length === node.inputs.length) {
      result[concat] = { noCode: `Concat: its inputs were written in place by their producers (zero-copy)` };
      concats.push(node.name);
      continue;
    }
    // Copy only the inputs that are not in place; the kernel's parts and parameters shrink alike.
    const inPlacePorts = new Set(inputs.map((i) => i.port));
    const parts = (copy.params['parts'] as { port: number }[]).filter((part) => !inPlacePorts.has(part.port));
    result[concat] = {
      ...copy,
      params: { ...copy.params, parts, inPlace: inputs.length },
      inputs: copy.inputs.filter((_, port) => !inPlacePorts.has(port)),
    };
    partial.push(node.name);
  }
  return { lowerings: result, slices: chosen.map((c) => c.slice), concats, partial };
}

/** Every input of a Concat that could be written in place, all of a Concat's inputs or none. */
function feasibleInputs(graph: Graph, lowerings: readonly Lowering[], candidates: ReadonlySet<string>): InPlaceInput[] {
  const found: InPlaceInput[] = [];
  const producerIndex = new Map<string, number>();
  graph.nodes.forEach((node, index) => node.outputs.forEach((name) => producerIndex.set(name, index)));
  const callerBuffers = callerBufferTensors(graph);

  graph.nodes.forEach((node, index) => {
    const copy = lowerings[index]!;
    if (node.op !== 'Concat' || !candidates.has(node.name) || !isKernelCall(copy) || copy.template !== 'te_concat') return;
    const outputName = node.outputs[0]!;
    if (callerBuffers.has(outputName)) return;
    const output = tensorOf(graph, outputName);
    const rank = output.shape.length;
    const axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
    const contiguous = output.shape.slice(0, axis).every((d) => d === 1);
    const totalChannels = output.shape[rank - 1]!;
    const pixels = output.shape.slice(0, rank - 1).reduce((a, b) => a * b, 1);

    let offset = 0;
    const inputs: InPlaceInput[] = [];
    for (const [port, name] of node.inputs.entries()) {
      const input = tensorOf(graph, name);
      const bytes = input.shape.reduce((a, b) => a * b, 1);
      const channels = input.shape[rank - 1]!;
      const producer = producerIndex.get(name);
      const call = producer === undefined ? undefined : lowerings[producer];
      if (producer === undefined || !call || !isKernelCall(call) || call.outputs.length !== 1 || call.outputs[0] !== name) return;
      // A Concat of Concats: the inner one may itself go in place, and slices do not nest; the outer one copies.
      if (graph.nodes[producer]!.op === 'Concat') return;
      if (contiguous) {
        if (offset % WORD !== 0 && !BYTE_STORES.has(call.template)) return;
        inputs.push({ concat: index, port, producer, call, slice: { tensor: name, within: outputName, byteOffset: offset, extentBytes: bytes } });
        offset += bytes;
      } else {
        const strided = STRIDED_OUTPUT.get(call.template) ?? (call.stridedOutput ? { pixelChannels: false } : undefined);
        if (!strided || 'outputPixelStride' in call.params) return;
        const params = { ...call.params, outputPixelStride: totalChannels, ...(strided.pixelChannels ? { pixelChannels: channels } : {}) };
        const slice = { tensor: name, within: outputName, byteOffset: offset, extentBytes: (pixels - 1) * totalChannels + channels };
        inputs.push({ concat: index, port, producer, call: { ...call, params }, slice });
        offset += channels;
      }
    }
    found.push(...inputs);
  });
  return found;
}

/** Tensors whose storage holds a graph input or output (planned in the caller's buffers by default). */
function callerBufferTensors(graph: Graph): Set<string> {
  const io = new Set([...graph.inputs, ...graph.outputs].map((g) => g.tensor));
  const tensors = new Set<string>();
  for (const storage of computeLiveness(graph).storages) {
    if (storage.members.some((m) => io.has(m))) for (const m of storage.members) tensors.add(m);
  }
  return tensors;
}
