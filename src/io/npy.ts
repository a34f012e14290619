/**
 * NumPy's .npy format, versions 1.0, 2.0 and 3.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * the magic "\x93NUMPY", a version, a little-endian header length (2 bytes in v1, 4 in v2/v3), a Python dict literal
 * naming descr / fortran_order / shape, padded with spaces and a newline so the data starts 64-byte aligned.
 */
import { InputError } from '../errors.js';
import { elementCount } from '../ir/graph.js';
import type { DataType } from '../ir/types.js';
import { typedArrayFor, type NdArray } from './ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGNMENT = 64;

/** Element kinds by their descr without the byte-order character. float64 is read as float32: every model takes float32. */
const DESCR_KINDS: Record<string, { dtype: DataType; bytes: number; float64?: true }> = {
  i1: { dtype: 'int8', bytes: 1 },
  u1: { dtype: 'uint8', bytes: 1 },
  i2: { dtype: 'int16', bytes: 2 },
  i4: { dtype: 'int32', bytes: 4 },
  i8: { dtype: 'int64', bytes: 8 },
  f4: { dtype: 'float32', bytes: 4 },
  f8: { dtype: 'float32', bytes: 8, float64: true },
};

const WRITE_DESCR: Record<DataType, string> = {
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  float32: '<f4',
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses a .npy file's bytes; `file` names it in errors (InputError: these files come from the user). */
export function decodeNpy(bytes: Uint8Array, file: string): NdArray {
  const fail = (detail: string): never => {
    throw new InputError(`${file}: not a valid .npy file: ${detail}`);
  };
  if (!isNpy(bytes)) fail('missing the \\x93NUMPY magic');
  if (bytes.length < 10) fail('truncated header');
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`unsupported format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1] ?? fail(`no 'descr' in header ${header.trim()}`);
  const fortranOrder = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1] ?? fail("no 'fortran_order' in header");
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail("no 'shape' in header");
  if (fortranOrder === 'True') fail('Fortran-ordered arrays are not supported (save with np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^\d+L?$/.test(s) ? parseInt(s, 10) : fail(`bad shape (${shapeText})`)));

  const order = descr[0] ?? '';
  const kind = DESCR_KINDS[descr.slice(1)];
  if (!'<>|='.includes(order) || order === '' || !kind) {
    fail(`unsupported dtype '${descr}' (int8, uint8, int16, int32, int64, float32 or float64)`);
  }
  const { dtype, bytes: elementBytes, float64 } = kind!;
  const count = elementCount(shape);
  const dataBytes = count * elementBytes;
  if (bytes.length - dataStart < dataBytes) {
    fail(`truncated data: shape (${shape.join(', ')}) needs ${dataBytes} bytes, the file has ${bytes.length - dataStart}`);
  }
  const littleEndian = order !== '>';
  const data = typedArrayFor(dtype, count);
  const read = elementReader(dtype, elementBytes, float64 === true);
  for (let i = 0; i < count; i++) {
    (data as unknown as (number | bigint)[])[i] = read(view, dataStart + i * elementBytes, littleEndian);
  }
  return { dtype, shape, data };
}

type ElementReader = (view: DataView, offset: number, littleEndian: boolean) => number | bigint;

function elementReader(dtype: DataType, elementBytes: number, float64: boolean): ElementReader {
  if (float64) return (v, o, le) => v.getFloat64(o, le);
  switch (dtype) {
    case 'int8':
      return (v, o) => v.getInt8(o);
    case 'uint8':
      return (v, o) => v.getUint8(o);
    case 'int16':
      return (v, o, le) => v.getInt16(o, le);
    case 'int32':
      return (v, o, le) => v.getInt32(o, le);
    case 'int64':
      return (v, o, le) => v.getBigInt64(o, le);
    case 'float32':
      return (v, o, le) => v.getFloat32(o, le);
  }
  throw new Error(`no reader for ${dtype} of ${elementBytes} bytes`);
}

/** Encodes an array as .npy (version 1.0 unless the header needs 2.0), little-endian, C order. */
export function encodeNpy(array: NdArray): Uint8Array {
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${WRITE_DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const version = dict.length + 1 + 10 < 65536 ? 1 : 2;
  const prefixBytes = version === 1 ? 10 : 12;
  const padding = (ALIGNMENT - ((prefixBytes + dict.length + 1) % ALIGNMENT)) % ALIGNMENT;
  const header = dict + ' '.repeat(padding) + '\n';

  const payload = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(prefixBytes + header.length + payload.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefixBytes);
  // Typed arrays are in the platform's byte order, little-endian on every machine Node runs tinyedge on.
  out.set(payload, prefixBytes + header.length);
  return out;
}
