/**
 * Builds the firmware for one target around one generated model library: render the project, compile every source
 * with arm-none-eabi-gcc, check the compiled size against the target's memories (refusing before the link when it
 * cannot fit), link, and report what the image uses.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa, type ExecaError } from 'execa';
import { UsageError } from '../errors.js';
import { loadTarget, mainFlash, mainRam, type Target } from '../targets/index.js';
import { BuildError } from './firmware-errors.js';
import { readElf, regionUsage, sectionTotals } from './firmware-elf.js';
import { checkFit, estimateFit, type FitEstimate } from './firmware-fit.js';
import { renderFirmwareProject, type FirmwareModel, type LibraryFile } from './firmware-project.js';
import { findToolchain, type Toolchain } from './toolchain.js';

export type { FirmwareModel } from './firmware-project.js';
export { BuildError } from './firmware-errors.js';

export const DEFAULT_STACK_BYTES = 4096;

export type FirmwareProgress =
  | { stage: 'render'; dir: string }
  | { stage: 'compile'; file: string; done: number; total: number }
  | { stage: 'check'; estimate: FitEstimate }
  | { stage: 'link'; elf: string }
  | { stage: 'done'; sizes: FirmwareSizes };

export interface BuildFirmwareOptions {
  /** A Target, a built-in target name or a path to a .json description. */
  target: Target | string;
  /** The generated model library: every .c/.h under this directory... */
  libraryDir?: string;
  /** ...or exactly these files. */
  files?: string[];
  model: FirmwareModel;
  outDir: string;
  stackBytes?: number;
  onProgress?: (event: FirmwareProgress) => void;
}

export interface FirmwareSizes {
  /** As `size` counts them: code + constants, initialised data, zeroed data (including the stack). */
  text: number;
  data: number;
  bss: number;
  flashUsed: number;
  flashSize: number;
  ramUsed: number;
  ramSize: number;
  stackBytes: number;
}

export interface FirmwareBuild {
  target: Target;
  dir: string;
  elf: string;
  bin: string;
  hex: string;
  sizes: FirmwareSizes;
  estimate: FitEstimate;
  toolchain: Toolchain;
}

function libraryFiles(options: BuildFirmwareOptions): LibraryFile[] {
  if (options.files) {
    return options.files.map((file) => {
      if (!existsSync(file)) throw new UsageError(`model library file ${file} does not exist`);
      return { path: file, relative: path.basename(file) };
    });
  }
  const root = options.libraryDir;
  if (!root) throw new UsageError('buildFirmware needs the model library: libraryDir or files');
  if (!existsSync(root)) throw new UsageError(`model library directory ${root} does not exist`);
  const found: LibraryFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(c|h)$/.test(entry)) found.push({ path: full, relative: path.relative(root, full) });
    }
  };
  walk(root);
  return found;
}

function checkModelDescription(model: FirmwareModel, library: LibraryFile[]): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(model.prefix)) throw new UsageError(`model prefix '${model.prefix}' is not a C identifier`);
  const header = `tinyedge_${model.prefix}.h`;
  if (!library.some((f) => path.basename(f.relative) === header)) {
    throw new UsageError(`the model library has no ${header} (files: ${library.map((f) => f.relative).join(', ') || 'none'})`);
  }
  const sizes = [...model.inputBytes, ...model.outputBytes];
  if (model.inputBytes.length === 0 || model.outputBytes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new UsageError(`model '${model.prefix}' needs at least one input and one output, each a positive byte count`);
  }
  if (!Number.isInteger(model.layerCount) || model.layerCount < 1) {
    throw new UsageError(`model '${model.prefix}' needs a positive layer count`);
  }
}

function compilerOutput(error: unknown): string {
  const e = error as ExecaError;
  return [e.stderr, e.stdout].filter((s) => typeof s === 'string' && s.length > 0).join('\n') || String(e.message);
}

/** Runs `jobs` with at most `limit` at a time (the machines have few cores). */
async function inParallel<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await job(items[next++]!);
  });
  await Promise.all(workers);
}

export async function buildFirmware(options: BuildFirmwareOptions): Promise<FirmwareBuild> {
  const target = typeof options.target === 'string' ? loadTarget(options.target) : options.target;
  const stackBytes = options.stackBytes ?? DEFAULT_STACK_BYTES;
  if (!Number.isInteger(stackBytes) || stackBytes < 512 || stackBytes % 8 !== 0) {
    throw new UsageError(`stack size ${stackBytes} must be a multiple of 8 bytes, at least 512`);
  }
  const library = libraryFiles(options);
  checkModelDescription(options.model, library);
  const toolchain = await findToolchain();
  const progress = options.onProgress ?? (() => {});

  const outDir = path.resolve(options.outDir);
  // A previous build's model files or objects must not leak into this one.
  for (const stale of ['model', 'build']) rmSync(path.join(outDir, stale), { recursive: true, force: true });
  const project = renderFirmwareProject({ target, model: options.model, library, outDir, stackBytes });
  progress({ stage: 'render', dir: outDir });

  const sources = [...project.harnessSources, ...project.modelSources];
  const objectOf = (source: string) => path.join('build', source.replace(/\.c$/, '.o'));
  let done = 0;
  for (const source of sources) mkdirSync(path.dirname(path.join(outDir, objectOf(source))), { recursive: true });
  const harness = new Set(project.harnessSources);
  await inParallel(sources, 2, async (source) => {
    const cflags = harness.has(source) ? project.harnessCflags : project.cflags;
    try {
      await execa(toolchain.gcc, [...cflags, '-c', source, '-o', objectOf(source)], { cwd: outDir });
    } catch (error) {
      throw new BuildError(`compiling ${source} for ${target.name} failed:`, compilerOutput(error));
    }
    progress({ stage: 'compile', file: source, done: ++done, total: sources.length });
  });

  const estimate = estimateFit(
    target,
    project.modelSources.map((s) => readElf(path.join(outDir, objectOf(s)))),
    project.harnessSources.map((s) => readElf(path.join(outDir, objectOf(s)))),
    stackBytes,
  );
  progress({ stage: 'check', estimate });
  checkFit(target, estimate);

  const elf = path.join(outDir, 'firmware.elf');
  const objects = sources.map(objectOf);
  try {
    await execa(toolchain.gcc, [...project.harnessCflags, ...objects, ...project.ldflags, '-o', elf], { cwd: outDir });
  } catch (error) {
    throw new BuildError(`linking the firmware for ${target.name} failed:`, compilerOutput(error));
  }
  progress({ stage: 'link', elf });
  const bin = path.join(outDir, 'firmware.bin');
  const hex = path.join(outDir, 'firmware.hex');
  await execa(toolchain.objcopy, ['-O', 'binary', elf, bin]);
  await execa(toolchain.objcopy, ['-O', 'ihex', elf, hex]);

  const image = readElf(elf);
  const usage = regionUsage(image, mainFlash(target), mainRam(target));
  const sizes: FirmwareSizes = {
    ...sectionTotals(image),
    flashUsed: usage.flashBytes,
    flashSize: mainFlash(target).size,
    ramUsed: usage.ramBytes,
    ramSize: mainRam(target).size,
    stackBytes,
  };
  progress({ stage: 'done', sizes });
  return { target, dir: outDir, elf, bin, hex, sizes, estimate, toolchain };
}
