/**
 * TFLite tensors -> IR tensors: unique names, IR dtypes, quantization and constant data.
 *
 * Legacy uint8 models become int8: a uint8 value q with zero point Z means the same real number as the int8 value
 * q - 128 with zero point Z - 128, for activations and weights alike (uint8 weights then keep a non-zero zero point).
 * The graph boundary remembers uint8 through GraphIO.externalDtype.
 */
import { ModelError } from '../../errors.js';
import { dtypeBytes, elementCount } from '../../ir/graph.js';
import type { DataType, Quantization, Tensor, TensorData } from '../../ir/types.js';
import type { TfliteModel, TfliteTensor } from './model.js';
import { tensorTypeName } from './schema.js';

export interface ImportedTensors {
  /** The IR tensor of each TFLite tensor index; absent where the tensor cannot be represented (see `problems`). */
  byIndex: (Tensor | undefined)[];
  /** Why a tensor has no IR form (an unsupported type, sparse or custom quantization), by index. */
  problems: Map<number, string>;
  /** The dtype each tensor has in the file, by index, for the graph boundary. */
  fileDtypes: (DataType | undefined)[];
  /** Indices of the tensors written at run time: graph inputs and operator outputs. */
  runtime: Set<number>;
}

const DTYPE_OF_TENSOR_TYPE: Record<string, DataType> = {
  FLOAT32: 'float32',
  INT32: 'int32',
  UINT8: 'uint8',
  INT64: 'int64',
  INT16: 'int16',
  INT8: 'int8',
};

export function importTensors(model: TfliteModel, file: string): ImportedTensors {
  const names = uniqueTensorNames(model.tensors);
  // Graph inputs and operator outputs are written at run time: a buffer attached to one is not its value.
  const runtime = new Set([...model.inputs, ...model.operators.flatMap((operator) => operator.outputs)]);
  const byIndex: (Tensor | undefined)[] = [];
  const problems = new Map<number, string>();
  const fileDtypes: (DataType | undefined)[] = [];
  for (const source of model.tensors) {
    const name = names[source.index]!;
    const fileDtype = DTYPE_OF_TENSOR_TYPE[tensorTypeName(source.type)];
    fileDtypes.push(fileDtype);
    const problem = unrepresentable(source, fileDtype);
    if (problem) {
      problems.set(source.index, `tensor '${name}' ${problem}`);
      byIndex.push(undefined);
      continue;
    }
    const buffer = model.buffers[source.buffer]!;
    const data = !runtime.has(source.index) && buffer.length > 0 ? buffer : undefined;
    byIndex.push(importTensor(source, name, fileDtype!, data, file));
  }
  return { byIndex, problems, fileDtypes, runtime };
}

function unrepresentable(source: TfliteTensor, dtype: DataType | undefined): string | null {
  if (!dtype) return `has type ${tensorTypeName(source.type)}, which tinyedge does not support`;
  if (source.isSparse) return 'is stored sparse, which tinyedge does not support (convert without sparsity)';
  if (source.quantization?.hasCustomDetails) return 'uses custom quantization, which tinyedge does not support';
  return null;
}

function importTensor(
  source: TfliteTensor,
  name: string,
  fileDtype: DataType,
  bytes: Uint8Array | undefined,
  file: string,
): Tensor {
  const shiftedFromUint8 = fileDtype === 'uint8' && source.quantization !== null;
  const dtype: DataType = shiftedFromUint8 ? 'int8' : fileDtype;
  const tensor: Tensor = { name, shape: [...source.shape], dtype };
  const quant = importQuantization(source, name, file);
  if (quant) {
    tensor.quant = shiftedFromUint8 ? { ...quant, zeroPoint: quant.zeroPoint.map((z) => z - 128) } : quant;
  }
  if (bytes) {
    const expected = elementCount(source.shape) * dtypeBytes(fileDtype);
    if (bytes.length !== expected) {
      throw new ModelError(
        file,
        `tensor '${name}' holds ${bytes.length} bytes of data, but its shape [${source.shape.join(', ')}] ` +
          `of ${tensorTypeName(source.type)} needs ${expected}`,
      );
    }
    tensor.data = shiftedFromUint8 ? uint8AsInt8(bytes) : typedCopy(bytes, dtype);
  }
  return tensor;
}

function importQuantization(source: TfliteTensor, name: string, file: string): Quantization | undefined {
  const quantization = source.quantization;
  if (!quantization) return undefined;
  const { scale, zeroPoint } = quantization;
  if (zeroPoint.length !== scale.length) {
    throw new ModelError(file, `tensor '${name}' has ${scale.length} scales but ${zeroPoint.length} zero points`);
  }
  if (scale.length === 1) return { scale: [...scale], zeroPoint: [...zeroPoint], axis: 0 };
  // TFLite-Micro ignores quantized_dimension on 1-D tensors (person_detect's biases carry 3): their axis can only be 0.
  const rank = source.shape.length;
  const axis = rank === 1 ? 0 : quantization.quantizedDimension;
  if (axis < 0 || axis >= rank) {
    throw new ModelError(
      file,
      `tensor '${name}' is quantized per channel along dimension ${axis}, outside its shape [${source.shape.join(', ')}]`,
    );
  }
  if (source.shape[axis] !== scale.length) {
    throw new ModelError(
      file,
      `tensor '${name}' has ${scale.length} scales, but dimension ${axis} of its shape ` +
        `[${source.shape.join(', ')}] has ${source.shape[axis]} channels`,
    );
  }
  return { scale: [...scale], zeroPoint: [...zeroPoint], axis };
}

/**
 * A copy in its own ArrayBuffer: buffer data sits at arbitrary offsets in the file and typed arrays need alignment.
 * (`new Uint8Array(view)` always copies; a Node Buffer's `slice` would not.)
 */
function ownCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function typedCopy(bytes: Uint8Array, dtype: DataType): TensorData {
  // TFLite stores little-endian, as every host Node runs on in practice.
  const buffer = ownCopy(bytes).buffer;
  switch (dtype) {
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
  }
}

function uint8AsInt8(bytes: Uint8Array): Int8Array {
  const copy = ownCopy(bytes);
  // Flipping the top bit maps q to q - 128 in two's complement.
  for (let i = 0; i < copy.length; i++) copy[i] ^= 0x80;
  return new Int8Array(copy.buffer);
}

function uniqueTensorNames(tensors: TfliteTensor[]): string[] {
  const used = new Set<string>();
  return tensors.map((tensor) => uniqueName(tensor.name || `tensor_${tensor.index}`, used));
}

/** `base`, or `base_1`, `base_2`, ... whichever is not taken yet; records the name as taken. */
export function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 1; used.has(name); n++) name = `${base}_${n}`;
  used.add(name);
  return name;
}
