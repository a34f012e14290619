/**
 * The part of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, file identifier "TFL3", schema
 * version 3) that tinyedge reads: field ids are the vtable slots, i.e. the order of the fields in each table, a union
 * taking two slots (its type, then its value).
 */

export const FILE_IDENTIFIER = 'TFL3';
export const SCHEMA_VERSION = 3;

export const ModelField = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;

export const SubGraphField = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;

export const TensorField = {
  shape: 0,
  type: 1,
  buffer: 2,
  name: 3,
  quantization: 4,
  isVariable: 5,
  sparsity: 6,
  shapeSignature: 7,
} as const;

export const QuantizationField = {
  min: 0,
  max: 1,
  scale: 2,
  zeroPoint: 3,
  detailsType: 4,
  details: 5,
  quantizedDimension: 6,
} as const;

/** `offset` / `size` locate the data outside the flatbuffer in models larger than 2 GB (valid when offset > 1). */
export const BufferField = { data: 0, offset: 1, size: 2 } as const;

export const OperatorCodeField = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;

export const OperatorField = {
  opcodeIndex: 0,
  inputs: 1,
  outputs: 2,
  builtinOptionsType: 3,
  builtinOptions: 4,
  customOptions: 5,
} as const;

/** TensorType; the index is the enum value. */
export const TENSOR_TYPES = [
  'FLOAT32',
  'FLOAT16',
  'INT32',
  'UINT8',
  'INT64',
  'STRING',
  'BOOL',
  'INT16',
  'COMPLEX64',
  'INT8',
  'FLOAT64',
  'COMPLEX128',
  'UINT64',
  'RESOURCE',
  'VARIANT',
  'UINT32',
  'UINT16',
  'INT4',
] as const;

export function tensorTypeName(type: number): string {
  return TENSOR_TYPES[type] ?? `TensorType ${type}`;
}

/**
 * OperatorCode.builtin_code was a byte (deprecated_builtin_code) until the enum outgrew it; files written since carry
 * both, with 127 (PLACEHOLDER_FOR_GREATER_OP_CODES) in the old field for the new codes, and files written before carry
 * only the old one (the new one then reads as its default, 0). The larger of the two is the operator, as in TFLite's
 * GetBuiltinCode.
 */
export function builtinCodeOf(deprecatedBuiltinCode: number, builtinCode: number): number {
  return Math.max(deprecatedBuiltinCode, builtinCode);
}

/** BuiltinOperator codes that tinyedge imports (or names specially). */
export const BuiltinOperator = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RELU_N1_TO_1: 20,
  RELU6: 21,
  RESHAPE: 22,
  SOFTMAX: 25,
  TANH: 28,
  CUSTOM: 32,
  PAD: 34,
  TRANSPOSE: 39,
  MEAN: 40,
  SUB: 41,
  SQUEEZE: 43,
  NEG: 59,
  PADV2: 60,
  LEAKY_RELU: 98,
  QUANTIZE: 114,
  HARD_SWISH: 117,
  BATCH_MATMUL: 126,
} as const;

/** Every BuiltinOperator name up to the StableHLO block, to name the ops we cannot import. */
const BUILTIN_OPERATOR_NAMES = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU', 'RELU_N1_TO_1',
  'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH', 'CONCAT_EMBEDDINGS',
  'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD', 'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER',
  'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN', 'SUB', 'DIV', 'SQUEEZE',
  'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP', 'TOPK_V2', 'SPLIT',
  'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS',
  'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV',
  'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW',
  'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND',
  'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD',
  'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE',
  'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG',
  'QUANTIZE', 'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4',
  'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL',
  'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG', 'REAL',
  'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL',
  'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE', 'ASSIGN_VARIABLE', 'BROADCAST_ARGS', 'RANDOM_STANDARD_NORMAL',
  'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE', 'RELU_0_TO_1',
  'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM', 'ATAN2', 'UNSORTED_SEGMENT_MIN', 'SIGN',
  'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT',
];

export function builtinOperatorName(code: number): string {
  if (code >= 162 && code <= 204) return `STABLEHLO op ${code}`;
  return BUILTIN_OPERATOR_NAMES[code] ?? `BuiltinOperator ${code}`;
}

/** Member ids of the BuiltinOptions union (0 = NONE) for the options tables we read. */
export const BuiltinOptions = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  ReducerOptions: 27,
  SubOptions: 28,
  SqueezeOptions: 30,
  LeakyReluOptions: 75,
  BatchMatMulOptions: 101,
} as const;
export type BuiltinOptionsName = keyof typeof BuiltinOptions;

export const Conv2DOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  fusedActivationFunction: 3,
  dilationWFactor: 4,
  dilationHFactor: 5,
  quantizedBiasType: 6,
} as const;

export const DepthwiseConv2DOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  depthMultiplier: 3,
  fusedActivationFunction: 4,
  dilationWFactor: 5,
  dilationHFactor: 6,
} as const;

export const Pool2DOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  filterWidth: 3,
  filterHeight: 4,
  fusedActivationFunction: 5,
} as const;

export const FullyConnectedOptionsField = {
  fusedActivationFunction: 0,
  weightsFormat: 1,
  keepNumDims: 2,
  asymmetricQuantizeInputs: 3,
  quantizedBiasType: 4,
} as const;

export const SoftmaxOptionsField = { beta: 0 } as const;
export const ConcatenationOptionsField = { axis: 0, fusedActivationFunction: 1 } as const;
/** AddOptions and SubOptions; MulOptions has only the activation. */
export const ArithmeticOptionsField = { fusedActivationFunction: 0, potScaleInt16: 1 } as const;
export const ReducerOptionsField = { keepDims: 0 } as const;
export const LeakyReluOptionsField = { alpha: 0 } as const;
export const BatchMatMulOptionsField = { adjX: 0, adjY: 1 } as const;

/** Padding enum. */
export const Padding = { SAME: 0, VALID: 1 } as const;

/** ActivationFunctionType enum. */
export const Activation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
export const ACTIVATION_NAMES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

/** FullyConnectedOptionsWeightsFormat: only DEFAULT (row-major [Cout, Cin]) is a plain matrix. */
export const WeightsFormat = { DEFAULT: 0, SHUFFLED4x16INT8: 1 } as const;
