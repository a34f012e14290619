/**
 * Does a compiled model fit a target, judged from the memory plan alone, before any C is compiled? A lower bound:
 * the weights must fit the flash, and the arena, the input and output buffers and the stack the RAM. A model that
 * fails it cannot fit whatever the code size, so it is refused (or sent to a larger virtual target) without
 * spending a compile on it; one that passes is checked exactly by buildFirmware from the object files before it
 * links.
 */
import { DEFAULT_STACK_BYTES } from '../build/firmware.js';
import { BuildError } from '../build/firmware-errors.js';
import { formatBytes, virtualTargetThatFits, type FitEstimate } from '../build/firmware-fit.js';
import { mainFlash, mainRam, type Target } from '../targets/index.js';
import type { CompiledModel } from './compile.js';

export interface PlanFit {
  fits: boolean;
  estimate: FitEstimate;
  /** One line naming each shortfall, when it does not fit. */
  shortfall?: string;
}

export function planFit(target: Target, compiled: CompiledModel, stackBytes = DEFAULT_STACK_BYTES): PlanFit {
  const { library, inputBytes, outputBytes } = compiled;
  const ioBytes = [...inputBytes, ...outputBytes].reduce((a, b) => a + b, 0);
  const flash = mainFlash(target);
  const ram = mainRam(target);
  const estimate: FitEstimate = {
    modelFlash: library.constantBytes,
    modelRam: library.plan.arenaBytes,
    harnessFlash: 0,
    harnessRam: ioBytes,
    stackBytes,
    flashNeeded: library.constantBytes,
    ramNeeded: library.plan.arenaBytes + ioBytes + stackBytes,
    flashAvailable: flash.size,
    ramAvailable: ram.size,
  };
  const problems: string[] = [];
  if (estimate.flashNeeded > flash.size) {
    problems.push(`flash needs at least ${formatBytes(estimate.flashNeeded)} (the weights alone) but ${flash.name} has ${formatBytes(flash.size)}`);
  }
  if (estimate.ramNeeded > ram.size) {
    problems.push(
      `RAM needs at least ${formatBytes(estimate.ramNeeded)} (arena ${formatBytes(library.plan.arenaBytes)}, input and output ` +
        `buffers ${formatBytes(ioBytes)}, stack ${formatBytes(stackBytes)}) but ${ram.name} has ${formatBytes(ram.size)}`,
    );
  }
  return problems.length === 0 ? { fits: true, estimate } : { fits: false, estimate, shortfall: problems.join('; ') };
}

/** The refusal for a target the user named: the sizes, and a virtual target that would hold the model. */
export function doesNotFitError(target: Target, fit: PlanFit): BuildError {
  const alternative = virtualTargetThatFits(target, fit.estimate);
  const suggestion = alternative
    ? `; the virtual target ${alternative.name} (${formatBytes(mainFlash(alternative).size)} flash, ${formatBytes(mainRam(alternative).size)} RAM) would fit it`
    : '; no known target is large enough';
  return new BuildError(`the model does not fit ${target.name}: ${fit.shortfall}${suggestion}`);
}
