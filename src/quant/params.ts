/**
 * Op parameter derivation shared by the reference interpreter and code generation: every multiplier, shift, offset
 * and look-up table a kernel needs, derived from the graph's float32 scales exactly as TFLite-Micro's Prepare()
 * functions derive them (kernel_util.cc, quantization_util.cc, the kernels' *_common.cc at tflite-micro 90b983c2).
 * Results are plain data (numbers, typed arrays) so that code generation can emit them into C unchanged.
 *
 * Offsets follow TFLite's convention: an `inputOffset` is the negated input zero point (added to every input value),
 * an `outputOffset` the output zero point.
 *
 * Where TFLite-Micro computes a scale ratio in float32 rather than double, we do the same (Math.fround): it changes
 * the multiplier's last bit often enough to matter.
 */
import { NodeError } from '../errors.js';
import { tensorOf } from '../ir/graph.js';
import type {
  BatchMatMulNode,
  Clamp,
  ConcatNode,
  Conv2DNode,
  DepthwiseConv2DNode,
  DequantizeNode,
  ElementwiseBinaryNode,
  FullyConnectedNode,
  Graph,
  LeakyReluNode,
  MeanNode,
  Node,
  Pool2DNode,
  Quantization,
  QuantizeNode,
  SoftmaxNode,
  Tensor,
  UnaryNode,
} from '../ir/types.js';
import {
  fixedPointLogistic,
  fixedPointTanh,
  frexp,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  roundingDivideByPOT,
} from './fixedpoint.js';

const f32 = Math.fround;
const INT8_MIN = -128;
const INT8_MAX = 127;

// ---------------------------------------------------------------------------------------------------------------
// Quantization look-ups

function nodeTensor(graph: Graph, node: Node, name: string | undefined, port: string): Tensor {
  if (!name) throw new NodeError(node.name, node.op, `missing ${port}`);
  return tensorOf(graph, name);
}

/** The tensor's quantization; a missing one is a NodeError naming the port. */
function quantOf(node: Node, tensor: Tensor, port: string): Quantization {
  const q = tensor.quant;
  if (!q || q.scale.length === 0 || q.zeroPoint.length === 0) {
    throw new NodeError(node.name, node.op, `${port} '${tensor.name}' has no quantization parameters`);
  }
  return q;
}

/** Per-tensor scale (float32) and zero point of a tensor that must be per-tensor quantized. */
function perTensor(node: Node, tensor: Tensor, port: string): { scale: number; zeroPoint: number } {
  const q = quantOf(node, tensor, port);
  if (q.scale.length !== 1 && !q.scale.every((s) => s === q.scale[0])) {
    throw new NodeError(node.name, node.op, `${port} '${tensor.name}' must be quantized per tensor, not per channel`);
  }
  const scale = f32(q.scale[0]!);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new NodeError(node.name, node.op, `${port} '${tensor.name}' has an invalid scale ${q.scale[0]}`);
  }
  return { scale, zeroPoint: q.zeroPoint[0]! };
}

/** Zero point of a tensor, 0 when it carries no quantization (the integer-only ONNX ops). */
function zeroPointOrZero(tensor: Tensor): number {
  return tensor.quant?.zeroPoint[0] ?? 0;
}

function clampOf(node: { attrs: { clamp?: Clamp } }): Clamp {
  const clamp = node.attrs.clamp;
  return clamp ? { min: clamp.min, max: clamp.max } : { min: INT8_MIN, max: INT8_MAX };
}

/** Bias as int32 (ONNX may store it as int64); null when the optional input is absent. */
function biasOf(graph: Graph, node: Node, name: string | undefined, channels: number): Int32Array | null {
  if (!name) return null;
  const tensor = tensorOf(graph, name);
  if (!tensor.data) throw new NodeError(node.name, node.op, `bias '${name}' must be a constant`);
  if (tensor.data.length !== channels) {
    throw new NodeError(node.name, node.op, `bias '${name}' has ${tensor.data.length} values for ${channels} output channels`);
  }
  if (tensor.data instanceof Int32Array) return tensor.data;
  const bias = new Int32Array(channels);
  for (let i = 0; i < channels; i++) bias[i] = Number(tensor.data[i]!);
  return bias;
}

