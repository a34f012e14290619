/**
 * What the model is run on: the user's input files (one per graph input, converted to the IR like `tinyedge run`
 * does), or, without any, deterministic pseudo-random inputs: the same model always gets the same inputs, so two
 * deploys measure the same thing and a mismatch can be reproduced.
 */
import { InputError } from '../errors.js';
import { elementCount, tensorOf } from '../ir/graph.js';
import type { Graph, TensorData } from '../ir/types.js';
import { readInputFile } from '../io/input-files.js';
import { integerRange, typedArrayFor, type NdArray } from '../io/ndarray.js';
import { inputToIR } from '../io/tensors.js';

export const DEFAULT_SEED = 1;

export async function readInputs(graph: Graph, files: readonly string[]): Promise<TensorData[]> {
  if (files.length !== graph.inputs.length) {
    const names = graph.inputs.map((io) => `'${io.name}'`).join(', ');
    const count = `${graph.inputs.length} input${graph.inputs.length === 1 ? '' : 's'}`;
    throw new InputError(`the model has ${count} (${names}, in this order); ${files.length} --input given`);
  }
  const tensors: TensorData[] = [];
  for (const [i, io] of graph.inputs.entries()) {
    const file = files[i]!;
    tensors.push(inputToIR(graph, io, await readInputFile(file, io.externalDtype), file));
  }
  return tensors;
}

/**
 * Uniform values over the whole range of each input's external dtype (int8, uint8), or, for a float input, over
 * the real range its quantization can represent; then converted to the IR as a user's file would be.
 */
export function randomInputs(graph: Graph, seed = DEFAULT_SEED): TensorData[] {
  const next = mulberry32(seed);
  return graph.inputs.map((io) => {
    const tensor = tensorOf(graph, io.tensor);
    const count = elementCount(tensor.shape);
    const data = typedArrayFor(io.externalDtype, count);
    const range = integerRange(io.externalDtype);
    if (range) {
      for (let i = 0; i < count; i++) (data as Int8Array)[i] = range.min + Math.floor(next() * (range.max - range.min + 1));
    } else {
      const scale = tensor.quant?.scale[0] ?? 1 / 127;
      const zeroPoint = tensor.quant?.zeroPoint[0] ?? 0;
      // The int8 grid's real range, when the tensor has one (a float input quantized by the first layer).
      const low = (-128 - zeroPoint) * scale;
      const high = (127 - zeroPoint) * scale;
      for (let i = 0; i < count; i++) (data as Float32Array)[i] = low + next() * (high - low);
    }
    const given: NdArray = { dtype: io.externalDtype, shape: [...tensor.shape], data };
    return inputToIR(graph, io, given, `random input '${io.name}'`);
  });
}

/** A small, well-known 32-bit generator: the same seed gives the same sequence on every platform. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
