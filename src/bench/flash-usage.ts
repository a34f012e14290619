/**
 * Where the flash of a linked firmware goes, read from the linker's map file (the firmware build always writes
 * firmware.map): every input section placed in a section that is loaded into flash, attributed to the object it
 * came from. That splits the image the way the comparison with TFLite-Micro needs it:
 *
 *   weights     the model library's constants object (tinyedge_P_weights.o): weights, biases, multipliers, tables
 *   model code  the rest of the model library (tinyedge_P.o): the kernels, the run function, the model description
 *   harness     the firmware around it: startup, clock, console, timer, the two device protocols
 *   C runtime   what the linker took from newlib and libgcc (memcpy, 64-bit division, ...)
 *   vectors     the interrupt vector table
 *   padding     alignment fill between sections
 *
 * BASELINES.md counts TFLite-Micro's code as text + data - model - vectors, harness and C library included; the
 * bench's code figure is the same: flash - weights - vectors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readElf } from '../build/firmware-elf.js';
import { libraryFileNames } from '../codegen/index.js';

export interface InputSection {
  /** The output section it was placed in (.text, .data, ...). */
  output: string;
  name: string;
  address: number;
  size: number;
  /** Object file or archive member; '*fill*' for alignment fill. */
  file: string;
}

export interface FlashUsage {
  /** Bytes the image stores in flash (the load segments), as the firmware build reports them. */
  total: number;
  weights: number;
  modelCode: number;
  harness: number;
  cRuntime: number;
  vectors: number;
  /** Alignment fill, and whatever the map does not attribute (the rest of total). */
  padding: number;
}

const MAP_START = 'Linker script and memory map';
const HEX = '0x([0-9a-fA-F]+)';
const OUTPUT_SECTION = new RegExp(`^(\\.\\S+)\\s+${HEX}\\s+${HEX}`);
const OUTPUT_SECTION_NAME_ONLY = /^(\.\S+)\s*$/;
const INPUT_SECTION = new RegExp(`^ (\\S+)\\s+${HEX}\\s+${HEX}\\s+(\\S.*?)\\s*$`);
const INPUT_SECTION_NAME_ONLY = /^ (\S+)\s*$/;
const CONTINUATION = new RegExp(`^\\s+${HEX}\\s+${HEX}\\s+(\\S.*?)\\s*$`);
const FILL = new RegExp(`^ \\*fill\\*\\s+${HEX}\\s+${HEX}`);

/** The input sections of a GNU ld map file, in map order. */
export function parseLinkerMap(text: string): InputSection[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith(MAP_START));
  if (start < 0) throw new Error(`not a GNU ld map file (no '${MAP_START}')`);
  const sections: InputSection[] = [];
  let output = '';
  let pendingOutput: string | undefined;
  let pendingInput: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (pendingOutput !== undefined) {
      // A long output section name ends its line; address and size follow on the next.
      if (new RegExp(`^\\s+${HEX}\\s+${HEX}`).test(line)) output = pendingOutput;
      pendingOutput = undefined;
      continue;
    }
    if (pendingInput !== undefined) {
      const continued = CONTINUATION.exec(line);
      if (continued) sections.push(section(output, pendingInput, continued[1]!, continued[2]!, continued[3]!));
      pendingInput = undefined;
      if (continued) continue;
    }
    let match: RegExpExecArray | null;
    if ((match = OUTPUT_SECTION.exec(line))) {
      output = match[1]!;
    } else if ((match = OUTPUT_SECTION_NAME_ONLY.exec(line))) {
      pendingOutput = match[1]!;
    } else if ((match = FILL.exec(line))) {
      sections.push(section(output, '*fill*', match[1]!, match[2]!, '*fill*'));
    } else if ((match = INPUT_SECTION.exec(line))) {
      if (!match[1]!.startsWith('*(')) sections.push(section(output, match[1]!, match[2]!, match[3]!, match[4]!));
    } else if ((match = INPUT_SECTION_NAME_ONLY.exec(line))) {
      if (!match[1]!.startsWith('*')) pendingInput = match[1]!;
    }
  }
  return sections.filter((s) => s.size > 0);
}

