/**
 * Reads a TFLite flatbuffer into plain records: the main subgraph's tensors and operators, the operator codes and
 * the buffers. Structure only — what the records mean for tinyedge is decided by the importers.
 */
import { FlatbufferFile, MalformedFlatbuffer, type TableView } from './flatbuffer.js';
import {
  BufferField,
  FILE_IDENTIFIER,
  ModelField,
  OperatorCodeField,
  OperatorField,
  QuantizationField,
  SCHEMA_VERSION,
  SubGraphField,
  TensorField,
  builtinCodeOf,
} from './schema.js';

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  /** A QuantizationDetails union member is set (custom quantization): scale/zero_point do not apply. */
  hasCustomDetails: boolean;
}

export interface TfliteTensor {
  index: number;
  /** As in the file; may be empty or repeated. */
  name: string;
  shape: number[];
  /** TensorType enum value. */
  type: number;
  buffer: number;
  quantization: TfliteQuantization | null;
  isVariable: boolean;
  isSparse: boolean;
}

export interface TfliteOperatorCode {
  builtinCode: number;
  customCode: string | null;
  version: number;
}

export interface TfliteOperator {
  index: number;
  code: TfliteOperatorCode;
  /** Tensor indices; -1 is an absent optional input. */
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union member id (0 = none) and its table. */
  optionsType: number;
  options: TableView | null;
}

export interface TfliteModel {
  description: string;
  subgraphCount: number;
  /** The main subgraph (subgraph 0). */
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  /** Buffer contents by buffer index; empty for buffer 0 and for tensors without constant data. */
  buffers: Uint8Array[];
}

/** Throws MalformedFlatbuffer with a one-line description of the first problem found. */
export function readTfliteModel(bytes: Uint8Array): TfliteModel {
  const file = new FlatbufferFile(bytes);
  if (bytes.length < 8) throw new MalformedFlatbuffer(`only ${bytes.length} bytes`);
  const identifier = file.identifier();
  if (identifier !== FILE_IDENTIFIER) {
    throw new MalformedFlatbuffer(`file identifier is ${describeIdentifier(bytes)}, expected '${FILE_IDENTIFIER}'`);
  }
  const model = file.root('the Model table');
  const version = model.uint32(ModelField.version);
  if (version !== SCHEMA_VERSION) {
    throw new MalformedFlatbuffer(`schema version ${version}, expected ${SCHEMA_VERSION}`);
  }

  const buffers = model.tables(ModelField.buffers, 'buffer').map((buffer) => readBuffer(file, buffer));
  const codes = model.tables(ModelField.operatorCodes, 'operator code').map(readOperatorCode);
  const subgraphs = model.tables(ModelField.subgraphs, 'subgraph');
  const main = subgraphs[0];
  if (!main) throw new MalformedFlatbuffer('the model has no subgraph');

  const tensors = main.tables(SubGraphField.tensors, 'tensor').map(readTensor);
  for (const tensor of tensors) {
    if (tensor.buffer >= buffers.length) {
      throw new MalformedFlatbuffer(
        `tensor ${tensor.index} refers to buffer ${tensor.buffer}, but the model has ${buffers.length} buffers`,
      );
    }
  }
  const tensorIndices = (table: TableView, field: number, what: string, optional: boolean): number[] => {
    const indices = table.int32s(field, what) ?? [];
    for (const index of indices) {
      if ((optional && index === -1) || (index >= 0 && index < tensors.length)) continue;
      throw new MalformedFlatbuffer(`${what}: tensor ${index} does not exist (the subgraph has ${tensors.length})`);
    }
    return indices;
  };

  const operators = main.tables(SubGraphField.operators, 'operator').map((operator, index): TfliteOperator => {
    const opcodeIndex = operator.uint32(OperatorField.opcodeIndex);
    const code = codes[opcodeIndex];
    if (!code) {
      throw new MalformedFlatbuffer(
        `operator ${index} uses operator code ${opcodeIndex}, but the model has ${codes.length}`,
      );
    }
    const optionsType = operator.uint8(OperatorField.builtinOptionsType);
    return {
      index,
      code,
      inputs: tensorIndices(operator, OperatorField.inputs, `the inputs of operator ${index}`, true),
      outputs: tensorIndices(operator, OperatorField.outputs, `the outputs of operator ${index}`, false),
      optionsType,
      options: optionsType === 0 ? null : operator.table(OperatorField.builtinOptions, `the options of operator ${index}`),
    };
  });

  return {
    description: model.string(ModelField.description, 'the model description') ?? '',
    subgraphCount: subgraphs.length,
    tensors,
    inputs: tensorIndices(main, SubGraphField.inputs, 'the subgraph inputs', false),
    outputs: tensorIndices(main, SubGraphField.outputs, 'the subgraph outputs', false),
    operators,
    buffers,
  };
}

