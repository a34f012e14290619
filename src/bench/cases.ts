/**
 * The real inputs the bench runs on: the cases of ../shared/models/reference/cases.json (a KWS sample, AD windows, a
 * CIFAR-10 picture, the person pictures), each with TFLite-Micro's golden outputs, which the device must reproduce
 * bit for bit as well as the reference interpreter's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { tensorOf } from '../ir/graph.js';
import type { DataType, Graph, TensorData } from '../ir/types.js';
import { typedArrayFor } from '../io/ndarray.js';
import { inputToIR } from '../io/tensors.js';

export interface GoldenCase {
  name: string;
  /** Relative to the models folder. */
  model: string;
  input: { dtype: DataType; data: number[] };
  /** TFLite-Micro reference kernels' outputs, in each output's external dtype. */
  expected: { name: string; dtype: DataType; shape: number[]; data: number[] }[];
}

export const CASES_FILE = 'reference/cases.json';

/** Every case of cases.json, by model file (relative to `modelsDir`); none when the file is absent. */
export function readGoldenCases(modelsDir: string): Map<string, GoldenCase[]> {
  const file = path.join(modelsDir, CASES_FILE);
  let cases: GoldenCase[];
  try {
    cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: GoldenCase[] }).cases;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new InputError(`${file}: not a cases file (${(error as Error).message})`);
  }
  const byModel = new Map<string, GoldenCase[]>();
  for (const golden of cases) byModel.set(golden.model, [...(byModel.get(golden.model) ?? []), golden]);
  return byModel;
}

/** A case's input as the IR tensor of the model's only input, converted as a user's input file would be. */
export function caseInputs(graph: Graph, golden: GoldenCase): TensorData[] {
  if (graph.inputs.length !== 1) throw new InputError(`case '${golden.name}' gives one input; the model has ${graph.inputs.length}`);
  const io = graph.inputs[0]!;
  const data = typedArrayFor(golden.input.dtype, golden.input.data.length);
  (data as Int8Array).set(golden.input.data);
  return [inputToIR(graph, io, { dtype: golden.input.dtype, shape: [...tensorOf(graph, io.tensor).shape], data }, `case '${golden.name}'`)];
}

/** Output values that differ from the golden ones (outputs in graph order, external dtype), over all outputs. */
export function goldenMismatches(outputs: readonly { data: readonly (number | null)[] }[], golden: GoldenCase): { compared: number; mismatches: number } {
  let compared = 0;
  let mismatches = 0;
  golden.expected.forEach((expected, i) => {
    const device = outputs[i]?.data ?? [];
    const length = Math.max(device.length, expected.data.length);
    compared += length;
    for (let j = 0; j < length; j++) if (device[j] !== expected.data[j]) mismatches++;
  });
  if (outputs.length !== golden.expected.length) mismatches += Math.abs(outputs.length - golden.expected.length);
  return { compared, mismatches };
}
