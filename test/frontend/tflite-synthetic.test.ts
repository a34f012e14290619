/**
 * The TFLite frontend on small models built here with the flatbuffers Builder: the ops and cases the shared models
 * do not contain (float and dynamic-range models, a float interface, fused activation ranges, padding with dilation,
 * custom and extended op codes, layout ops). Schema field ids are written out from tensorflow/lite/schema/schema.fbs
 * independently of src/frontend/tflite/schema.ts, so that a wrong id on either side shows.
 */
import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { importTflite } from '../../src/frontend/tflite/index.js';
import { explicitPadding } from '../../src/frontend/tflite/padding.js';
import type { Graph, Node } from '../../src/ir/types.js';

// ---- a minimal TFLite writer -------------------------------------------------------------------------------------

const Type = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, BOOL: 6, INT8: 9 } as const;
const Op = {
  ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9,
  LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RESHAPE: 22, SOFTMAX: 25, CUSTOM: 32, PAD: 34, TRANSPOSE: 39,
  MEAN: 40, SUB: 41, SQUEEZE: 43, PADV2: 60, LEAKY_RELU: 98, QUANTIZE: 114, HARD_SWISH: 117, BATCH_MATMUL: 126,
  GELU: 150,
} as const;
/** BuiltinOptions union member ids. */
const Options = {
  Conv2D: 1, DepthwiseConv2D: 2, Pool2D: 5, FullyConnected: 8, Softmax: 9, Concatenation: 10, Add: 11, Reshape: 17,
  Mul: 21, Reducer: 27, Sub: 28, Squeeze: 30, LeakyRelu: 75, BatchMatMul: 101,
} as const;
const Act = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4 } as const;
const SAME = 0;
const VALID = 1;

interface TensorSpec {
  name: string;
  shape: number[];
  type: number;
  /** Raw little-endian bytes of a constant. */
  data?: Uint8Array;
  scale?: number[];
  zeroPoint?: number[];
  quantizedDimension?: number;
}

type Field = { id: number; int8: number } | { id: number; int32: number } | { id: number; float32: number };

interface OperatorSpec {
  code: number;
  custom?: string;
  inputs: number[];
  outputs: number[];
  optionsType?: number;
  options?: Field[];
}

interface ModelSpec {
  tensors: TensorSpec[];
  operators: OperatorSpec[];
  inputs: number[];
  outputs: number[];
}

