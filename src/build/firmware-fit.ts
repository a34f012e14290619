/**
 * The check before linking: does the compiled model plus harness fit the target's flash and RAM? Measured from the
 * object files (every allocated section counts, so it errs on the large side), with the stack and an allowance for
 * the few C-library routines the linker adds. A model that does not fit is refused with the sizes named and a
 * virtual target that would hold it.
 */
import { loadAllTargets, mainFlash, mainRam, type Target } from '../targets/index.js';
import { BuildError } from './firmware-errors.js';
import { sectionTotals, type ElfImage } from './firmware-elf.js';

/** memcpy/memset, integer division and similar pulled from newlib-nano and libgcc. */
export const RUNTIME_FLASH_ALLOWANCE = 4096;
export const RUNTIME_RAM_ALLOWANCE = 256;

export interface FitEstimate {
  /** The model library's code and constants (weights) plus its initialised data. */
  modelFlash: number;
  /** The model library's RAM: arena, scratch, initialised data. */
  modelRam: number;
  /** The harness (startup, drivers, protocol, tensor buffers). */
  harnessFlash: number;
  harnessRam: number;
  stackBytes: number;
  flashNeeded: number;
  ramNeeded: number;
  flashAvailable: number;
  ramAvailable: number;
}

function footprint(objects: ElfImage[]): { flash: number; ram: number } {
  let flash = 0;
  let ram = 0;
  for (const object of objects) {
    const { text, data, bss } = sectionTotals(object);
    flash += text + data;
    ram += data + bss;
  }
  return { flash, ram };
}

export function estimateFit(target: Target, model: ElfImage[], harness: ElfImage[], stackBytes: number): FitEstimate {
  const m = footprint(model);
  const h = footprint(harness);
  return {
    modelFlash: m.flash,
    modelRam: m.ram,
    harnessFlash: h.flash,
    harnessRam: h.ram,
    stackBytes,
    flashNeeded: m.flash + h.flash + RUNTIME_FLASH_ALLOWANCE,
    ramNeeded: m.ram + h.ram + stackBytes + RUNTIME_RAM_ALLOWANCE,
    flashAvailable: mainFlash(target).size,
    ramAvailable: mainRam(target).size,
  };
}

/** "1.5 MB", "36 KB", "812 B". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KB`;
  return `${bytes} B`;
}

/** The smallest emulated target that holds the estimate, preferring the same core. */
export function virtualTargetThatFits(target: Target, estimate: FitEstimate): Target | undefined {
  const fitting = loadAllTargets().filter(
    (t) => t.emulated && mainFlash(t).size >= estimate.flashNeeded && mainRam(t).size >= estimate.ramNeeded,
  );
  const capacity = (t: Target) => mainFlash(t).size + mainRam(t).size;
  fitting.sort((a, b) => Number(b.core === target.core) - Number(a.core === target.core) || capacity(a) - capacity(b));
  return fitting[0];
}

export function checkFit(target: Target, estimate: FitEstimate): void {
  const problems: string[] = [];
  const flash = mainFlash(target);
  const ram = mainRam(target);
  if (estimate.flashNeeded > estimate.flashAvailable) {
    problems.push(
      `flash needs ${formatBytes(estimate.flashNeeded)} (model ${formatBytes(estimate.modelFlash)}, firmware ` +
        `${formatBytes(estimate.harnessFlash + RUNTIME_FLASH_ALLOWANCE)}) but ${flash.name} has ${formatBytes(flash.size)}`,
    );
  }
  if (estimate.ramNeeded > estimate.ramAvailable) {
    problems.push(
      `RAM needs ${formatBytes(estimate.ramNeeded)} (model ${formatBytes(estimate.modelRam)}, firmware and tensor ` +
        `buffers ${formatBytes(estimate.harnessRam + RUNTIME_RAM_ALLOWANCE)}, stack ${formatBytes(estimate.stackBytes)}) ` +
        `but ${ram.name} has ${formatBytes(ram.size)}`,
    );
  }
  if (problems.length === 0) return;
  const alternative = virtualTargetThatFits(target, estimate);
  const suggestion = alternative
    ? `; the virtual target ${alternative.name} (${formatBytes(mainFlash(alternative).size)} flash, ` +
      `${formatBytes(mainRam(alternative).size)} RAM) would fit it`
    : '; no known target is large enough';
  throw new BuildError(`the model does not fit ${target.name}: ${problems.join('; ')}${suggestion}`);
}
