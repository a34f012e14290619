/**
 * Stage 3: the firmware project for one target around the compiled model, built with arm-none-eabi-gcc
 * (src/build/firmware.ts) into a directory that appears complete or not at all: `-o DIR` / `--keep DIR`, or a
 * temporary one that is removed when the deploy ends.
 *
 * Which target: the one named, or for the default one a larger virtual target when the model does not fit it (the
 * plan already says so before compiling; the object files say so exactly before linking).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildError, buildFirmware, type FirmwareBuild, type FirmwareProgress } from '../build/firmware.js';
import { virtualTargetThatFits, type FitEstimate } from '../build/firmware-fit.js';
import type { Target } from '../targets/index.js';
import { produceDirectory } from './atomic-dir.js';
import type { CompiledModel } from './compile.js';
import { doesNotFitError, planFit } from './fit.js';

export interface BuiltFirmware extends FirmwareBuild {
  /** The directory stays (it was asked for with -o / --keep). */
  kept: boolean;
  /** Removes a temporary build directory; a kept one stays. */
  dispose(): Promise<void>;
}

export interface BuildOptions {
  /** Where the project goes (kept); default a temporary directory. */
  dir?: string;
  force?: boolean;
  onProgress?: (event: FirmwareProgress) => void;
}

export async function buildModelFirmware(compiled: CompiledModel, target: Target, options: BuildOptions = {}): Promise<BuiltFirmware> {
  const libraryDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-library-'));
  try {
    for (const [name, content] of compiled.library.files) await writeFile(path.join(libraryDir, name), content);
    const build = (outDir: string) =>
      buildFirmware({ target, libraryDir, model: compiled.firmwareModel, outDir, onProgress: options.onProgress });
    if (options.dir !== undefined) {
      const finalDir = path.resolve(options.dir);
      const built = await produceDirectory(finalDir, options.force ?? false, build);
      return { ...relocate(built, finalDir), kept: true, dispose: async () => {} };
    }
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-firmware-'));
    try {
      const built = await build(outDir);
      return { ...built, kept: false, dispose: () => rm(outDir, { recursive: true, force: true }) };
    } catch (error) {
      await rm(outDir, { recursive: true, force: true });
      throw error;
    }
  } finally {
    await rm(libraryDir, { recursive: true, force: true });
  }
}

/** The build happened in a staging directory that has since become `dir`. */
function relocate(build: FirmwareBuild, dir: string): FirmwareBuild {
  const moved = (file: string) => path.join(dir, path.relative(build.dir, file));
  return { ...build, dir, elf: moved(build.elf), bin: moved(build.bin), hex: moved(build.hex) };
}

export interface TargetedBuild {
  build: BuiltFirmware;
  /** The target built for: the one asked for, or the virtual one the model was moved to. */
  target: Target;
  /** Why the model went to another target than the one asked for. */
  fallbackReason?: string;
}

/**
 * Builds for `target`; with `fallback` (the user named no target) a model too large for it goes to the smallest
 * virtual target that holds it, and the reason is returned. Without it, a model that does not fit is refused with
 * its sizes before anything is compiled or linked.
 */
export async function buildForTarget(
  compiled: CompiledModel,
  target: Target,
  options: BuildOptions & { fallback: boolean; onFallback?: (target: Target, reason: string) => void },
): Promise<TargetedBuild> {
  const moveTo = async (estimate: FitEstimate, reason: string): Promise<TargetedBuild> => {
    const alternative = virtualTargetThatFits(target, estimate);
    if (!alternative) throw new BuildError(`${reason}; no known target is large enough`);
    const fallbackReason = `${reason}: running on the virtual ${alternative.name} instead`;
    options.onFallback?.(alternative, fallbackReason);
    return { build: await buildModelFirmware(compiled, alternative, options), target: alternative, fallbackReason };
  };

  const fit = planFit(target, compiled);
  if (!fit.fits) {
    if (!options.fallback) throw doesNotFitError(target, fit);
    return moveTo(fit.estimate, `the model does not fit ${target.name}: ${fit.shortfall}`);
  }
  let exact: FitEstimate | undefined;
  try {
    const build = await buildModelFirmware(compiled, target, {
      ...options,
      onProgress: (event) => {
        if (event.stage === 'check') exact = event.estimate;
        options.onProgress?.(event);
      },
    });
    return { build, target };
  } catch (error) {
    const tooLarge = exact && (exact.flashNeeded > exact.flashAvailable || exact.ramNeeded > exact.ramAvailable);
    if (!(error instanceof BuildError) || !tooLarge || !options.fallback) throw error;
    // buildFirmware's own message names the sizes; only its suggestion is replaced by the move.
    return moveTo(exact!, error.message.replace(/; (the virtual target|no known target).*$/, ''));
  }
}
