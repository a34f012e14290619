/** The shared real models and golden cases (../shared relative to the repository), for the code generation tests. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTflite } from '../../../src/frontend/tflite/index.js';
import type { Graph } from '../../../src/ir/types.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHARED = path.resolve(REPO_ROOT, '../shared');
export const MODELS = path.join(SHARED, 'models');
export const SHARED_PRESENT = existsSync(MODELS);

export interface GoldenCase {
  name: string;
  model: string;
  input: { dtype: string; data: number[] };
  expected: { name: string; dtype: string; shape: number[]; data: number[] }[];
}

export function goldenCases(): GoldenCase[] {
  const file = JSON.parse(readFileSync(path.join(MODELS, 'reference/cases.json'), 'utf8')) as { cases: GoldenCase[] };
  return file.cases;
}

export interface LoadedModel {
  graph: Graph;
  /** First 16 hex digits of the file's sha-256. */
  hash: string;
}

const cache = new Map<string, LoadedModel>();

/** A model under shared/models, imported once per test file. */
export function loadSharedModel(relative: string): LoadedModel {
  let loaded = cache.get(relative);
  if (!loaded) {
    const bytes = readFileSync(path.join(MODELS, relative));
    loaded = { graph: importTflite(bytes, relative), hash: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
    cache.set(relative, loaded);
  }
  return loaded;
}

/** MLPerf Tiny models with TFLite-Micro's measured arena_used_bytes (shared/docs/BASELINES.md). */
export const MLPERF_TINY = [
  { name: 'KWS', file: 'mlperf-tiny/kws_ref_model.tflite', tflmArenaBytes: 22_820 },
  { name: 'VWW', file: 'mlperf-tiny/vww_96_int8.tflite', tflmArenaBytes: 100_708 },
  { name: 'IC (ResNet-8)', file: 'mlperf-tiny/resnet8_int8.tflite', tflmArenaBytes: 54_996 },
  { name: 'AD', file: 'mlperf-tiny/ad01_int8.tflite', tflmArenaBytes: 2_580 },
] as const;
