/**
 * The board catalogue: targets/*.json, loaded and checked. A target is named by its file's base name, or given as a
 * path to a description of the user's own board.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { parseTarget } from './parse.js';
import type { MemoryRegion, Target } from './types.js';

export type * from './types.js';
export { consoleKernelHz } from './clock.js';

/** The target used when none is named: it runs everywhere, on QEMU. */
export const DEFAULT_TARGET = 'qemu-stm32f405';

/** targets/ at the package root (from src/targets or dist/targets alike). */
export const TARGETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../targets');

/** Names of the built-in targets, sorted. */
export function listTargets(): string[] {
  return readdirSync(TARGETS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function readDescription(file: string): Target {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not a readable JSON target description (${(error as Error).message})`);
  }
  return parseTarget(json, file);
}

/** A built-in target by name, or a description file by path (anything ending in .json). */
export function loadTarget(nameOrFile: string): Target {
  if (nameOrFile.endsWith('.json')) {
    if (!existsSync(nameOrFile)) throw new UsageError(`target description ${nameOrFile} does not exist`);
    return readDescription(nameOrFile);
  }
  const names = listTargets();
  if (!names.includes(nameOrFile)) {
    throw new UsageError(`unknown target '${nameOrFile}'; known targets: ${names.join(', ')} (or a path to a .json description)`);
  }
  const target = readDescription(path.join(TARGETS_DIR, `${nameOrFile}.json`));
  if (target.name !== nameOrFile) {
    throw new UsageError(`${target.file}: name '${target.name}' does not match the file name '${nameOrFile}'`);
  }
  return target;
}

/** Every built-in target, loaded. */
export function loadAllTargets(): Target[] {
  return listTargets().map(loadTarget);
}

/** The region the firmware's code and constants go to: the first flash region listed. */
export function mainFlash(target: Target): MemoryRegion {
  return target.memory.find((r) => r.kind === 'flash')!;
}

/** The region the firmware's data, arena and stack go to: the first RAM region listed. */
export function mainRam(target: Target): MemoryRegion {
  return target.memory.find((r) => r.kind === 'ram')!;
}
