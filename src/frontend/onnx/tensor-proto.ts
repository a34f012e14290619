/**
 * ONNX TensorProto <-> typed arrays. Used for initializers, Constant nodes, attribute tensors, the backend tests'
 * input_N.pb / output_N.pb files, and by the exporter.
 */
import { OnnxDataType, onnxDataTypeName, int64ToNumber, onnx, type TensorProto } from './proto.js';

/** Element arrays for the ONNX types tinyedge reads. float16 and bfloat16 keep their raw 16-bit patterns. */
export type OnnxArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface OnnxTensorValue {
  name: string;
  /** ONNX TensorProto.DataType code. */
  dataType: number;
  dims: number[];
  data: OnnxArray;
}

/** A TensorProto we cannot read; the caller names the file or node. */
export class TensorDecodeError extends Error {}

interface ElementLayout {
  bytes: number;
  fromBuffer(buffer: ArrayBuffer, count: number): OnnxArray;
  allocate(count: number): OnnxArray;
}

const layouts = new Map<number, ElementLayout>([
  [OnnxDataType.FLOAT, { bytes: 4, fromBuffer: (b, n) => new Float32Array(b, 0, n), allocate: (n) => new Float32Array(n) }],
  [OnnxDataType.DOUBLE, { bytes: 8, fromBuffer: (b, n) => new Float64Array(b, 0, n), allocate: (n) => new Float64Array(n) }],
  [OnnxDataType.INT8, { bytes: 1, fromBuffer: (b, n) => new Int8Array(b, 0, n), allocate: (n) => new Int8Array(n) }],
  [OnnxDataType.UINT8, { bytes: 1, fromBuffer: (b, n) => new Uint8Array(b, 0, n), allocate: (n) => new Uint8Array(n) }],
  [OnnxDataType.BOOL, { bytes: 1, fromBuffer: (b, n) => new Uint8Array(b, 0, n), allocate: (n) => new Uint8Array(n) }],
  [OnnxDataType.INT16, { bytes: 2, fromBuffer: (b, n) => new Int16Array(b, 0, n), allocate: (n) => new Int16Array(n) }],
  [OnnxDataType.UINT16, { bytes: 2, fromBuffer: (b, n) => new Uint16Array(b, 0, n), allocate: (n) => new Uint16Array(n) }],
  [OnnxDataType.FLOAT16, { bytes: 2, fromBuffer: (b, n) => new Uint16Array(b, 0, n), allocate: (n) => new Uint16Array(n) }],
  [OnnxDataType.BFLOAT16, { bytes: 2, fromBuffer: (b, n) => new Uint16Array(b, 0, n), allocate: (n) => new Uint16Array(n) }],
  [OnnxDataType.INT32, { bytes: 4, fromBuffer: (b, n) => new Int32Array(b, 0, n), allocate: (n) => new Int32Array(n) }],
  [OnnxDataType.UINT32, { bytes: 4, fromBuffer: (b, n) => new Uint32Array(b, 0, n), allocate: (n) => new Uint32Array(n) }],
  [OnnxDataType.INT64, { bytes: 8, fromBuffer: (b, n) => new BigInt64Array(b, 0, n), allocate: (n) => new BigInt64Array(n) }],
  [OnnxDataType.UINT64, { bytes: 8, fromBuffer: (b, n) => new BigUint64Array(b, 0, n), allocate: (n) => new BigUint64Array(n) }],
]);

/** The typed-array form of a TensorProto (little-endian raw_data or the typed repeated fields). */
export function decodeTensorProto(proto: TensorProto): OnnxTensorValue {
  const name = proto.name ?? '';
  const dataType = proto.dataType ?? OnnxDataType.UNDEFINED;
  const dims = (proto.dims ?? []).map(int64ToNumber);
  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new TensorDecodeError(`tensor '${name}' stores its data in an external file, which tinyedge does not read`);
  }
  if (proto.segment) throw new TensorDecodeError(`tensor '${name}' is segmented, which tinyedge does not read`);
  const layout = layouts.get(dataType);
  if (!layout) throw new TensorDecodeError(`tensor '${name}' has data type ${onnxDataTypeName(dataType)}, which tinyedge does not read`);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = proto.rawData;
  let data: OnnxArray;
  if (raw && raw.length > 0) {
    if (raw.length !== count * layout.bytes) {
      throw new TensorDecodeError(`tensor '${name}' has ${raw.length} bytes of data for ${count} elements of ${onnxDataTypeName(dataType)}`);
    }
    // Copy: raw_data is a view into the file buffer at an arbitrary (unaligned) offset.
    const buffer = new ArrayBuffer(raw.length);
    new Uint8Array(buffer).set(raw);
    data = layout.fromBuffer(buffer, count);
  } else {
    data = layout.allocate(count);
    const values = typedFieldValues(proto, dataType);
    if (values.length !== count) {
      throw new TensorDecodeError(`tensor '${name}' has ${values.length} values for shape [${dims.join(', ')}]`);
    }
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      for (let i = 0; i < count; i++) data[i] = BigInt(values[i] as number | bigint);
    } else {
      for (let i = 0; i < count; i++) data[i] = Number(values[i]);
    }
  }
  return { name, dataType, dims, data };
}

function typedFieldValues(proto: TensorProto, dataType: number): (number | bigint)[] {
  switch (dataType) {
    case OnnxDataType.FLOAT:
      return proto.floatData ?? [];
    case OnnxDataType.DOUBLE:
      return proto.doubleData ?? [];
    case OnnxDataType.INT64:
      return (proto.int64Data ?? []).map(longToBigInt);
    case OnnxDataType.UINT32:
    case OnnxDataType.UINT64:
      return (proto.uint64Data ?? []).map(longToBigInt).map((v) => (dataType === OnnxDataType.UINT32 ? Number(v) : v));
    default:
      // int8/uint8/int16/uint16/int32/bool and the bit patterns of float16/bfloat16 all live in int32_data.
      return proto.int32Data ?? [];
  }
}

function longToBigInt(value: number | { toString(): string }): bigint {
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

/** A TensorProto (raw_data, little-endian) for a typed array. */
export function encodeTensorProto(name: string, dataType: number, dims: readonly number[], data: OnnxArray): TensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: bytes });
}

/** IEEE half-precision bits -> number. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