// ---------------------------------------------------------------------------------------------------------------
// Convolutions, fully connected, matrix products

export interface ConvParams {
  /** -Z_in. */
  inputOffset: number;
  /** -Z_w per output channel: all 0 for TFLite (symmetric weights); ONNX / uint8-derived weights may have others. */
  weightOffsets: Int32Array;
  /** Z_out (0 for an int32 output). */
  outputOffset: number;
  /** Q31 multiplier and shift per output channel (empty for an int32 output). */
  multipliers: Int32Array;
  shifts: Int32Array;
  clamp: Clamp;
  /** int32 bias per output channel, or null. */
  bias: Int32Array | null;
  /** ONNX ConvInteger / MatMulInteger: the output is the raw int32 accumulator, no requantization. */
  int32Output: boolean;
  outputChannels: number;
}

/**
 * CONV_2D and DEPTHWISE_CONV_2D (PopulateConvolutionQuantizationParams): per channel M = S_in * S_w[c] / S_out in
 * double, a per-tensor weight scale broadcast over the channels.
 */
export function convParams(graph: Graph, node: Conv2DNode | DepthwiseConv2DNode): ConvParams {
  const input = nodeTensor(graph, node, node.inputs[0], 'input');
  const weights = nodeTensor(graph, node, node.inputs[1], 'weights');
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  const channelAxis = node.op === 'Conv2D' ? 0 : 3;
  const channels = weights.shape[channelAxis]!;
  return weightedParams(graph, node, input, weights, output, channels, 'double');
}

/**
 * FULLY_CONNECTED (CalculateOpDataFullyConnected): per-channel multipliers in double like convolutions; the
 * per-tensor multiplier from float(S_in * S_w) / S_out (GetQuantizedConvolutionMultipler).
 */
export function fullyConnectedParams(graph: Graph, node: FullyConnectedNode): ConvParams {
  const input = nodeTensor(graph, node, node.inputs[0], 'input');
  const weights = nodeTensor(graph, node, node.inputs[1], 'weights');
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  const channels = weights.shape[0]!;
  const perChannel = (weights.quant?.scale.length ?? 1) > 1;
  return weightedParams(graph, node, input, weights, output, channels, perChannel ? 'double' : 'float-product');
}

function weightedParams(
  graph: Graph,
  node: Conv2DNode | DepthwiseConv2DNode | FullyConnectedNode,
  input: Tensor,
  weights: Tensor,
  output: Tensor,
  channels: number,
  productPrecision: 'double' | 'float-product',
): ConvParams {
  const int32Output = output.dtype === 'int32';
  const bias = biasOf(graph, node, node.inputs[2], channels);
  const weightOffsets = new Int32Array(channels);
  const multipliers = new Int32Array(int32Output ? 0 : channels);
  const shifts = new Int32Array(int32Output ? 0 : channels);

  const weightQuant = int32Output ? weights.quant : quantOf(node, weights, 'weights');
  const weightZeroPoints = weightQuant?.zeroPoint ?? [0];
  if (weightZeroPoints.length !== 1 && weightZeroPoints.length !== channels) {
    throw new NodeError(node.name, node.op, `weights '${weights.name}' have ${weightZeroPoints.length} zero points for ${channels} channels`);
  }
  for (let c = 0; c < channels; c++) weightOffsets[c] = -(weightZeroPoints.length === 1 ? weightZeroPoints[0]! : weightZeroPoints[c]!);

  if (int32Output) {
    return {
      inputOffset: -zeroPointOrZero(input),
      weightOffsets,
      outputOffset: 0,
      multipliers,
      shifts,
      clamp: { min: -2147483648, max: 2147483647 },
      bias,
      int32Output,
      outputChannels: channels,
    };
  }

  const inputQ = perTensor(node, input, 'input');
  const outputQ = perTensor(node, output, 'output');
  const weightScales = weightQuant!.scale;
  if (weightScales.length !== 1 && weightScales.length !== channels) {
    throw new NodeError(node.name, node.op, `weights '${weights.name}' have ${weightScales.length} scales for ${channels} channels`);
  }
  for (let c = 0; c < channels; c++) {
    const weightScale = f32(weightScales.length === 1 ? weightScales[0]! : weightScales[c]!);
    const real =
      productPrecision === 'double'
        ? (inputQ.scale * weightScale) / outputQ.scale
        : f32(inputQ.scale * weightScale) / outputQ.scale;
    const { multiplier, shift } = quantizeMultiplier(real);
    multipliers[c] = multiplier;
    shifts[c] = shift;
  }
  return {
    inputOffset: -inputQ.zeroPoint,
    weightOffsets,
    outputOffset: outputQ.zeroPoint,
    multipliers,
    shifts,
    clamp: clampOf(node),
    bias,
    int32Output,
    outputChannels: channels,
  };
}