function buildTflite(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);
  const int32Vector = (values: number[]): number => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
    return b.endVector();
  };
  const offsetVector = (offsets: number[]): number => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
    return b.endVector();
  };

  // Buffer 0 is the empty sentinel; each constant gets its own buffer.
  const buffers: number[] = [];
  b.startObject(3);
  buffers.push(b.endObject());
  const tensorBuffer: number[] = [];
  for (const tensor of spec.tensors) {
    if (!tensor.data) {
      tensorBuffer.push(0);
      continue;
    }
    b.startVector(1, tensor.data.length, 16);
    for (let i = tensor.data.length - 1; i >= 0; i--) b.addInt8(tensor.data[i]!);
    const data = b.endVector();
    b.startObject(3);
    b.addFieldOffset(0, data, 0); // Buffer.data
    tensorBuffer.push(buffers.length);
    buffers.push(b.endObject());
  }

  const tensors = spec.tensors.map((tensor, index) => {
    const shape = int32Vector(tensor.shape);
    const name = b.createString(tensor.name);
    let quantization = 0;
    if (tensor.scale) {
      b.startVector(4, tensor.scale.length, 4);
      for (let i = tensor.scale.length - 1; i >= 0; i--) b.addFloat32(tensor.scale[i]!);
      const scale = b.endVector();
      const zeroPoints = tensor.zeroPoint ?? tensor.scale.map(() => 0);
      b.startVector(8, zeroPoints.length, 8);
      for (let i = zeroPoints.length - 1; i >= 0; i--) b.addInt64(BigInt(zeroPoints[i]!));
      const zeroPoint = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0); // QuantizationParameters.scale
      b.addFieldOffset(3, zeroPoint, 0); // .zero_point
      b.addFieldInt32(6, tensor.quantizedDimension ?? 0, null); // .quantized_dimension
      quantization = b.endObject();
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0); // Tensor.shape
    b.addFieldInt8(1, tensor.type, null); // .type
    b.addFieldInt32(2, tensorBuffer[index]!, null); // .buffer
    b.addFieldOffset(3, name, 0); // .name
    if (quantization) b.addFieldOffset(4, quantization, 0); // .quantization
    return b.endObject();
  });

  // One operator code per operator keeps the writer simple; codes past 127 use the placeholder in the old byte.
  const codes = spec.operators.map((operator) => {
    const custom = operator.custom === undefined ? 0 : b.createString(operator.custom);
    b.startObject(4);
    b.addFieldInt8(0, Math.min(operator.code, 127), null); // OperatorCode.deprecated_builtin_code
    if (custom) b.addFieldOffset(1, custom, 0); // .custom_code
    b.addFieldInt32(2, 1, null); // .version
    b.addFieldInt32(3, operator.code, null); // .builtin_code
    return b.endObject();
  });

  const operators = spec.operators.map((operator, index) => {
    const inputs = int32Vector(operator.inputs);
    const outputs = int32Vector(operator.outputs);
    let options = 0;
    if (operator.optionsType) {
      const fields = operator.options ?? [];
      b.startObject(Math.max(0, ...fields.map((field) => field.id + 1)));
      for (const field of fields) {
        if ('int8' in field) b.addFieldInt8(field.id, field.int8, null);
        else if ('int32' in field) b.addFieldInt32(field.id, field.int32, null);
        else b.addFieldFloat32(field.id, field.float32, null);
      }
      options = b.endObject();
    }
    b.startObject(5);
    b.addFieldInt32(0, index, null); // Operator.opcode_index
    b.addFieldOffset(1, inputs, 0); // .inputs
    b.addFieldOffset(2, outputs, 0); // .outputs
    if (options) {
      b.addFieldInt8(3, operator.optionsType!, null); // .builtin_options_type
      b.addFieldOffset(4, options, 0); // .builtin_options
    }
    return b.endObject();
  });

  const tensorVector = offsetVector(tensors);
  const inputVector = int32Vector(spec.inputs);
  const outputVector = int32Vector(spec.outputs);
  const operatorVector = offsetVector(operators);
  b.startObject(5);
  b.addFieldOffset(0, tensorVector, 0); // SubGraph.tensors
  b.addFieldOffset(1, inputVector, 0); // .inputs
  b.addFieldOffset(2, outputVector, 0); // .outputs
  b.addFieldOffset(3, operatorVector, 0); // .operators
  const subgraph = b.endObject();

  const codeVector = offsetVector(codes);
  const subgraphVector = offsetVector([subgraph]);
  const bufferVector = offsetVector(buffers);
  const description = b.createString('built by tflite-synthetic.test.ts');
  b.startObject(5);
  b.addFieldInt32(0, 3, null); // Model.version
  b.addFieldOffset(1, codeVector, 0); // .operator_codes
  b.addFieldOffset(2, subgraphVector, 0); // .subgraphs
  b.addFieldOffset(3, description, 0); // .description
  b.addFieldOffset(4, bufferVector, 0); // .buffers
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

const int8Bytes = (values: number[]): Uint8Array => new Uint8Array(Int8Array.from(values).buffer);
const int32Bytes = (values: number[]): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);
const float32Bytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

/** An int8 activation tensor. */
function act(name: string, shape: number[], scale = 0.05, zeroPoint = 0): TensorSpec {
  return { name, shape, type: Type.INT8, scale: [scale], zeroPoint: [zeroPoint] };
}

function constant(name: string, shape: number[], type: number, data: Uint8Array, scale?: number[]): TensorSpec {
  return scale ? { name, shape, type, data, scale, zeroPoint: scale.map(() => 0) } : { name, shape, type, data };
}

/** A one-operator model: tensors 0..n, the operator reading `inputs` and writing `outputs`. */
function single(tensors: TensorSpec[], operator: OperatorSpec, graphInputs = [operator.inputs[0]!]): Graph {
  const bytes = buildTflite({ tensors, operators: [operator], inputs: graphInputs, outputs: operator.outputs });
  return importTflite(bytes, 'single.tflite');
}

