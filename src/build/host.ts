/**
 * The 'host' engine: the generated library compiled with the build machine's gcc and run there, with the harness's
 * write checks (templates/host/harness.c.hbs) always on and, optionally, AddressSanitizer + UBSan.
 *
 *   generateLibrary -> library + harness.c in a directory -> gcc -> run on an input file -> output file -> tensors
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { generateLibrary, libraryFileNames, type GeneratedLibrary } from '../codegen/index.js';
import { renderTemplate } from '../codegen/render.js';
import { ExitCode, InputError, TinyedgeError } from '../errors.js';
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { DataType, Graph, TensorData } from '../ir/types.js';
import { typedFromBytes } from '../ir/graph.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The C compiler rejected the generated code (a tinyedge bug, or a toolchain problem): the compiler's message. */
export class HostBuildError extends TinyedgeError {
  constructor(message: string) {
    super(message, ExitCode.build);
  }
}

/** The compiled program failed: a check in the harness (a kernel wrote out of bounds) or a sanitizer report. */
export class HostRunError extends TinyedgeError {
  constructor(message: string) {
    super(message, ExitCode.internal);
  }
}

export const HOST_CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2'];
export const SANITIZE_CFLAGS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

export interface HostOptions {
  /** Build with AddressSanitizer and UBSan (slower; any report fails the run). */
  sanitize?: boolean;
  /** Build in this directory and keep it (for inspection); default: a temporary directory, removed afterwards. */
  keepDir?: string;
  /** Model hash for the generated banner; default 16 zeros (the host build never leaves the machine). */
  modelHash?: string;
}

/** Boundary description the harness exchanges bytes with. */
interface BoundaryTensor {
  name: string;
  dtype: DataType;
  elements: number;
  bytes: number;
}

/** A compiled host program, runnable many times (one process per batch of input records). */
export interface HostProgram {
  dir: string;
  run(records: TensorData[][]): Promise<TensorData[][]>;
  dispose(): Promise<void>;
}

/** Generates, compiles and runs `graph` on one set of inputs (graph.inputs order, IR dtypes). */
export async function runOnHost(graph: Graph, inputs: TensorData[], options: HostOptions = {}): Promise<TensorData[]> {
  const library = generateLibrary(graph, { modelHash: options.modelHash ?? '0'.repeat(16) });
  const program = await compileHostProgram(graph, library, options);
  try {
    const [outputs] = await program.run([inputs]);
    return outputs!;
  } finally {
    await program.dispose();
  }
}

/** Writes `library` and the harness to a directory and compiles them; the files may have been altered by a test. */
export async function compileHostProgram(graph: Graph, library: Pick<GeneratedLibrary, 'prefix' | 'files'>, options: HostOptions = {}): Promise<HostProgram> {
  const dir = options.keepDir ? path.resolve(options.keepDir) : await mkdtemp(path.join(tmpdir(), 'tinyedge-host-'));
  if (options.keepDir) await mkdir(dir, { recursive: true });
  const removeDir = async () => {
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const names = libraryFileNames(library.prefix);
    for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
    const symbolPrefix = `tinyedge_${library.prefix}`;
    const harness = renderTemplate('host/harness.c.hbs', {
      version: PACKAGE.version,
      prefix: symbolPrefix,
      PREFIX: symbolPrefix.toUpperCase(),
      files: names,
      inputCount: graph.inputs.length,
      outputCount: graph.outputs.length,
    });
    await writeFile(path.join(dir, 'harness.c'), harness);
    const binary = path.join(dir, 'harness');
    const flags = [...HOST_CFLAGS, ...(options.sanitize ? SANITIZE_CFLAGS : []), '-DTINYEDGE_HOST_CHECKS'];
    const compiled = await execa('gcc', [...flags, '-I', dir, '-o', binary, path.join(dir, names.model), path.join(dir, names.weights), path.join(dir, 'harness.c')], {
      reject: false,
      all: true,
      env: { LC_ALL: 'C' }, // plain ASCII quotes in the messages we pass on
    });
    if (compiled.exitCode !== 0) {
      throw new HostBuildError(`gcc failed on the generated code for '${graph.name}' (in ${dir}):\n${compiled.all ?? ''}`.trimEnd());
    }
    const inputs = graph.inputs.map((io) => boundary(graph, io.tensor, io.name));
    const outputs = graph.outputs.map((io) => boundary(graph, io.tensor, io.name));
    return {
      dir,
      run: (records) => runProgram(dir, binary, graph.name, inputs, outputs, records),
      dispose: removeDir,
    };
  } catch (error) {
    await removeDir();
    throw error;
  }
}

function boundary(graph: Graph, tensorName: string, name: string): BoundaryTensor {
  const tensor = tensorOf(graph, tensorName);
  const elements = elementCount(tensor.shape);
  return { name, dtype: tensor.dtype, elements, bytes: elements * dtypeBytes(tensor.dtype) };
}

let runCounter = 0;

async function runProgram(
  dir: string,
  binary: string,
  model: string,
  inputs: BoundaryTensor[],
  outputs: BoundaryTensor[],
  records: TensorData[][],
): Promise<TensorData[][]> {
  const chunks: Buffer[] = [];
  for (const record of records) {
    if (record.length !== inputs.length) throw new InputError(`model '${model}' takes ${inputs.length} input(s), got ${record.length}`);
    record.forEach((data, i) => {
      const spec = inputs[i]!;
      if (data.byteLength !== spec.bytes || data.length !== spec.elements) {
        throw new InputError(`input '${spec.name}' expects ${spec.elements} ${spec.dtype} values (${spec.bytes} bytes), got ${data.length} values (${data.byteLength} bytes)`);
      }
      chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }
  const id = runCounter++;
  const inFile = path.join(dir, `input-${id}.bin`);
  const outFile = path.join(dir, `output-${id}.bin`);
  await writeFile(inFile, Buffer.concat(chunks));
  try {
    const result = await execa(binary, [inFile, outFile], { reject: false, all: true });
    if (result.exitCode !== 0) {
      const why = result.exitCode === undefined ? `was killed (${result.signal ?? 'unknown signal'})` : `exited with code ${result.exitCode}`;
      throw new HostRunError(`the host build of '${model}' ${why}:\n${result.all ?? ''}`.trimEnd());
    }
    const bytes = await readFile(outFile);
    const perRecord = outputs.reduce((sum, o) => sum + o.bytes, 0);
    const recordCount = inputs.length === 0 ? 1 : records.length;
    if (bytes.length !== perRecord * recordCount) {
      throw new HostRunError(`the host build of '${model}' wrote ${bytes.length} output bytes, expected ${perRecord * recordCount}`);
    }
    const results: TensorData[][] = [];
    let offset = 0;
    for (let r = 0; r < recordCount; r++) {
      results.push(
        outputs.map((spec) => {
          const data = typedFromBytes(spec.dtype, bytes.subarray(offset, offset + spec.bytes));
          offset += spec.bytes;
          return data;
        }),
      );
    }
    return results;
  } finally {
    await rm(inFile, { force: true });
    await rm(outFile, { force: true });
  }
}

