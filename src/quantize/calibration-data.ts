/**
 * Calibration (and evaluation) samples from a directory, in either of two layouts:
 * - .npy files directly in DIR, for a single-input model: each file is one sample, or a batch of samples along
 *   axis 0 when the model's batch dimension is 1 or symbolic;
 * - one sub-directory per sample (ONNX's test_data_set_N folders fit): one file per model input, .npy or
 *   TensorProto .pb, named after the input (NAME.npy) or by position (input_N.pb / input_N.npy), or in input order
 *   when the names say nothing. output_N files are expected outputs and are ignored.
 * Samples come in natural name order (test_data_set_2 before test_data_set_10).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { InputError } from '../errors.js';
import { elementCount } from '../ir/graph.js';
import { onnx, OnnxDataType, onnxDataTypeName } from '../frontend/onnx/proto.js';
import { decodeTensorProto } from '../frontend/onnx/tensor-proto.js';
import { readInputFile } from '../io/input-files.js';
import { describeType } from '../io/ndarray.js';
import type { FloatTensor } from './onnxruntime.js';

export interface InputSpec {
  name: string;
  /** undefined: the model declares no shape; a dimension is undefined when symbolic. */
  shape?: (number | undefined)[];
}

export interface Sample {
  /** The file or directory the sample came from (with its index inside a batch file). */
  source: string;
  /** By model input name. */
  inputs: Map<string, FloatTensor>;
}

const DATA_EXTENSIONS = new Set(['.npy', '.pb']);

/** `option` names the command-line option in messages (--calibration, --eval). */
export async function readSamples(location: string, inputs: readonly InputSpec[], option: string): Promise<Sample[]> {
  const kind = await entryKind(location, option);
  const samples: Sample[] = [];
  if (kind === 'file') {
    samples.push(...(await samplesOfFile(location, inputs, option)));
    return samples;
  }
  const entries = (await readdir(location, { withFileTypes: true })).sort((a, b) => naturalOrder(a.name, b.name));
  for (const entry of entries) {
    const path = join(location, entry.name);
    if (entry.isFile() && isDataFile(entry.name)) samples.push(...(await samplesOfFile(path, inputs, option)));
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const sample = await sampleOfDirectory(join(location, entry.name), inputs);
    if (sample) samples.push(sample);
  }
  if (samples.length === 0) {
    throw new InputError(`${option} ${location}: no samples there (put .npy files in it, or one sub-directory per sample holding input_N.pb or NAME.npy files)`);
  }
  return samples;
}