function onlyNode(graph: Graph): Node {
  expect(graph.unsupported).toEqual([]);
  expect(graph.nodes).toHaveLength(1);
  return graph.nodes[0]!;
}

function importError(bytes: Uint8Array, file = 'model.tflite'): ModelError {
  try {
    importTflite(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error('the import did not fail');
}

// ---- tests -------------------------------------------------------------------------------------------------------

describe('float and mixed models', () => {
  const floatFullyConnected = (weights: TensorSpec): Uint8Array =>
    buildTflite({
      tensors: [
        { name: 'x', shape: [1, 4], type: Type.FLOAT32 },
        weights,
        { name: 'y', shape: [1, 2], type: Type.FLOAT32 },
      ],
      operators: [{ code: Op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    });

  it('refuses a float model, saying how to quantize it', () => {
    const bytes = floatFullyConnected(constant('w', [2, 4], Type.FLOAT32, float32Bytes([1, 2, 3, 4, 5, 6, 7, 8])));
    const error = importError(bytes, 'float.tflite');
    expect(error.message).toMatch(/^float\.tflite: is a float model \(no int8 quantization\) — quantize it first: /);
    expect(error.message).toContain('TFLite converter');
  });

  it('refuses a dynamic-range model (int8 weights, float activations) as such', () => {
    const bytes = floatFullyConnected(constant('w', [2, 4], Type.INT8, int8Bytes([1, 2, 3, 4, 5, 6, 7, 8]), [0.1]));
    expect(importError(bytes).message).toContain('is a dynamic-range quantized model (int8 weights, float activations)');
  });

  it('keeps a float interface: float32 input -> QUANTIZE ... DEQUANTIZE -> float32 output', () => {
    const bytes = buildTflite({
      tensors: [
        { name: 'x', shape: [1, 4], type: Type.FLOAT32 },
        act('xq', [1, 4], 0.02, -5),
        constant('w', [2, 4], Type.INT8, int8Bytes([1, -2, 3, -4, 5, -6, 7, -8]), [0.01, 0.02]),
        constant('b', [2], Type.INT32, int32Bytes([100, -100]), [0.0002, 0.0004]),
        act('yq', [1, 2], 0.1, 3),
        { name: 'y', shape: [1, 2], type: Type.FLOAT32 },
      ],
      operators: [
        { code: Op.QUANTIZE, inputs: [0], outputs: [1] },
        { code: Op.FULLY_CONNECTED, inputs: [1, 2, 3], outputs: [4], optionsType: Options.FullyConnected, options: [] },
        { code: Op.DEQUANTIZE, inputs: [4], outputs: [5] },
      ],
      inputs: [0],
      outputs: [5],
    });
    const graph = importTflite(bytes, 'mixed.tflite');
    expect(graph.unsupported).toEqual([]);
    expect(graph.inputs).toEqual([{ tensor: 'x', externalDtype: 'float32', name: 'x' }]);
    expect(graph.outputs).toEqual([{ tensor: 'y', externalDtype: 'float32', name: 'y' }]);
    const [quantize, dense, dequantize] = graph.nodes;
    expect(quantize).toEqual({
      op: 'Quantize',
      name: 'xq',
      inputs: ['x'],
      outputs: ['xq'],
      attrs: { clamp: { min: -128, max: 127 }, rounding: 'half-away' },
    });
    expect(dense).toMatchObject({ op: 'FullyConnected', inputs: ['xq', 'w', 'b'], attrs: { keepNumDims: false } });
    expect(dequantize).toMatchObject({ op: 'Dequantize', inputs: ['yq'], outputs: ['y'] });
    expect(graph.tensors.get('x')!.dtype).toBe('float32');
    expect(graph.tensors.get('w')!.quant).toEqual({ scale: [0.01, 0.02].map(Math.fround), zeroPoint: [0, 0], axis: 0 });
  });
});

describe('fused activations (CalculateActivationRangeQuantized)', () => {
  const addWith = (activation: number, scale: number, zeroPoint: number): Graph =>
    single([act('a', [1, 4]), act('b', [1, 4]), act('sum', [1, 4], scale, zeroPoint)], {
      code: Op.ADD,
      inputs: [0, 1],
      outputs: [2],
      optionsType: Options.Add,
      options: [{ id: 0, int8: activation }],
    }, [0, 1]);

  // Expected values from the C expression zp + (int32_t)roundf(f / scale) with float operands (gcc, x86_64).
  it('NONE is the whole int8 range', () => {
    expect(onlyNode(addWith(Act.NONE, 0.05, -10)).attrs).toEqual({ clamp: { min: -128, max: 127 } });
  });

  it('RELU and RELU6 quantize 0 and 6 with the output scale', () => {
    expect(onlyNode(addWith(Act.RELU, 0.05, -10)).attrs).toEqual({ clamp: { min: -10, max: 127 } });
    expect(onlyNode(addWith(Act.RELU6, 0.05, -10)).attrs).toEqual({ clamp: { min: -10, max: 110 } });
    expect(onlyNode(addWith(Act.RELU6, 0.4, -128)).attrs).toEqual({ clamp: { min: -128, max: -113 } });
  });

  it('divides in float32 as TFLite does: 6 / 2.4f is 2.5f, rounded away from zero to 3', () => {
    // In double 6 / 2.4000000953674316 = 2.4999999..., which would round to 2.
    expect(onlyNode(addWith(Act.RELU6, 2.4, 0)).attrs).toEqual({ clamp: { min: 0, max: 3 } });
  });

  it('RELU_N1_TO_1 quantizes -1 and 1, half away from zero', () => {
    // 1 / 0.0235294122f is 42.5f: -43 + 43 = 0 and -43 - 43 = -86.
    expect(onlyNode(addWith(Act.RELU_N1_TO_1, 0.0235294122248888, -43)).attrs).toEqual({ clamp: { min: -86, max: 0 } });
    expect(onlyNode(addWith(Act.RELU_N1_TO_1, 0.01, 0)).attrs).toEqual({ clamp: { min: -100, max: 100 } });
  });

  it('reports a fused TANH as unsupported, with the reason', () => {
    const graph = addWith(Act.TANH, 0.05, 0);
    expect(graph.nodes).toEqual([]);
    expect(graph.unsupported).toEqual([{ node: 'sum', op: 'ADD', reason: 'fused activation TANH is not supported' }]);
  });
});

describe('padding (ComputePaddingHeightWidth)', () => {
  it('makes SAME explicit with the odd pixel at the end, VALID as zero', () => {
    const window = (k: number, s: number, d: number) => ({
      filter: [k, k] as [number, number],
      stride: [s, s] as [number, number],
      dilation: [d, d] as [number, number],
    });
    // in 8, k 3, s 2: out 4, total (4 - 1) * 2 + 3 - 8 = 1.
    expect(explicitPadding('SAME', [8, 8], window(3, 2, 1))).toEqual({
      padding: { top: 0, bottom: 1, left: 0, right: 1 },
      outputSize: [4, 4],
    });
    // in 7, k 3, dilation 2 (effective 5), s 1: out 7, total 4.
    expect(explicitPadding('SAME', [7, 7], window(3, 1, 2))).toEqual({
      padding: { top: 2, bottom: 2, left: 2, right: 2 },
      outputSize: [7, 7],
    });
    // in 8, k 3, s 2, VALID: out 3, one row left over and no padding.
    expect(explicitPadding('VALID', [8, 8], window(3, 2, 1))).toEqual({
      padding: { top: 0, bottom: 0, left: 0, right: 0 },
      outputSize: [3, 3],
    });
    // stride larger than the filter: SAME needs no padding.
    expect(explicitPadding('SAME', [5, 5], window(1, 3, 1)).padding).toEqual({ top: 0, bottom: 0, left: 0, right: 0 });
  });

  it('imports a dilated SAME CONV_2D with groups and a rectangular stride', () => {
    const weights = constant('w', [4, 3, 3, 2], Type.INT8, int8Bytes(Array(72).fill(1)), [0.1, 0.1, 0.1, 0.1]);
    const node = onlyNode(
      single([act('x', [1, 7, 8, 4]), weights, act('y', [1, 7, 4, 4])], {
        code: Op.CONV_2D,
        inputs: [0, 1, -1],
        outputs: [2],
        optionsType: Options.Conv2D,
        // padding SAME, stride_w 2, stride_h 1, RELU, dilation_w 1, dilation_h 2
        options: [{ id: 0, int8: SAME }, { id: 1, int32: 2 }, { id: 2, int32: 1 }, { id: 3, int8: Act.RELU },
          { id: 4, int32: 1 }, { id: 5, int32: 2 }],
      }),
    );
    expect(node).toEqual({
      op: 'Conv2D',
      name: 'y',
      inputs: ['x', 'w', ''],
      outputs: ['y'],
      attrs: {
        stride: [1, 2],
        dilation: [2, 1],
        // rows: effective 5, out 7, total 4; columns: out 4, total (4 - 1) * 2 + 3 - 8 = 1
        padding: { top: 2, bottom: 2, left: 0, right: 1 },
        groups: 2,
        clamp: { min: 0, max: 127 },
      },
    });
  });

  it('refuses an output shape that does not match the window, naming the node', () => {
    const weights = constant('w', [1, 3, 3, 1], Type.INT8, int8Bytes(Array(9).fill(1)), [0.1]);
    const bytes = buildTflite({
      tensors: [act('x', [1, 8, 8, 1]), weights, act('y', [1, 8, 8, 1])],
      operators: [{
        code: Op.DEPTHWISE_CONV_2D,
        inputs: [0, 1],
        outputs: [2],
        optionsType: Options.DepthwiseConv2D,
        options: [{ id: 0, int8: VALID }, { id: 1, int32: 1 }, { id: 2, int32: 1 }, { id: 3, int32: 1 }],
      }],
      inputs: [0],
      outputs: [2],
    });
    expect(importError(bytes).message).toBe(
      "model.tflite: node 'y' (DEPTHWISE_CONV_2D) output 'y' has shape [1, 8, 8, 1], but the window gives 6x6",
    );
  });

  it('imports pools with their filter and stride', () => {
    const node = onlyNode(
      single([act('x', [1, 5, 5, 3]), act('y', [1, 3, 3, 3])], {
        code: Op.MAX_POOL_2D,
        inputs: [0],
        outputs: [1],
        optionsType: Options.Pool2D,
        options: [{ id: 0, int8: SAME }, { id: 1, int32: 2 }, { id: 2, int32: 2 }, { id: 3, int32: 2 },
          { id: 4, int32: 3 }, { id: 5, int8: Act.NONE }],
      }),
    );
    // rows: filter 3, out 3, total 2 * 2 + 3 - 5 = 2; columns: filter 2, total 2 * 2 + 2 - 5 = 1
    expect(node.attrs).toEqual({
      filter: [3, 2],
      stride: [2, 2],
      padding: { top: 1, bottom: 1, left: 0, right: 1 },
      clamp: { min: -128, max: 127 },
    });
  });
});

describe('unsupported ops', () => {
  it('lists every unsupported op at once: builtin, extended code past 127, custom with its custom_code', () => {
    const bytes = buildTflite({
      tensors: [act('x', [1, 4]), act('a', [1, 4]), act('b', [1, 4]), act('c', [1, 4]), act('d', [1, 4])],
      operators: [
        { code: Op.LOGISTIC, inputs: [0], outputs: [1] },
        { code: 66 /* SIN */, inputs: [1], outputs: [2] },
        { code: Op.GELU, inputs: [2], outputs: [3] },
        { code: Op.CUSTOM, custom: 'TFLite_Detection_PostProcess', inputs: [3], outputs: [4] },
      ],
      inputs: [0],
      outputs: [4],
    });
    const graph = importTflite(bytes, 'many.tflite');
    expect(graph.nodes.map((node) => node.op)).toEqual(['Logistic']);
    expect(graph.unsupported).toEqual([
      { node: 'b', op: 'SIN' },
      { node: 'c', op: 'GELU' },
      { node: 'd', op: 'TFLite_Detection_PostProcess', reason: 'custom operator' },
    ]);
  });

  it('reports an op on a tensor type tinyedge lacks as unsupported, naming the tensor', () => {
    const graph = single(
      [act('x', [1, 4]), { name: 'mask', shape: [1, 4], type: Type.BOOL }, act('y', [1, 4])],
      { code: Op.MUL, inputs: [0, 1], outputs: [2], optionsType: Options.Mul, options: [] },
    );
    expect(graph.unsupported).toEqual([
      { node: 'y', op: 'MUL', reason: "tensor 'mask' has type BOOL, which tinyedge does not support" },
    ]);
    expect(graph.tensors.has('mask')).toBe(false);
  });

  it('reports float arithmetic inside a quantized model as unsupported', () => {
    const bytes = buildTflite({
      tensors: [act('x', [1, 4]), { name: 'f', shape: [1, 4], type: Type.FLOAT32 }, { name: 'g', shape: [1, 4], type: Type.FLOAT32 }],
      operators: [
        { code: Op.DEQUANTIZE, inputs: [0], outputs: [1] },
        { code: Op.LOGISTIC, inputs: [1], outputs: [2] },
      ],
      inputs: [0],
      outputs: [2],
    });
    expect(importTflite(bytes, 'm.tflite').unsupported).toEqual([
      { node: 'g', op: 'LOGISTIC', reason: "input 'f' is float32 without quantization; tinyedge imports int8-quantized ops" },
    ]);
  });
});

describe('layout and other ops', () => {
  it('RESHAPE takes its shape from the output, even when the file leaves the shape operand empty', () => {
    const graph = single(
      [act('x', [1, 2, 4]), { name: 'shape', shape: [2], type: Type.INT32 }, act('y', [1, 8])],
      { code: Op.RESHAPE, inputs: [0, 1], outputs: [2] },
    );
    expect(onlyNode(graph)).toEqual({ op: 'Reshape', name: 'y', inputs: ['x'], outputs: ['y'], attrs: { shape: [1, 8] } });
  });

  it('SQUEEZE becomes a Reshape to the output shape', () => {
    const node = onlyNode(
      single([act('x', [1, 1, 1, 5]), act('y', [1, 5])], {
        code: Op.SQUEEZE,
        inputs: [0],
        outputs: [1],
      }),
    );
    expect(node).toEqual({ op: 'Reshape', name: 'y', inputs: ['x'], outputs: ['y'], attrs: { shape: [1, 5] } });
  });

  it('MEAN normalizes negative axes; CONCATENATION too', () => {
    const mean = onlyNode(
      single(
        [act('x', [1, 4, 4, 8]), constant('axes', [2], Type.INT32, int32Bytes([1, -2])), act('y', [1, 1, 1, 8])],
        { code: Op.MEAN, inputs: [0, 1], outputs: [2], optionsType: Options.Reducer, options: [{ id: 0, int8: 1 }] },
      ),
    );
    expect(mean.attrs).toEqual({ axes: [1, 2], keepDims: true });
    const concat = onlyNode(
      single([act('a', [1, 2, 3]), act('b', [1, 2, 5], 0.1, 4), act('y', [1, 2, 8])], {
        code: Op.CONCATENATION,
        inputs: [0, 1],
        outputs: [2],
        optionsType: Options.Concatenation,
        options: [{ id: 0, int32: -1 }],
      }, [0, 1]),
    );
    expect(concat).toMatchObject({ op: 'Concat', inputs: ['a', 'b'], attrs: { axis: 2 } });
  });

  it('PAD pads with the zero point, PADV2 with its constant', () => {
    const paddings = constant('p', [4, 2], Type.INT32, int32Bytes([0, 0, 1, 2, 3, 4, 0, 0]));
    const pad = onlyNode(
      single([act('x', [1, 2, 2, 1], 0.1, -7), paddings, act('y', [1, 5, 9, 1], 0.1, -7)], {
        code: Op.PAD,
        inputs: [0, 1],
        outputs: [2],
      }),
    );
    expect(pad.attrs).toEqual({ before: [0, 1, 3, 0], after: [0, 2, 4, 0], value: -7 });
    const value = { ...constant('v', [], Type.INT8, int8Bytes([-100])), scale: [0.1], zeroPoint: [-7] };
    const padV2 = onlyNode(
      single([act('x', [1, 2, 2, 1], 0.1, -7), paddings, value, act('y', [1, 5, 9, 1], 0.1, -7)], {
        code: Op.PADV2,
        inputs: [0, 1, 2],
        outputs: [3],
      }),
    );
    expect(padV2).toMatchObject({ op: 'Pad', inputs: ['x'], attrs: { value: -100 } });
  });

  it('TRANSPOSE, LEAKY_RELU, SOFTMAX, HARD_SWISH, SUB and BATCH_MATMUL carry their parameters', () => {
    const transpose = onlyNode(
      single([act('x', [1, 2, 3]), constant('perm', [3], Type.INT32, int32Bytes([0, 2, 1])), act('y', [1, 3, 2])], {
        code: Op.TRANSPOSE,
        inputs: [0, 1],
        outputs: [2],
      }),
    );
    expect(transpose.attrs).toEqual({ perm: [0, 2, 1] });
    const leaky = onlyNode(
      single([act('x', [1, 4]), act('y', [1, 4])], {
        code: Op.LEAKY_RELU,
        inputs: [0],
        outputs: [1],
        optionsType: Options.LeakyRelu,
        options: [{ id: 0, float32: 0.3 }],
      }),
    );
    expect(leaky.attrs).toEqual({ alpha: Math.fround(0.3) });
    const softmax = onlyNode(
      single([act('x', [1, 4]), act('y', [1, 4], 1 / 256, -128)], {
        code: Op.SOFTMAX,
        inputs: [0],
        outputs: [1],
        optionsType: Options.Softmax,
        options: [{ id: 0, float32: 0.5 }],
      }),
    );
    expect(softmax.attrs).toEqual({ beta: 0.5 });
    const hardSwish = onlyNode(single([act('x', [1, 4]), act('y', [1, 4])], { code: Op.HARD_SWISH, inputs: [0], outputs: [1] }));
    expect(hardSwish).toEqual({ op: 'HardSwish', name: 'y', inputs: ['x'], outputs: ['y'], attrs: {} });
    const sub = onlyNode(
      single([act('a', [1, 4]), act('b', [1, 1]), act('y', [1, 4], 0.05, -20)], {
        code: Op.SUB,
        inputs: [0, 1],
        outputs: [2],
        optionsType: Options.Sub,
        options: [{ id: 0, int8: Act.RELU }],
      }, [0, 1]),
    );
    expect(sub).toMatchObject({ op: 'Sub', attrs: { clamp: { min: -20, max: 127 } } });
    const matmul = onlyNode(
      single([act('a', [1, 2, 3]), act('b', [1, 3, 4]), act('y', [1, 2, 4])], {
        code: Op.BATCH_MATMUL,
        inputs: [0, 1],
        outputs: [2],
      }, [0, 1]),
    );
    expect(matmul).toEqual({
      op: 'BatchMatMul',
      name: 'y',
      inputs: ['a', 'b'],
      outputs: ['y'],
      attrs: { clamp: { min: -128, max: 127 } },
    });
  });

  const depthwiseThenPool = (weightsAxis: number): Uint8Array =>
    buildTflite({
      tensors: [
        act('x', [1, 4, 4, 2]),
        {
          ...constant('w', [1, 2, 2, 6], Type.INT8, int8Bytes(Array(24).fill(3)), Array(6).fill(0.01)),
          quantizedDimension: weightsAxis,
        },
        constant('b', [6], Type.INT32, int32Bytes([1, 2, 3, 4, 5, 6]), Array(6).fill(0.0005)),
        act('y', [1, 3, 3, 6]),
        act('y', [1, 1, 1, 6]),
      ],
      operators: [
        {
          code: Op.DEPTHWISE_CONV_2D,
          inputs: [0, 1, 2],
          outputs: [3],
          optionsType: Options.DepthwiseConv2D,
          options: [{ id: 0, int8: VALID }, { id: 1, int32: 1 }, { id: 2, int32: 1 }, { id: 3, int32: 3 }],
        },
        {
          code: Op.AVERAGE_POOL_2D,
          inputs: [3],
          outputs: [4],
          optionsType: Options.Pool2D,
          options: [{ id: 0, int8: VALID }, { id: 1, int32: 3 }, { id: 2, int32: 3 }, { id: 3, int32: 3 }, { id: 4, int32: 3 }],
        },
      ],
      inputs: [0],
      outputs: [4],
    });

  it('DEPTHWISE_CONV_2D derives its depth multiplier; duplicate tensor names are made unique', () => {
    const graph = importTflite(depthwiseThenPool(3), 'dw.tflite');
    expect(graph.unsupported).toEqual([]);
    const [depthwise, pool] = graph.nodes;
    expect(depthwise).toMatchObject({
      op: 'DepthwiseConv2D',
      name: 'y',
      inputs: ['x', 'w', 'b'],
      outputs: ['y'],
      attrs: { depthMultiplier: 3, padding: { top: 0, bottom: 0, left: 0, right: 0 } },
    });
    expect(pool).toMatchObject({ op: 'AveragePool2D', name: 'y_1', inputs: ['y'], outputs: ['y_1'] });
    expect(graph.tensors.get('y_1')!.shape).toEqual([1, 1, 1, 6]);
    expect(graph.outputs).toEqual([{ tensor: 'y_1', externalDtype: 'int8', name: 'y' }]);
    expect(graph.tensors.get('w')!.quant!.axis).toBe(3);
  });

  it('refuses per-channel scales along a dimension of another size', () => {
    expect(importError(depthwiseThenPool(0)).message).toBe(
      "model.tflite: tensor 'w' has 6 scales, but dimension 0 of its shape [1, 2, 2, 6] has 1 channels",
    );
  });
});

describe('malformed models', () => {
  it('refuses a per-channel scale count that does not match the channel dimension', () => {
    const bytes = buildTflite({
      tensors: [
        act('x', [1, 4]),
        { ...constant('w', [2, 4], Type.INT8, int8Bytes(Array(8).fill(1)), [0.1, 0.2, 0.3]), quantizedDimension: 0 },
        act('y', [1, 2]),
      ],
      operators: [{ code: Op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    });
    expect(importError(bytes).message).toBe(
      "model.tflite: tensor 'w' has 3 scales, but dimension 0 of its shape [2, 4] has 2 channels",
    );
  });

  it('refuses weights quantized per channel along the input dimension, naming the node', () => {
    const bytes = buildTflite({
      tensors: [
        act('x', [1, 2]),
        { ...constant('w', [2, 2], Type.INT8, int8Bytes([1, 2, 3, 4]), [0.1, 0.2]), quantizedDimension: 1 },
        act('y', [1, 2]),
      ],
      operators: [{ code: Op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    });
    expect(importError(bytes).message).toBe(
      "model.tflite: node 'y' (FULLY_CONNECTED) weights 'w' is quantized along dimension 1, expected 0",
    );
  });

  it('refuses options of the wrong kind, naming the node', () => {
    const bytes = buildTflite({
      tensors: [act('a', [1, 4]), act('b', [1, 4]), act('y', [1, 4])],
      operators: [{ code: Op.ADD, inputs: [0, 1], outputs: [2], optionsType: Options.Conv2D, options: [] }],
      inputs: [0, 1],
      outputs: [2],
    });
    expect(importError(bytes).message).toBe(
      "model.tflite: node 'y' (ADD) carries builtin options of union type 1, expected AddOptions",
    );
  });

  it('refuses constant data whose size does not match the shape', () => {
    const bytes = buildTflite({
      tensors: [act('x', [1, 4]), constant('w', [2, 4], Type.INT8, int8Bytes([1, 2, 3]), [0.1]), act('y', [1, 2])],
      operators: [{ code: Op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    });
    expect(importError(bytes).message).toBe(
      "model.tflite: tensor 'w' holds 3 bytes of data, but its shape [2, 4] of INT8 needs 8",
    );
  });
});