export interface BatchMatMulParams {
  lhsOffset: number;
  rhsOffset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
  clamp: Clamp;
  int32Output: boolean;
}

/** BATCH_MATMUL (batch_matmul.cc): M = float(S_lhs * S_rhs) / S_out. */
export function batchMatMulParams(graph: Graph, node: BatchMatMulNode): BatchMatMulParams {
  const lhs = nodeTensor(graph, node, node.inputs[0], 'lhs');
  const rhs = nodeTensor(graph, node, node.inputs[1], 'rhs');
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  if (output.dtype === 'int32') {
    return {
      lhsOffset: -zeroPointOrZero(lhs),
      rhsOffset: -zeroPointOrZero(rhs),
      outputOffset: 0,
      multiplier: 0,
      shift: 0,
      clamp: { min: -2147483648, max: 2147483647 },
      int32Output: true,
    };
  }
  const l = perTensor(node, lhs, 'lhs');
  const r = perTensor(node, rhs, 'rhs');
  const o = perTensor(node, output, 'output');
  const { multiplier, shift } = quantizeMultiplier(f32(l.scale * r.scale) / o.scale);
  return {
    lhsOffset: -l.zeroPoint,
    rhsOffset: -r.zeroPoint,
    outputOffset: o.zeroPoint,
    multiplier,
    shift,
    clamp: clampOf(node),
    int32Output: false,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise arithmetic

export interface AddParams {
  /** 20 for int8: both inputs are shifted left by this before their rescaling. */
  leftShift: number;
  input1Offset: number;
  input2Offset: number;
  outputOffset: number;
  input1Multiplier: number;
  input1Shift: number;
  input2Multiplier: number;
  input2Shift: number;
  outputMultiplier: number;
  outputShift: number;
  clamp: Clamp;
}

const ADD_LEFT_SHIFT = 20;

/**
 * ADD (add_common.cc CalculateOpDataAdd): both inputs rescaled to twice the larger input scale, in double.
 * SUB (sub_common.cc CalculateOpDataSub) derives the same quantities but in float32.
 */
export function addParams(graph: Graph, node: ElementwiseBinaryNode): AddParams {
  const [a, b, o] = binaryQuant(graph, node);
  let real1: number, real2: number, realOut: number;
  if (node.op === 'Sub') {
    const twiceMax = f32(2 * Math.max(a.scale, b.scale));
    real1 = f32(a.scale / twiceMax);
    real2 = f32(b.scale / twiceMax);
    realOut = f32(twiceMax / f32((1 << ADD_LEFT_SHIFT) * o.scale));
  } else {
    const twiceMax = 2 * Math.max(a.scale, b.scale);
    real1 = a.scale / twiceMax;
    real2 = b.scale / twiceMax;
    realOut = twiceMax / ((1 << ADD_LEFT_SHIFT) * o.scale);
  }
  const m1 = quantizeMultiplier(real1);
  const m2 = quantizeMultiplier(real2);
  const mo = quantizeMultiplier(realOut);
  return {
    leftShift: ADD_LEFT_SHIFT,
    input1Offset: -a.zeroPoint,
    input2Offset: -b.zeroPoint,
    outputOffset: o.zeroPoint,
    input1Multiplier: m1.multiplier,
    input1Shift: m1.shift,
    input2Multiplier: m2.multiplier,
    input2Shift: m2.shift,
    outputMultiplier: mo.multiplier,
    outputShift: mo.shift,
    clamp: clampOf(node),
  };
}

/** SUB: the same parameters as ADD (float32 derivation); the kernel subtracts the rescaled inputs. */
export function subParams(graph: Graph, node: ElementwiseBinaryNode): AddParams {
  return addParams(graph, node);
}

export interface MulParams {
  input1Offset: number;
  input2Offset: number;
  outputOffset: number;
  multiplier: number;
  shift: number;
  clamp: Clamp;
}

/** MUL (mul_common.cc): M = S_1 * S_2 / S_out in double. */
export function mulParams(graph: Graph, node: ElementwiseBinaryNode): MulParams {
  const [a, b, o] = binaryQuant(graph, node);
  const { multiplier, shift } = quantizeMultiplier((a.scale * b.scale) / o.scale);
  return {
    input1Offset: -a.zeroPoint,
    input2Offset: -b.zeroPoint,
    outputOffset: o.zeroPoint,
    multiplier,
    shift,
    clamp: clampOf(node),
  };
}

function binaryQuant(graph: Graph, node: ElementwiseBinaryNode) {
  const a = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input 0'), 'input 0');
  const b = perTensor(node, nodeTensor(graph, node, node.inputs[1], 'input 1'), 'input 1');
  const o = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  return [a, b, o] as const;
}

// ---------------------------------------------------------------------------------------------------------------
// Pooling and reductions

export interface PoolParams {
  clamp: Clamp;
}

/** AVERAGE_POOL_2D / MAX_POOL_2D work in the input's quantized domain: input and output quantization must agree. */
export function poolParams(graph: Graph, node: Pool2DNode): PoolParams {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  if (input.scale !== output.scale || input.zeroPoint !== output.zeroPoint) {
    throw new NodeError(
      node.name,
      node.op,
      `input (scale ${input.scale}, zero point ${input.zeroPoint}) and output (scale ${output.scale}, zero point ${output.zeroPoint}) quantization differ; TFLite-Micro pooling does not requantize`,
    );
  }
  return { clamp: clampOf(node) };
}

export interface MeanParams {
  /** Number of input elements averaged into each output element. */
  count: number;
  /**
   * 'average': input and output quantization are equal, TFLite-Micro divides the raw sum by the count (truncating);
   * 'requantize': (sum - Z_in * count) requantized with a multiplier that includes 1/count.
   */
  mode: 'average' | 'requantize';
  inputZeroPoint: number;
  outputZeroPoint: number;
  multiplier: number;
  shift: number;
}

/** MEAN (reduce_common.cc EvalIntegerMean and reference_ops::QuantizedMeanOrSum at tflite-micro 90b983c2). */
export function meanParams(graph: Graph, node: MeanNode): MeanParams {
  const inputTensor = nodeTensor(graph, node, node.inputs[0], 'input');
  const input = perTensor(node, inputTensor, 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  const rank = inputTensor.shape.length;
  let count = 1;
  for (const axis of new Set(node.attrs.axes.map((a) => (a < 0 ? a + rank : a)))) count *= inputTensor.shape[axis]!;
  const base = quantizeMultiplier(input.scale / output.scale);
  if (input.scale === output.scale && input.zeroPoint === output.zeroPoint) {
    return { count, mode: 'average', inputZeroPoint: input.zeroPoint, outputZeroPoint: output.zeroPoint, ...base };
  }
  // Fold 1/count into the multiplier: shift it up by floor(log2(count)) bits (at most 32, and no further than a
  // final shift of -31), then divide by count in 64-bit integer arithmetic (truncating).
  let bits = 31 - Math.clz32(count);
  bits = Math.min(bits, 32, 31 + base.shift);
  const multiplier = Number((BigInt(base.multiplier) << BigInt(bits)) / BigInt(count));
  return {
    count,
    mode: 'requantize',
    inputZeroPoint: input.zeroPoint,
    outputZeroPoint: output.zeroPoint,
    multiplier,
    shift: base.shift - bits,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Softmax

export interface SoftmaxParams {
  /** Q31 multiplier and left shift turning (x - max) into the Q5.26 input of the fixed-point exp. */
  inputMultiplier: number;
  inputLeftShift: number;
  /** Differences below this contribute exp(...) = 0. */
  diffMin: number;
}

const SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5;

/** SOFTMAX int8 (softmax_common.cc CalculateSoftmaxParams, PreprocessSoftmaxScaling, CalculateInputRadius). */
export function softmaxParams(graph: Graph, node: SoftmaxNode): SoftmaxParams {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  if (output.zeroPoint !== -128 || output.scale !== 1 / 256) {
    throw new NodeError(
      node.name,
      node.op,
      `int8 softmax output must have scale 1/256 and zero point -128 (TFLite-Micro's requirement), got scale ${output.scale}, zero point ${output.zeroPoint}`,
    );
  }
  const beta = f32(node.attrs.beta);
  const maxRealMultiplier = 2 ** 31 - 1;
  const real = Math.min(beta * input.scale * 2 ** (31 - SOFTMAX_SCALED_DIFF_INTEGER_BITS), maxRealMultiplier);
  const { multiplier, shift } = quantizeMultiplier(real);
  if (shift < 0) throw new NodeError(node.name, node.op, `input scale ${input.scale} with beta ${beta} is too small`);
  return { inputMultiplier: multiplier, inputLeftShift: shift, diffMin: -inputRadius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, shift) };
}

/** TFLite CalculateInputRadius (floating-point build), total_signed_bits = 31. */
export function inputRadius(integerBits: number, leftShift: number): number {
  return Math.floor((((1 << integerBits) - 1) * 2 ** (31 - integerBits)) / 2 ** leftShift);
}

// ---------------------------------------------------------------------------------------------------------------
// Unary functions: each int8 -> int8, so each is exactly a 256-entry table (index x + 128) computed with
// TFLite-Micro's arithmetic. Code generation emits the table; the reference kernel looks it up.

export type UnaryLutNode = UnaryNode | LeakyReluNode;

export interface ArithmeticUnaryParams {
  inputZeroPoint: number;
  inputMultiplier: number;
  inputLeftShift: number;
  inputRangeRadius: number;
}

/**
 * LOGISTIC and TANH int8 (logistic_common.cc / tanh.cc): the input is rescaled to Q4.27 with a multiplier from
 * frexp(S_in * 2^27) (no TFLite QuantizeMultiplier normalisation), inputs beyond the radius saturate.
 */
export function logisticTanhParams(graph: Graph, node: UnaryNode): ArithmeticUnaryParams {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const inputIntegerBits = 4;
  const { fraction, exponent } = frexp(input.scale * 2 ** (31 - inputIntegerBits));
  return {
    inputZeroPoint: input.zeroPoint,
    inputMultiplier: roundHalfAway(fraction * 2 ** 31) | 0,
    inputLeftShift: exponent,
    inputRangeRadius: inputRadius(inputIntegerBits, exponent),
  };
}

/** LOGISTIC int8 output (256 entries, index x + 128). */
export function logisticLut(graph: Graph, node: UnaryNode): Int8Array {
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  if (output.scale !== 1 / 256 || output.zeroPoint !== -128) return floatLut(graph, node, (x) => f32(1 / f32(1 + f32(Math.exp(-x)))));
  const p = logisticTanhParams(graph, node);
  return tabulate((x) => {
    const input = x - p.inputZeroPoint;
    if (input <= -p.inputRangeRadius) return INT8_MIN;
    if (input >= p.inputRangeRadius) return INT8_MAX;
    const inputQ4 = multiplyByQuantizedMultiplier(input, p.inputMultiplier, p.inputLeftShift);
    const outputQ0 = fixedPointLogistic(inputQ4, 4);
    return clampInt8(roundingDivideByPOT(outputQ0, 31 - 8) - 128);
  });
}

/** TANH int8 output (256 entries, index x + 128). */
export function tanhLut(graph: Graph, node: UnaryNode): Int8Array {
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  if (output.scale !== 1 / 128 || output.zeroPoint !== 0) return floatLut(graph, node, (x) => f32(Math.tanh(x)));
  const p = logisticTanhParams(graph, node);
  return tabulate((x) => {
    const input = x - p.inputZeroPoint;
    if (input <= -p.inputRangeRadius) return INT8_MIN;
    if (input >= p.inputRangeRadius) return INT8_MAX;
    const inputQ4 = multiplyByQuantizedMultiplier(input, p.inputMultiplier, p.inputLeftShift);
    return clampInt8(roundingDivideByPOT(fixedPointTanh(inputQ4, 4), 31 - 7));
  });
}

export interface HardSwishParams {
  inputZeroPoint: number;
  outputZeroPoint: number;
  /** int16 Q15 multipliers and their exponents. */
  outputMultiplier: number;
  outputExponent: number;
  reluishMultiplier: number;
  reluishExponent: number;
}

/** HARD_SWISH int8 (hard_swish_common.cc HardSwishPrepare, float32 derivation). */
export function hardSwishParams(graph: Graph, node: UnaryNode): HardSwishParams {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  const hiresInputScale = f32(f32(1 / 128) * input.scale);
  const reluishScale = f32(3 / 32768);
  const out = quantizeMultiplier(f32(hiresInputScale / output.scale));
  const reluish = quantizeMultiplier(f32(hiresInputScale / reluishScale));
  if (out.shift > 0) throw new NodeError(node.name, node.op, `output scale ${output.scale} is too small for the input scale ${input.scale}`);
  return {
    inputZeroPoint: input.zeroPoint,
    outputZeroPoint: output.zeroPoint,
    outputMultiplier: downscaleMultiplierToInt16(out.multiplier),
    outputExponent: out.shift,
    reluishMultiplier: downscaleMultiplierToInt16(reluish.multiplier),
    reluishExponent: reluish.shift,
  };
}

/** TFLite DownScaleInt32ToInt16Multiplier. */
function downscaleMultiplierToInt16(multiplier: number): number {
  if (multiplier >= 2147483647 - (1 << 15)) return 32767;
  return (multiplier + (1 << 15)) >> 16;
}

/** HARD_SWISH int8 output (reference_ops::HardSwish: int16 fixed-point arithmetic), 256 entries. */
export function hardSwishLut(graph: Graph, node: UnaryNode): Int8Array {
  const p = hardSwishParams(graph, node);
  return tabulate((x) => {
    const inputValue = int16(x - p.inputZeroPoint);
    const hires = int16(inputValue * 128);
    const preshiftOutput = srdhm16(hires, p.outputMultiplier);
    let reluish = hires;
    if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, p.reluishExponent - 1);
    reluish = srdhm16(reluish, p.reluishMultiplier);
    if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, 1);
    if (p.reluishExponent < 0) reluish = roundingDivideByPOT16(reluish, -p.reluishExponent);
    reluish = int16((reluish + (1 << 15)) >> 1);
    const preshiftOutputValue = saturatingDoublingHighMul16(reluish, preshiftOutput);
    let outputValue = roundingDivideByPOT16(preshiftOutputValue, -p.outputExponent);
    outputValue = int16(outputValue + p.outputZeroPoint);
    return clampInt8(outputValue);
  });
}

export interface LeakyReluParams {
  inputZeroPoint: number;
  outputZeroPoint: number;
  identityMultiplier: number;
  identityShift: number;
  alphaMultiplier: number;
  alphaShift: number;
}

/** LEAKY_RELU int8 (leaky_relu_common.cc): both multipliers from float32 ratios. */
export function leakyReluParams(graph: Graph, node: LeakyReluNode): LeakyReluParams {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  const alpha = quantizeMultiplier(f32(f32(input.scale * f32(node.attrs.alpha)) / output.scale));
  const identity = quantizeMultiplier(f32(input.scale / output.scale));
  return {
    inputZeroPoint: input.zeroPoint,
    outputZeroPoint: output.zeroPoint,
    identityMultiplier: identity.multiplier,
    identityShift: identity.shift,
    alphaMultiplier: alpha.multiplier,
    alphaShift: alpha.shift,
  };
}

/** LEAKY_RELU int8 (reference_ops::QuantizeLeakyRelu) applied to one value. */
export function leakyReluValue(p: LeakyReluParams, x: number): number {
  const input = x - p.inputZeroPoint;
  const scaled =
    input >= 0
      ? multiplyByQuantizedMultiplier(input, p.identityMultiplier, p.identityShift)
      : multiplyByQuantizedMultiplier(input, p.alphaMultiplier, p.alphaShift);
  return clampInt8(p.outputZeroPoint + scaled);
}

export interface RequantizeParams {
  inputZeroPoint: number;
  outputZeroPoint: number;
  multiplier: number;
  shift: number;
}

/** M = S_in / S_out in double (QUANTIZE int8 -> int8, RELU's rescale, CONCATENATION of differently scaled inputs). */
function requantizeBetween(node: Node, input: Tensor, output: Tensor): RequantizeParams {
  const i = perTensor(node, input, 'input');
  const o = perTensor(node, output, 'output');
  const { multiplier, shift } = quantizeMultiplier(i.scale / o.scale);
  return { inputZeroPoint: i.zeroPoint, outputZeroPoint: o.zeroPoint, multiplier, shift };
}

/** RELU / RELU6 / NEG int8 output, 256 entries. */
export function activationLut(graph: Graph, node: UnaryNode): Int8Array {
  const input = nodeTensor(graph, node, node.inputs[0], 'input');
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  const inQ = perTensor(node, input, 'input');
  const outQ = perTensor(node, output, 'output');
  const r = requantizeBetween(node, input, output);
  const rescale = (x: number, sign: 1 | -1) =>
    r.outputZeroPoint + multiplyByQuantizedMultiplier(sign * (x - r.inputZeroPoint), r.multiplier, r.shift);
  switch (node.op) {
    case 'Relu': {
      // CalculateReluOpData: clamp below at the output's quantized 0.
      const min = Math.max(INT8_MIN, outQ.zeroPoint);
      return tabulate((x) => Math.min(INT8_MAX, Math.max(min, rescale(x, 1))));
    }
    case 'Relu6': {
      if (inQ.scale === outQ.scale && inQ.zeroPoint === outQ.zeroPoint) {
        // Relu6Prepare: clamp in the input's domain to [Z, quantized 6].
        const six = clampInt8(roundHalfAway(f32(6 / inQ.scale)) + inQ.zeroPoint);
        return tabulate((x) => Math.min(six, Math.max(inQ.zeroPoint, x)));
      }
      const min = Math.max(INT8_MIN, outQ.zeroPoint);
      const max = Math.min(INT8_MAX, outQ.zeroPoint + roundHalfAway(f32(6 / outQ.scale)));
      return tabulate((x) => Math.min(max, Math.max(min, rescale(x, 1))));
    }
    case 'Neg':
      return tabulate((x) => clampInt8(rescale(x, -1)));
    default:
      throw new NodeError(node.name, node.op, 'is not a rescaling activation');
  }
}

/** The 256-entry int8 table (index x + 128) of any quantized unary op. */
export function unaryLut(graph: Graph, node: UnaryLutNode): Int8Array {
  switch (node.op) {
    case 'Logistic':
      return logisticLut(graph, node);
    case 'Tanh':
      return tanhLut(graph, node);
    case 'HardSwish':
      return hardSwishLut(graph, node);
    case 'Relu':
    case 'Relu6':
    case 'Neg':
      return activationLut(graph, node);
    case 'LeakyRelu': {
      const p = leakyReluParams(graph, node);
      return tabulate((x) => leakyReluValue(p, x));
    }
  }
}

/**
 * TFLite's float LUT construction (LUTPopulateInt8), used for LOGISTIC / TANH when the output quantization is not
 * the one TFLite's fixed-point kernels assume (1/256 with -128, 1/128 with 0).
 */
function floatLut(graph: Graph, node: UnaryNode, transform: (x: number) => number): Int8Array {
  const input = perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
  const output = perTensor(node, nodeTensor(graph, node, node.outputs[0], 'output'), 'output');
  const inverseScale = f32(1 / output.scale);
  return tabulate((x) => {
    const dequantized = f32(input.scale * (x - input.zeroPoint));
    const rescaled = roundHalfAway(f32(transform(dequantized) * inverseScale));
    return clampInt8(rescaled + output.zeroPoint);
  });
}

function tabulate(f: (x: number) => number): Int8Array {
  const table = new Int8Array(256);
  for (let x = INT8_MIN; x <= INT8_MAX; x++) table[x + 128] = f(x);
  return table;
}

function clampInt8(x: number): number {
  return x < INT8_MIN ? INT8_MIN : x > INT8_MAX ? INT8_MAX : x;
}

// int16 arithmetic of reference_ops::HardSwish and gemmlowp's int16 specialisations.

function int16(x: number): number {
  return (x << 16) >> 16;
}

function srdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return int16(Math.trunc((ab + nudge) / 32768));
}

function saturatingDoublingHighMul16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  return int16(Math.trunc((a * b) / 32768));
}

