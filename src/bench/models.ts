/**
 * What the bench runs: the four MLPerf Tiny models and TFLite-Micro's person_detect, from the shared model folder
 * (../shared/models beside the repository, or the folder given), each known by a short id.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

export const BENCH_MODEL_IDS = ['kws', 'vww', 'ic', 'ad', 'person_detect', 'hello_world'] as const;
export type BenchModelId = (typeof BENCH_MODEL_IDS)[number];

export interface BenchModel {
  id: BenchModelId;
  title: string;
  /** Relative to the shared models folder; also how cases.json names the model. */
  file: string;
  /** Run when no --models is given. */
  byDefault: boolean;
}

export const BENCH_MODELS: readonly BenchModel[] = [
  { id: 'kws', title: 'KWS DS-CNN', file: 'mlperf-tiny/kws_ref_model.tflite', byDefault: true },
  { id: 'vww', title: 'VWW MobileNetV1 0.25', file: 'mlperf-tiny/vww_96_int8.tflite', byDefault: true },
  { id: 'ic', title: 'IC ResNet-8', file: 'mlperf-tiny/resnet8_int8.tflite', byDefault: true },
  { id: 'ad', title: 'AD FC autoencoder', file: 'mlperf-tiny/ad01_int8.tflite', byDefault: true },
  { id: 'person_detect', title: 'person_detect MobileNetV1', file: 'tflm/person_detect.tflite', byDefault: true },
  // Three tiny fully connected layers: a bench of the bench machinery in seconds, asked for by name only.
  { id: 'hello_world', title: 'TFLite-Micro hello_world', file: 'tflm/hello_world_int8.tflite', byDefault: false },
];

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** ../shared beside the repository: where the team's read-only models and documents live. */
export const DEFAULT_SHARED_DIR = path.resolve(PACKAGE_ROOT, '../shared');

/** "kws,ad" -> the models in the bench's own order; an unknown id is the user's mistake. */
export function selectModels(ids: readonly string[] | undefined): BenchModel[] {
  if (ids === undefined) return BENCH_MODELS.filter((m) => m.byDefault);
  const wanted = new Set(ids.flatMap((id) => id.split(',')).map((id) => id.trim()).filter((id) => id !== ''));
  const unknown = [...wanted].filter((id) => !BENCH_MODELS.some((m) => m.id === id));
  if (unknown.length > 0) {
    throw new UsageError(`--models: unknown model${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (known: ${BENCH_MODEL_IDS.join(', ')})`);
  }
  if (wanted.size === 0) throw new UsageError(`--models: no model named (known: ${BENCH_MODEL_IDS.join(', ')})`);
  return BENCH_MODELS.filter((m) => wanted.has(m.id));
}

/** The models folder inside the shared folder, checked before anything is built. */
export function modelsDirectory(sharedDir: string): string {
  const models = path.join(sharedDir, 'models');
  if (!existsSync(models)) {
    throw new UsageError(`the bench models are not there: ${models} does not exist (name the shared folder with --shared DIR)`);
  }
  return models;
}