function describeIdentifier(bytes: Uint8Array): string {
  const identifier = bytes.subarray(4, 8);
  const printable = identifier.every((byte) => byte >= 0x20 && byte < 0x7f);
  if (printable) return `'${String.fromCharCode(...identifier)}'`;
  return `0x${Array.from(identifier, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function readBuffer(file: FlatbufferFile, buffer: TableView): Uint8Array {
  // Models over 2 GB keep their data after the flatbuffer, located from the start of the file; 0 and 1 mean "none".
  const offset = buffer.uint64(BufferField.offset);
  if (offset > 1) {
    const size = buffer.uint64(BufferField.size);
    file.require(offset, size, `the data of ${buffer.what}`);
    return file.bytes.subarray(offset, offset + size);
  }
  return buffer.bytes(BufferField.data, `the data of ${buffer.what}`) ?? new Uint8Array(0);
}

function readOperatorCode(code: TableView): TfliteOperatorCode {
  return {
    builtinCode: builtinCodeOf(
      code.int8(OperatorCodeField.deprecatedBuiltinCode),
      code.int32(OperatorCodeField.builtinCode),
    ),
    customCode: code.string(OperatorCodeField.customCode, `the custom code of ${code.what}`),
    version: code.int32(OperatorCodeField.version, 1),
  };
}

function readTensor(tensor: TableView, index: number): TfliteTensor {
  const what = `tensor ${index}`;
  const shape = tensor.int32s(TensorField.shape, `the shape of ${what}`) ?? [];
  const negative = shape.find((dim) => dim < 0);
  if (negative !== undefined) throw new MalformedFlatbuffer(`${what} has a negative dimension ${negative}`);
  return {
    index,
    name: tensor.string(TensorField.name, `the name of ${what}`) ?? '',
    // shape_signature only marks dynamic dimensions with -1; `shape` holds the sizes the model was converted with.
    shape,
    type: tensor.int8(TensorField.type),
    buffer: tensor.uint32(TensorField.buffer),
    quantization: readQuantization(tensor.table(TensorField.quantization, `the quantization of ${what}`)),
    isVariable: tensor.bool(TensorField.isVariable),
    isSparse: tensor.table(TensorField.sparsity, `the sparsity of ${what}`) !== null,
  };
}

function readQuantization(quantization: TableView | null): TfliteQuantization | null {
  if (!quantization) return null;
  const what = quantization.what;
  const scale = quantization.float32s(QuantizationField.scale, `the scales of ${what}`) ?? [];
  const zeroPoint = quantization.int64s(QuantizationField.zeroPoint, `the zero points of ${what}`) ?? [];
  const hasCustomDetails = quantization.uint8(QuantizationField.detailsType) !== 0;
  // TFLite reads a tensor with no scales as not quantized (min/max alone are only for re-import into TensorFlow).
  if (scale.length === 0 && !hasCustomDetails) return null;
  return {
    scale,
    zeroPoint,
    quantizedDimension: quantization.int32(QuantizationField.quantizedDimension),
    hasCustomDetails,
  };
}