async function entryKind(location: string, option: string): Promise<'file' | 'directory'> {
  try {
    return (await stat(location)).isDirectory() ? 'directory' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${option} ${location}: no such directory`);
    throw new InputError(`${option} ${location}: cannot be read (${code ?? (error as Error).message})`);
  }
}

function isDataFile(name: string): boolean {
  return DATA_EXTENSIONS.has(extname(name).toLowerCase()) && !/^output_\d+\./i.test(name);
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** A data file directly in DIR: one sample or a batch of them, for a single-input model. */
async function samplesOfFile(file: string, inputs: readonly InputSpec[], option: string): Promise<Sample[]> {
  if (inputs.length !== 1) {
    const names = inputs.map((input) => `'${input.name}'`).join(', ');
    throw new InputError(`${file}: the model has ${inputs.length} inputs (${names}); ${option} needs one sub-directory per sample with a file for each input`);
  }
  const input = inputs[0]!;
  const tensors = conform(file, await readArray(file), input, true);
  return tensors.map((tensor, i) => ({ source: tensors.length === 1 ? file : `${file}[${i}]`, inputs: new Map([[input.name, tensor]]) }));
}

/** A sub-directory holding one file per model input; undefined when it holds no data files at all. */
async function sampleOfDirectory(directory: string, inputs: readonly InputSpec[]): Promise<Sample | undefined> {
  const files = (await readdir(directory, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && isDataFile(entry.name))
    .map((entry) => entry.name)
    .sort(naturalOrder);
  if (files.length === 0) return undefined;
  const assigned = assignFiles(directory, files, inputs);
  const sample: Sample = { source: directory, inputs: new Map() };
  for (const input of inputs) {
    const file = join(directory, assigned.get(input.name)!);
    sample.inputs.set(input.name, conform(file, await readArray(file), input, false)[0]!);
  }
  return sample;
}

/** Which file feeds which input: by name, by input_N position, or (names telling nothing) in order. */
function assignFiles(directory: string, files: readonly string[], inputs: readonly InputSpec[]): Map<string, string> {
  const byName = new Map<string, string>();
  for (const file of files) {
    const stem = basename(file, extname(file));
    const position = /^input_(\d+)$/.exec(stem);
    const input = inputs.find((candidate) => candidate.name === stem || safeFileName(candidate.name) === stem) ?? (position ? inputs[Number(position[1])] : undefined);
    if (input && !byName.has(input.name)) byName.set(input.name, file);
  }
  if (byName.size === inputs.length) return byName;
  if (byName.size === 0 && files.length === inputs.length) return new Map(inputs.map((input, i) => [input.name, files[i]!]));
  const missing = inputs.filter((input) => !byName.has(input.name)).map((input) => `'${input.name}'`);
  throw new InputError(
    `${directory}: no file for model input ${missing.join(', ')} among ${files.join(', ')} (name each file after its input, NAME.npy, or input_N.pb by position)`,
  );
}

/** Input names may hold characters a file name cannot ('input:0', 'x/y'). */
function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

interface RawArray {
  dtype: string;
  shape: number[];
  data: ArrayLike<number | bigint>;
}

async function readArray(file: string): Promise<RawArray> {
  if (extname(file).toLowerCase() === '.npy') return readInputFile(file, 'float32');
  let proto;
  try {
    proto = onnx.TensorProto.decode(await readFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw new InputError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code})`);
    throw new InputError(`${file}: not a valid TensorProto (.pb) file`);
  }
  try {
    const value = decodeTensorProto(proto);
    const dtype = value.dataType === OnnxDataType.FLOAT ? 'float32' : value.dataType === OnnxDataType.DOUBLE ? 'float64' : onnxDataTypeName(value.dataType);
    return { dtype, shape: value.dims, data: value.data };
  } catch (error) {
    throw new InputError(`${file}: not a valid TensorProto (.pb) file: ${(error as Error).message}`);
  }
}

/**
 * The float32 sample(s) a file holds for `input`: same rank with matching dimensions (symbolic ones taken from the
 * file), a batch of samples along axis 0 when `allowBatch`, or the right number of values in any shape.
 */
function conform(file: string, array: RawArray, input: InputSpec, allowBatch: boolean): FloatTensor[] {
  const declared = input.shape;
  const expected = declared ? describeType('float32', declared.map((d) => d ?? '?') as number[]) : 'float32';
  const mismatch = (): never => {
    const count = declared && declared.every((d) => d !== undefined) ? ` (${elementCount(declared as number[])} values)` : '';
    throw new InputError(`${file}: input '${input.name}' expects ${expected}${count}; the file holds ${describeType(array.dtype, array.shape)} (${array.data.length} values)`);
  };
  if (array.dtype !== 'float32' && array.dtype !== 'float64') mismatch();
  const data = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data as ArrayLike<number>);
  if (!declared) return [{ data, shape: [...array.shape] }];

  const rank = declared.length;
  const fits = array.shape.length === rank && declared.every((d, i) => i === 0 || d === undefined || d === array.shape[i]);
  if (fits && rank > 0) {
    const batch = array.shape[0]!;
    const sampleBatch = declared[0] ?? 1;
    if (batch === sampleBatch) return [{ data, shape: [...array.shape] }];
    if (sampleBatch === 1 && allowBatch && batch > 1) {
      const size = data.length / batch;
      const shape = [1, ...array.shape.slice(1)];
      return Array.from({ length: batch }, (_, i) => ({ data: data.slice(i * size, (i + 1) * size), shape }));
    }
  }
  // Any shape with the right number of values, a symbolic batch taken as 1 (as the importer takes it).
  const resolved = declared.map((d, i) => d ?? (i === 0 ? 1 : undefined));
  if (resolved.every((d) => d !== undefined) && elementCount(resolved as number[]) === data.length) return [{ data, shape: resolved as number[] }];
  return mismatch();
}
