/**
 * `tinyedge deploy`: the pipeline users run every day, one stage per module.
 *
 *   model.ts      read the model, its hash and MACs
 *   inputs.ts     the inputs: the user's files, or deterministic random ones
 *   target.ts     which target (the default virtual STM32F405, a name, or the connected ST board)
 *   compile.ts    the C library (src/codegen)
 *   build.ts      the firmware, for that target or (default target only) a larger virtual one the model fits
 *   board.ts      where it runs: an in-process virtual board flashed over its ROM bootloader, QEMU, or a port;
 *                 connect.ts checks that the firmware answering is the one built (HELLO)
 *   measure.ts    upload, run with warm-ups, outputs and per-layer times
 *   validate.ts   the outputs against the reference interpreter, bit for bit
 *   diverge.ts    on a mismatch, the first layer that diverges: the search over tap firmwares (diagnose.ts runs them)
 *   result.ts     the report stage's input (src/report turns it into JSON, terminal and HTML)
 *
 * prepareDeployment and runDeployment are the two halves (build once, run as often as needed on a board from
 * openBoard); deploy() is both with a board of its own.
 */
import { existsSync } from 'node:fs';
import { DeviceError } from '../agent/errors.js';
import type { TensorData } from '../ir/types.js';
import { runReference } from '../reference/interpreter.js';
import { buildReport, type DeployReport, type DeployResult } from '../report/index.js';
import type { FlashResult } from '../agent/flash/index.js';
import type { Hello } from '../agent/protocol.js';
import type { FirmwareProgress } from '../build/firmware.js';
import type { Target } from '../targets/index.js';
import { openBoard, type Board } from './board.js';
import { buildForTarget, type BuiltFirmware } from './build.js';
import { compileModel, type CompiledModel, type LibraryPatch } from './compile.js';
import { expectedFirmware } from './connect.js';
import { diagnoseDivergence } from './diagnose.js';
import type { DetectOptions } from './detect-stm32.js';
import type { DivergenceDiagnosis } from './diverge.js';
import type { DeployEvent } from './events.js';
import { randomInputs, readInputs, DEFAULT_SEED } from './inputs.js';
import { measureOnDevice, runTimeoutMs } from './measure.js';
import { loadDeployModel, type DeployModel } from './model.js';
import { deployResult, toolInfo } from './result.js';
import { chooseTarget, type TargetChoice } from './target.js';
import { compareAll, type TensorComparison } from './validate.js';

export type { DeployEvent } from './events.js';
export type { Board } from './board.js';
export { openBoard } from './board.js';
export { ValidationError, validationFailure } from './errors.js';

export const DEFAULT_RUNS = 5;
export const DEFAULT_WARMUPS = 1;

export interface PrepareOptions {
  model: string;
  /** A target name or .json file, 'stm32' for the connected ST board; absent: the default virtual board. */
  target?: string;
  /** Input files, one per graph input; without them (and without `inputs`), seeded random inputs. */
  inputFiles?: readonly string[];
  /** IR tensors given directly (API and tests). */
  inputs?: TensorData[];
  seed?: number;
  /** Keep the firmware project in this directory (created atomically). */
  keepDir?: string;
  force?: boolean;
  /** Rewrites the generated library before it is built (fault-injection tests). */
  patchLibrary?: LibraryPatch;
  /** Run the optimization passes before code generation (default true). */
  optimize?: boolean;
  detect?: DetectOptions;
  onEvent?: (event: DeployEvent) => void;
}

export interface Deployment {
  model: DeployModel;
  compiled: CompiledModel;
  choice: TargetChoice;
  /** The target built for (choice.target, or the virtual target a too-large model moved to). */
  target: Target;
  fallbackReason?: string;
  build: BuiltFirmware;
  inputs: TensorData[];
  inputSource: 'files' | 'random' | 'given';
  patchLibrary?: LibraryPatch;
  /** Removes the temporary build (a kept one stays). */
  dispose(): Promise<void>;
}

/** Model, inputs, target, library and firmware: everything before a board is involved. */
export async function prepareDeployment(options: PrepareOptions): Promise<Deployment> {
  const emit = options.onEvent ?? (() => {});
  // The target first: a wrong --target is the cheapest mistake to report.
  const choice = await chooseTarget(options.target, options.detect);
  const model = await loadDeployModel(options.model, { optimize: options.optimize });
  const { graph } = model;
  emit({ type: 'model', file: model.file, name: graph.name, layers: graph.nodes.length, macs: model.cost.macs, sha256: model.sha256 });
  emit({ type: 'target', target: choice.target, how: choice.how, ...(choice.port ? { port: choice.port } : {}) });

  const inputSource = options.inputs ? 'given' : options.inputFiles && options.inputFiles.length > 0 ? 'files' : 'random';
  const inputs =
    options.inputs ?? (inputSource === 'files' ? await readInputs(graph, options.inputFiles!) : randomInputs(graph, options.seed ?? DEFAULT_SEED));


  const compileStarted = Date.now();
  const compiled = compileModel(model.generated, model.sha256, choice.target, options.patchLibrary);
  emit({
    type: 'compiled',
    prefix: compiled.library.prefix,
    layers: model.generated.nodes.length,
    arenaBytes: compiled.library.plan.arenaBytes,
    weightsBytes: compiled.library.constantBytes,
    ms: Date.now() - compileStarted,
  });

  const buildStarted = Date.now();
  let buildTarget = choice.target.name;
  const built = await buildForTarget(compiled, choice.target, {
    dir: options.keepDir,
    force: options.force,
    fallback: choice.how === 'default',
    onFallback: (target, reason) => {
      buildTarget = target.name;
      emit({ type: 'fallback', target, reason });
    },
    onProgress: (progress: FirmwareProgress) => emit({ type: 'build', target: buildTarget, progress }),
  });
  emit({ type: 'built', target: built.target, sizes: built.build.sizes, dir: built.build.dir, kept: built.build.kept, ms: Date.now() - buildStarted });

  return {
    model,
    compiled,
    choice,
    target: built.target,
    ...(built.fallbackReason ? { fallbackReason: built.fallbackReason } : {}),
    build: built.build,
    inputs,
    inputSource,
    ...(options.patchLibrary ? { patchLibrary: options.patchLibrary } : {}),
    dispose: () => built.build.dispose(),
  };
}

