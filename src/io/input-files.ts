/**
 * Reads one user input file into an array. The format follows the extension:
 * - .npy  : NumPy array (int8, uint8, int16, int32, int64, float32, float64), any shape;
 * - .bin  : raw little-endian elements in the input's external dtype, no header;
 * - .json : a flat or nested array of numbers, or {"data": [...], "dtype"?: "int8" | "uint8" | "float32"}.
 * Shapes and dtypes are checked against the model later (src/io/tensors.ts); here only the file itself.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError } from '../errors.js';
import { dtypeBytes } from '../ir/graph.js';
import type { DataType } from '../ir/types.js';
import { integerRange, typedArrayFor, type NdArray } from './ndarray.js';
import { decodeNpy } from './npy.js';

const JSON_DTYPES: readonly DataType[] = ['int8', 'uint8', 'int16', 'int32', 'float32'];

/** `externalDtype` is how .bin and .json data without a dtype are read. */
export async function readInputFile(file: string, externalDtype: DataType): Promise<NdArray> {
  const bytes = await readBytes(file);
  switch (extname(file).toLowerCase()) {
    case '.npy':
      return decodeNpy(bytes, file);
    case '.bin':
      return decodeRaw(bytes, file, externalDtype);
    case '.json':
      return decodeJson(bytes, file, externalDtype);
    default:
      throw new InputError(`${file}: unknown input format '${extname(file)}' (use .npy, .bin or .json)`);
  }
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${file}: is a directory`);
    if (code === 'EACCES') throw new InputError(`${file}: permission denied`);
    // Whatever else stops us reading the user's file (ELOOP, EIO, ...) is about that file, not a bug in tinyedge.
    if (code) throw new InputError(`${file}: cannot be read (${code})`);
    throw error;
  }
}

function decodeRaw(bytes: Uint8Array, file: string, dtype: DataType): NdArray {
  const size = dtypeBytes(dtype);
  if (bytes.length % size !== 0) {
    throw new InputError(`${file}: ${bytes.length} bytes is not a whole number of ${dtype} elements (${size} bytes each)`);
  }
  const data = typedArrayFor(dtype, bytes.length / size);
  new Uint8Array(data.buffer).set(bytes);
  return { dtype, shape: [data.length], data };
}

function decodeJson(bytes: Uint8Array, file: string, externalDtype: DataType): NdArray {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  let values: unknown = parsed;
  let dtype = externalDtype;
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const object = parsed as { data?: unknown; dtype?: unknown };
    if (object.data === undefined) throw new InputError(`${file}: a JSON object input needs a "data" array`);
    values = object.data;
    if (object.dtype !== undefined) {
      if (!JSON_DTYPES.includes(object.dtype as DataType)) {
        throw new InputError(`${file}: "dtype" must be one of ${JSON_DTYPES.join(', ')}, not ${JSON.stringify(object.dtype)}`);
      }
      dtype = object.dtype as DataType;
    }
  }
  if (!Array.isArray(values)) throw new InputError(`${file}: expected an array of numbers`);
  const numbers = (values as unknown[]).flat(Infinity);
  const badIndex = numbers.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (badIndex >= 0) {
    throw new InputError(`${file}: element ${badIndex} is ${JSON.stringify(numbers[badIndex])}, not a finite number`);
  }
  const range = integerRange(dtype);
  if (range) {
    const bad = (numbers as number[]).findIndex((v) => !Number.isInteger(v) || v < range.min || v > range.max);
    if (bad >= 0) {
      const hint = 'give {"dtype": "float32", "data": [...]} to have floats quantized';
      throw new InputError(`${file}: element ${bad} (${numbers[bad]}) is not a valid ${dtype} value; ${hint}`);
    }
  }
  const data = typedArrayFor(dtype, numbers.length);
  if (data instanceof BigInt64Array) data.set((numbers as number[]).map((v) => BigInt(v)));
  else data.set(numbers as number[]);
  return { dtype, shape: [numbers.length], data };
}