function section(output: string, name: string, address: string, size: string, file: string): InputSection {
  return { output, name, address: parseInt(address, 16), size: parseInt(size, 16), file };
}

/**
 * The flash of a firmware build directory (firmware.elf + firmware.map) split by origin. `weightsObject` is the
 * model library's constants object as the map names it (build/model/tinyedge_P_weights.o); `total` is the build's
 * flash figure, so the parts add up to it exactly (the difference lands in padding).
 */
export function flashUsage(buildDir: string, weightsObject: string, total: number): FlashUsage {
  const elf = readElf(path.join(buildDir, 'firmware.elf'));
  // Sections with contents are the ones the image carries in flash (.text, .data's initial values, ...); NOBITS
  // ones (.bss, .stack) only take RAM.
  const loaded = new Set(elf.sections.filter((s) => s.kind !== 'bss').map((s) => s.name));
  const sections = parseLinkerMap(readFileSync(path.join(buildDir, 'firmware.map'), 'utf8')).filter((s) => loaded.has(s.output));
  return splitFlash(sections, weightsObject, total);
}

/** A function of the model library and its bytes (one input section each: the library is built with -ffunction-sections). */
export interface FunctionSize {
  function: string;
  bytes: number;
}

/** The model library's functions (not its constants), largest first: code size per kernel. */
export function modelFunctions(buildDir: string): FunctionSize[] {
  const sections = parseLinkerMap(readFileSync(path.join(buildDir, 'firmware.map'), 'utf8'));
  return functionSizes(sections);
}

export function functionSizes(sections: readonly InputSection[]): FunctionSize[] {
  const sizes = new Map<string, number>();
  for (const s of sections) {
    const file = s.file.replace(/\\/g, '/');
    if (!(file.startsWith('build/model/') || file.includes('/build/model/')) || !s.name.startsWith('.text.')) continue;
    // gcc's clones keep their origin's name before the first dot (te_fc_l3.constprop.0).
    const name = s.name.slice('.text.'.length).split('.')[0]!;
    sizes.set(name, (sizes.get(name) ?? 0) + s.size);
  }
  return [...sizes].map(([fn, bytes]) => ({ function: fn, bytes })).sort((a, b) => b.bytes - a.bytes || (a.function < b.function ? -1 : 1));
}

/** Bytes of a layer's own functions: `fn` and its helpers `fn_*` (functions it shares with other layers excluded). */
export function layerCodeBytes(functions: readonly FunctionSize[], fn: string | null): number {
  if (fn === null) return 0;
  return functions.filter((f) => f.function === fn || f.function.startsWith(`${fn}_`)).reduce((sum, f) => sum + f.bytes, 0);
}

export function splitFlash(sections: readonly InputSection[], weightsObject: string, total: number): FlashUsage {
  const usage: FlashUsage = { total, weights: 0, modelCode: 0, harness: 0, cRuntime: 0, vectors: 0, padding: 0 };
  for (const s of sections) usage[partOf(s, weightsObject)] += s.size;
  usage.padding += total - (usage.weights + usage.modelCode + usage.harness + usage.cRuntime + usage.vectors + usage.padding);
  return usage;
}

function partOf(s: InputSection, weightsObject: string): Exclude<keyof FlashUsage, 'total'> {
  if (s.file === '*fill*') return 'padding';
  if (s.name === '.isr_vector') return 'vectors';
  const file = s.file.replace(/\\/g, '/');
  if (file === weightsObject || file.endsWith(`/${weightsObject}`)) return 'weights';
  if (file.startsWith('build/model/') || file.includes('/build/model/')) return 'modelCode';
  // Archive members: libc_nano.a(lib_a-memcpy.o), libgcc.a(_udivmoddi4.o).
  if (/\.a\([^)]*\)$/.test(file)) return 'cRuntime';
  return 'harness';
}

/** The weights object of library prefix P, as the firmware build names it in the map (build/ mirrors the sources). */
export function weightsObjectOf(prefix: string): string {
  return `build/model/${libraryFileNames(prefix).weights.replace(/\.c$/, '.o')}`;
}