export interface RunOptions {
  /** Other inputs than the deployment's (another case on the same firmware). */
  inputs?: TensorData[];
  runs?: number;
  warmups?: number;
  /** On a mismatch, look for the first diverging layer (default true). */
  diagnose?: boolean;
  /** Time-out of RUN between two frames of its reply; default from the model's MACs and the target. */
  runTimeoutMs?: number;
  onEvent?: (event: DeployEvent) => void;
}

export interface DeployOutcome {
  result: DeployResult;
  report: DeployReport;
  target: Target;
  fallbackReason?: string;
  hello: Hello;
  flash?: FlashResult;
  validation: TensorComparison & { bitExact: boolean };
  diagnosis?: DivergenceDiagnosis;
  /** Where the firmware project is, when it was kept. */
  buildDir?: string;
}

/** Loads the deployment's firmware on `board`, measures, validates, and (on a mismatch) finds the diverging layer. */
export async function runDeployment(deployment: Deployment, board: Board, options: RunOptions = {}): Promise<DeployOutcome> {
  const emit = options.onEvent ?? (() => {});
  const { model, compiled, target } = deployment;
  const { graph } = model;
  const inputs = options.inputs ?? deployment.inputs;
  const runs = options.runs ?? DEFAULT_RUNS;
  const warmups = options.warmups ?? DEFAULT_WARMUPS;
  const timeout = options.runTimeoutMs ?? runTimeoutMs(model.generatedCost.macs, model.generated.nodes.length, warmups, target.emulated, target.clockHz);
  const outputDtypes = graph.outputs.map((io) => graph.tensors.get(io.tensor)!.dtype);

  const device = await board.load(deployment.build, expectedFirmware(target, model.generated, model.sha256, compiled));
  emit({ type: 'connected', hello: device.hello });
  emit({ type: 'measuring', runs, warmups, inputs: options.inputs ? 'given' : deployment.inputSource });
  const started = Date.now();
  const measured = await measureOnDevice(device, inputs, outputDtypes, { runs, warmups, runTimeoutMs: timeout });
  emit({ type: 'measured', unit: measured.timing.unit, totals: measured.timing.runs.map((r) => r.total), ms: Date.now() - started });

  const diagnose = options.diagnose ?? true;
  const reference = runReference(graph, inputs);
  const comparison = compareAll(measured.outputs, reference.outputs);
  const validation = { ...comparison, bitExact: comparison.mismatches === 0 };
  emit({ type: 'validated', ...validation });

  let diagnosis: DivergenceDiagnosis | undefined;
  if (!validation.bitExact && diagnose) {
    // Layer by layer, the device ran the generated graph: its tensors are the ones to compare.
    const layered = runReference(model.generated, inputs, { keepIntermediates: true });
    diagnosis = await diagnoseDivergence(deployment, board, inputs, layered.intermediates!, emit);
    emit({ type: 'diagnosed', ...(diagnosis.layer ? { layer: diagnosis.layer } : {}), note: diagnosis.note });
  }

  const result = deployResult(
    {
      model,
      compiled,
      target,
      sizes: deployment.build.sizes,
      hello: device.hello,
      timing: measured.timing,
      warmups,
      deviceOutputs: measured.outputs,
      referenceOutputs: reference.outputs,
      ...(diagnosis?.layer ? { firstDivergingLayer: diagnosis.layer.name } : {}),
    },
    await toolInfo(),
  );
  return {
    result,
    report: buildReport(result),
    target,
    ...(deployment.fallbackReason ? { fallbackReason: deployment.fallbackReason } : {}),
    hello: device.hello,
    ...(device.flash ? { flash: device.flash } : {}),
    validation,
    ...(diagnosis ? { diagnosis } : {}),
    ...(deployment.build.kept ? { buildDir: deployment.build.dir } : {}),
  };
}

export interface DeployOptions extends PrepareOptions, Omit<RunOptions, 'inputs' | 'onEvent'> {
  port?: string;
  method?: string;
  /** Time-out of one request to the firmware. */
  timeoutMs?: number;
}

/** The whole pipeline on a board of its own (started, or found on --port, and closed at the end). */
export async function deploy(options: DeployOptions): Promise<DeployOutcome> {
  // Checked before minutes go into a build: a port that does not exist will not appear by itself.
  if (options.port !== undefined && !existsSync(options.port)) {
    throw new DeviceError(options.port, 'no such serial port (`tinyedge ports` lists the ports there are)');
  }
  const deployment = await prepareDeployment(options);
  try {
    const board = await openBoard(deployment.target, {
      port: options.port ?? deployment.choice.port,
      method: options.method,
      timeoutMs: options.timeoutMs,
      onEvent: options.onEvent,
    });
    try {
      return await runDeployment(deployment, board, options);
    } finally {
      await board.close();
    }
  } finally {
    await deployment.dispose();
  }
}