function saturatingLeftShift16(value: number, amount: number): number {
  const result = value * 2 ** amount;
  return result > 32767 ? 32767 : result < -32768 ? -32768 : result;
}

function roundingDivideByPOT16(x: number, exponent: number): number {
  const mask = int16(exponent >= 31 ? -1 : (1 << exponent) - 1);
  const remainder = int16(x & mask);
  const threshold = int16((mask >> 1) + (x < 0 ? 1 : 0));
  return int16((x >> Math.min(exponent, 31)) + (remainder > threshold ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Quantize, dequantize, concatenation, pad

export type QuantizeParams =
  | { kind: 'float'; scale: number; zeroPoint: number; rounding: 'half-even' | 'half-away'; clamp: Clamp }
  | ({ kind: 'requantize'; clamp: Clamp } & RequantizeParams);

/**
 * QUANTIZE (quantize_common.cc): float -> int8 as round(x / S) + Z with float32 division; int8/int16/int32 -> int8
 * requantization with M = S_in / S_out in double.
 */
export function quantizeParams(graph: Graph, node: QuantizeNode): QuantizeParams {
  const input = nodeTensor(graph, node, node.inputs[0], 'input');
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  const clamp = clampOf(node);
  if (input.dtype === 'float32') {
    const o = perTensor(node, output, 'output');
    return { kind: 'float', scale: o.scale, zeroPoint: o.zeroPoint, rounding: node.attrs.rounding, clamp };
  }
  return { kind: 'requantize', clamp, ...requantizeBetween(node, input, output) };
}

export interface DequantizeParams {
  scale: number;
  zeroPoint: number;
}

/**
 * Per-axis float <-> integer quantization (ONNX QuantizeLinear / DequantizeLinear with an axis): element i uses the
 * scale and zero point of its index along `axis`. Only the reference runs it: generated code quantizes per tensor.
 */
export interface AxisQuantizeParams {
  scales: number[];
  zeroPoints: number[];
  /** Elements between consecutive indices of the axis, and the axis' length. */
  stride: number;
  length: number;
}

/** The per-axis parameters of a Quantize (float input) or Dequantize node's quantized side; null when per tensor. */
export function axisQuantizeParams(graph: Graph, node: QuantizeNode | DequantizeNode): AxisQuantizeParams | null {
  const quantized = nodeTensor(graph, node, node.op === 'Quantize' ? node.outputs[0] : node.inputs[0], node.op === 'Quantize' ? 'output' : 'input');
  const q = quantOf(node, quantized, node.op === 'Quantize' ? 'output' : 'input');
  if (q.scale.length <= 1) return null;
  const rank = quantized.shape.length;
  const axis = q.axis < 0 ? q.axis + rank : q.axis;
  const length = quantized.shape[axis];
  if (length !== q.scale.length || q.zeroPoint.length !== q.scale.length) {
    throw new NodeError(node.name, node.op, `'${quantized.name}' has ${q.scale.length} scales for axis ${axis} of length ${length}`);
  }
  const stride = quantized.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { scales: q.scale.map(f32), zeroPoints: [...q.zeroPoint], stride, length };
}

export function dequantizeParams(graph: Graph, node: DequantizeNode): DequantizeParams {
  return perTensor(node, nodeTensor(graph, node, node.inputs[0], 'input'), 'input');
}

export interface ConcatParams {
  /** Position of the concatenation axis (negative axes resolved). */
  axis: number;
  /** Per input: null when it shares the output's quantization (plain copy), else its requantization. */
  inputs: (RequantizeParams | null)[];
}

/** CONCATENATION: inputs with another quantization than the output are requantized (M = S_in / S_out). */
export function concatParams(graph: Graph, node: ConcatNode): ConcatParams {
  const output = nodeTensor(graph, node, node.outputs[0], 'output');
  const rank = output.shape.length;
  const axis = node.attrs.axis < 0 ? node.attrs.axis + rank : node.attrs.axis;
  const inputs = node.inputs.map((name, i) => {
    const input = nodeTensor(graph, node, name, `input ${i}`);
    if (!input.quant || !output.quant || input.dtype === 'float32') return null;
    const a = perTensor(node, input, `input ${i}`);
    const o = perTensor(node, output, 'output');
    if (a.scale === o.scale && a.zeroPoint === o.zeroPoint) return null;
    return requantizeBetween(node, input, output);
  });
  return { axis, inputs };
}
