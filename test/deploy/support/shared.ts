/** The shared real models and golden cases (../shared relative to the repository), for the deploy tests. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensorOf } from '../../../src/ir/graph.js';
import type { DataType, Graph, TensorData } from '../../../src/ir/types.js';
import { typedArrayFor } from '../../../src/io/ndarray.js';
import { inputToIR } from '../../../src/io/tensors.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MODELS = path.resolve(REPO_ROOT, '../shared/models');
export const SHARED_PRESENT = existsSync(MODELS);
if (!SHARED_PRESENT) console.warn(`${MODELS} is absent: the deploy tests on the shared models are skipped`);

export const sharedModel = (relative: string) => path.join(MODELS, relative);

export interface GoldenCase {
  name: string;
  /** Relative to MODELS. */
  model: string;
  input: { dtype: DataType; data: number[] };
  expected: { name: string; dtype: DataType; shape: number[]; data: number[] }[];
}

export function goldenCases(): GoldenCase[] {
  return (JSON.parse(readFileSync(path.join(MODELS, 'reference/cases.json'), 'utf8')) as { cases: GoldenCase[] }).cases;
}

/** A case's input as the IR tensor of the model's only input, converted as a user's file would be. */
export function caseInputs(graph: Graph, golden: GoldenCase): TensorData[] {
  const io = graph.inputs[0]!;
  const data = typedArrayFor(golden.input.dtype, golden.input.data.length);
  (data as Int8Array).set(golden.input.data);
  return [inputToIR(graph, io, { dtype: golden.input.dtype, shape: [...tensorOf(graph, io.tensor).shape], data }, golden.name)];
}
