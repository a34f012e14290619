/**
 * `tinyedge bench` (`npm run bench`): the MLPerf Tiny models and person_detect deployed one after another to the
 * virtual STM32F405 through the deploy pipeline, measured on their real inputs, compared with TFLite-Micro +
 * CMSIS-NN on the same emulated board.
 *
 *   models.ts       which models, from which folder
 *   cases.ts        their real inputs and golden outputs (cases.json)
 *   measure.ts      one model through src/deploy: build, flash, run every case, validate; the flash split
 *   flash-usage.ts  the linked image's flash by origin, from the linker map
 *   baselines.ts    TFLite-Micro + CMSIS-NN's figures (BASELINES.md) and issue 7's bars
 *   document.ts     bench.json: the measurements, ratios and bars
 *   table.ts        the same for the terminal
 */
import type { LibraryPatch } from '../deploy/compile.js';
import type { DeployEvent } from '../deploy/index.js';
import { toolInfo } from '../deploy/result.js';
import { readGoldenCases } from './cases.js';
import { benchDocument, modelResult, type BenchDocument, type BenchModelResult } from './document.js';
import { measureModel } from './measure.js';
import { DEFAULT_SHARED_DIR, modelsDirectory, selectModels, type BenchModel, type BenchModelId } from './models.js';

export { BENCH_MODEL_IDS, BENCH_MODELS, DEFAULT_SHARED_DIR, modelsDirectory, selectModels, type BenchModel, type BenchModelId } from './models.js';
export { benchJson, BENCH_SCHEMA, type BenchDocument, type BenchModelResult, type Comparison } from './document.js';
export { formatBenchText } from './table.js';

export type BenchEvent =
  | { type: 'model'; model: BenchModel; index: number; count: number; cases: string[] }
  | { type: 'deploy'; model: BenchModelId; event: DeployEvent }
  | { type: 'measured'; result: BenchModelResult };

export interface BenchOptions {
  /** Model ids (or comma-separated lists of them); default all. */
  models?: readonly string[];
  /** The shared folder holding models/ (default ../shared beside the repository). */
  sharedDir?: string;
  /** Rewrites each generated library before it is built (fault-injection tests). */
  patchLibrary?: LibraryPatch;
  onEvent?: (event: BenchEvent) => void;
}

/** Runs the bench; a device output that differs is recorded in the document, not thrown (the caller decides). */
export async function runBench(options: BenchOptions = {}): Promise<BenchDocument> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const models = selectModels(options.models);
  const modelsDir = modelsDirectory(options.sharedDir ?? DEFAULT_SHARED_DIR);
  const casesByModel = readGoldenCases(modelsDir);
  const results: BenchModelResult[] = [];
  for (const [index, model] of models.entries()) {
    const cases = casesByModel.get(model.file) ?? [];
    emit({ type: 'model', model, index, count: models.length, cases: cases.map((c) => c.name) });
    const measured = await measureModel(model, {
      modelsDir,
      cases,
      ...(options.patchLibrary ? { patchLibrary: options.patchLibrary } : {}),
      onEvent: (event) => emit({ type: 'deploy', model: model.id, event }),
    });
    const result = modelResult(measured);
    emit({ type: 'measured', result });
    results.push(result);
  }
  return benchDocument(results, await toolInfo(), Date.now() - started);
}
