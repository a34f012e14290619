/**
 * Quantized ONNX ops -> IR nodes. QDQ (DequantizeLinear -> op -> QuantizeLinear) and QOperator (QLinearConv, ...)
 * graphs state the same thing in two spellings; their readers (qdq.ts, qoperator.ts) collect the integer operands and
 * parameters and both end here, so an op has one lowering whatever the spelling.
 */
import { NodeError } from '../../errors.js';
import { roundHalfEven } from '../../quant/fixedpoint.js';
import { elementCount } from '../../ir/graph.js';
import { resolveReshape } from '../../ir/shapes.js';
import type { Clamp, Quantization } from '../../ir/types.js';
import { integerData, type ConversionContext, type OutputSpec } from './context.js';
import { irAxis, permute, TO_NCHW, TO_NHWC, transposeData, type Layout } from './layout.js';
import type { OnnxNode } from './model.js';
import { hasPadding, poolPadding, windowAttributes, windowPadding } from './padding.js';
import { OnnxDataType } from './proto.js';
import { irQuant, quantizeReal, requireEightBit, sameQuant, type OnnxQuant } from './quant-params.js';
import { Unsupported } from './unsupported.js';

/** An integer tensor (activation or constant) with the parameters that give it a real value. */
export interface QuantOperand {
  name: string;
  params: OnnxQuant;
}

/** Where a quantized op's result goes: the ONNX tensor and its parameters (none: an int32 ConvInteger result). */
export interface QuantResult {
  name: string;
  params?: OnnxQuant;
}

/** A fused activation's bounds in real values (Relu: [0, inf]). */
export interface RealClamp {
  min: number;
  max: number;
}

/** A bias as ONNX gives it: int32 with S_in * S_w scale (QLinearConv), int32 through DequantizeLinear, or float. */
export type BiasInput = { kind: 'int32'; name: string; params?: OnnxQuant } | { kind: 'float'; name: string };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// ---------------------------------------------------------------------------------------------------------------
// Convolution, fully connected, matrix products

export function lowerConv(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, w: QuantOperand, bias: BiasInput | undefined, y: QuantResult, clamp?: RealClamp): void {
  const xShape = ctx.onnxShape(x.name);
  if (xShape.length !== 4) throw new Unsupported(`${xShape.length - 2}-D convolution (tinyedge supports 2-D)`);
  const weights = ctx.constant(w.name);
  if (!weights) throw new Unsupported('weights that are not a constant');
  requireEightBit(w.params, 'weights');
  requireEightBit(x.params, 'input');
  if (weights.dims.length !== 4) throw new NodeError(node.name, node.opType, `weights of shape [${weights.dims.join(', ')}] for a 2-D convolution`);
  const [outChannels, groupChannels, kh, kw] = weights.dims as [number, number, number, number];
  const group = node.attrs.int('group', 1);
  const inChannels = xShape[1]!;
  if (groupChannels * group !== inChannels) {
    throw new NodeError(node.name, node.opType, `weights expect ${groupChannels} x ${group} input channels, input has ${inChannels}`);
  }
  if (outChannels % group !== 0) throw new NodeError(node.name, node.opType, `${outChannels} output channels do not split into ${group} groups`);
  if (w.params.axis !== undefined && w.params.axis !== 0) throw new Unsupported(`weights quantized along axis ${w.params.axis} (tinyedge expects per output channel, axis 0)`);
  checkPerTensor(x.params, 'input');
  const { kernel, stride, dilation } = windowAttributes(node, [kh, kw]);
  const padding = windowPadding(node, { input: [xShape[2]!, xShape[3]!], kernel, stride, dilation });
  const depthwise = group > 1 && group === inChannels && groupChannels === 1;

  // OIHW -> OHWI (Conv2D) or [1, kh, kw, C * M] (DepthwiseConv2D).
  const perm = depthwise ? [1, 2, 3, 0] : [0, 2, 3, 1];
  const weightAxis = depthwise ? 3 : 0;
  const weightData = transposeData(integerData(node, weights), weights.dims, perm);
  const weightName = ctx.addConstant(w.name, 'int8', permute(weights.dims, perm), weightData, irQuant(w.params, weightAxis));
  const biasName = bias ? biasTensor(ctx, node, bias, x.params, w.params, outChannels) : '';
  const input = ctx.quantized(node, x.name, x.params, 'nhwc');
  const output = resultSpec(y, 'nhwc');
  const clampRange = quantizedClamp(y, output.quant, clamp);
  const inputs = [input, weightName, biasName];
  if (!biasName) inputs.pop();
  if (depthwise) {
    ctx.emit({ op: 'DepthwiseConv2D', name: node.name, inputs, outputs: [], attrs: { stride, dilation, padding, depthMultiplier: outChannels / group, clamp: clampRange } }, [output]);
  } else {
    ctx.emit({ op: 'Conv2D', name: node.name, inputs, outputs: [], attrs: { stride, dilation, padding, groups: group, clamp: clampRange } }, [output]);
  }
}

/**
 * A product with a constant 2-D right-hand side (Gemm, MatMul, QGemm) as FullyConnected. `transposed` tells that
 * the constant is stored [N, K] (Gemm transB = 1) rather than [K, N].
 */
export function lowerFullyConnected(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, w: QuantOperand, transposed: boolean, bias: BiasInput | undefined, y: QuantResult, clamp?: RealClamp): void {
  const weights = ctx.constant(w.name)!;
  requireEightBit(w.params, 'weights');
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const xShape = ctx.onnxShape(x.name);
  if (xShape.length < 2) throw new Unsupported('matrix product of a 1-D input');
  if (weights.dims.length !== 2) throw new NodeError(node.name, node.opType, `weights of shape [${weights.dims.join(', ')}], expected 2-D`);
  const [k, n] = transposed ? [weights.dims[1]!, weights.dims[0]!] : [weights.dims[0]!, weights.dims[1]!];
  if (xShape[xShape.length - 1] !== k) {
    throw new NodeError(node.name, node.opType, `input [${xShape.join(', ')}] does not match weights [${weights.dims.join(', ')}]`);
  }
  const channelAxis = transposed ? 0 : 1;
  if (w.params.axis !== undefined && w.params.axis !== channelAxis) {
    throw new Unsupported('weights quantized along the reduction axis (tinyedge expects one scale per output column)');
  }
  const data = integerData(node, weights);
  const weightData = transposed ? data : transposeData(data, weights.dims, [1, 0]);
  const weightName = ctx.addConstant(w.name, 'int8', [n, k], weightData, irQuant(w.params, 0));
  const biasName = bias ? biasTensor(ctx, node, bias, x.params, w.params, n) : '';
  const input = ctx.quantized(node, x.name, x.params, 'onnx');
  const output = resultSpec(y, 'onnx');
  const inputs = biasName ? [input, weightName, biasName] : [input, weightName];
  ctx.emit(
    { op: 'FullyConnected', name: node.name, inputs, outputs: [], attrs: { clamp: quantizedClamp(y, output.quant, clamp), keepNumDims: xShape.length > 2 } },
    [output],
  );
}

/** A product of two run-time tensors (or a constant of rank > 2) as BatchMatMul. */
export function lowerBatchMatMul(ctx: ConversionContext, node: OnnxNode, a: QuantOperand, b: QuantOperand, y: QuantResult, clamp?: RealClamp): void {
  for (const [operand, what] of [[a, 'input A'], [b, 'input B']] as const) {
    requireEightBit(operand.params, what);
    checkPerTensor(operand.params, what);
    if (ctx.onnxShape(operand.name).length < 2) throw new Unsupported('matrix product of a 1-D input');
  }
  const inputs = [ctx.quantized(node, a.name, a.params, 'onnx'), ctx.quantized(node, b.name, b.params, 'onnx')];
  const output = resultSpec(y, 'onnx');
  ctx.emit({ op: 'BatchMatMul', name: node.name, inputs, outputs: [], attrs: { clamp: quantizedClamp(y, output.quant, clamp) } }, [output]);
}

/** int32 bias [C] with scale S_in * S_w[c], zero point 0, from whichever form the model gives it in. */
function biasTensor(ctx: ConversionContext, node: OnnxNode, bias: BiasInput, x: OnnxQuant, w: OnnxQuant, channels: number): string {
  const constant = ctx.constant(bias.name);
  if (!constant) throw new Unsupported('a bias that is not a constant');
  const size = elementCount(constant.dims);
  if (size !== channels && size !== 1) throw new NodeError(node.name, node.opType, `bias of shape [${constant.dims.join(', ')}] for ${channels} output channels`);
  // float32 product, as onnxruntime's quantizer computes it.
  const scales = Array.from({ length: channels }, (_, c) => Math.fround(x.scale[0]! * w.scale[w.scale.length === 1 ? 0 : c]!));
  const values = new Int32Array(channels);
  const at = (c: number): number => Number((constant.data as ArrayLike<number | bigint>)[size === 1 ? 0 : c]);
  if (bias.kind === 'float') {
    if (constant.dataType !== OnnxDataType.FLOAT && constant.dataType !== OnnxDataType.DOUBLE) {
      throw new NodeError(node.name, node.opType, `bias '${bias.name}' is neither float nor int32`);
    }
    for (let c = 0; c < channels; c++) values[c] = saturateInt32(roundHalfEven(at(c) / scales[c]!));
  } else {
    if (constant.dataType !== OnnxDataType.INT32) throw new NodeError(node.name, node.opType, `bias '${bias.name}' should be int32`);
    const given = bias.params;
    if (given && given.zeroPoint.some((z) => z !== 0)) throw new NodeError(node.name, node.opType, 'bias has a non-zero zero point');
    for (let c = 0; c < channels; c++) {
      const givenScale = given ? given.scale[given.scale.length === 1 ? 0 : c]! : scales[c]!;
      // A bias quantized with another scale than S_in * S_w is brought onto it (bit-identical in the usual case).
      values[c] = Math.abs(givenScale - scales[c]!) <= 1e-6 * scales[c]! ? at(c) : saturateInt32(roundHalfEven((at(c) * givenScale) / scales[c]!));
    }
  }
  const quant: Quantization = w.scale.length === 1 ? { scale: [scales[0]!], zeroPoint: [0], axis: 0 } : { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 };
  return ctx.addConstant(bias.name, 'int32', [channels], values, quant);
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise

export function lowerBinary(ctx: ConversionContext, node: OnnxNode, op: 'Add' | 'Sub' | 'Mul', a: QuantOperand, b: QuantOperand, y: QuantResult, clamp?: RealClamp): void {
  for (const [operand, what] of [[a, 'input A'], [b, 'input B']] as const) {
    requireEightBit(operand.params, what);
    checkPerTensor(operand.params, what);
  }
  const layout = broadcastLayout(ctx, [a.name, b.name]);
  const inputs = [a, b].map((operand) => broadcastOperand(ctx, node, operand, layout));
  const output = resultSpec(y, layout);
  ctx.emit({ op, name: node.name, inputs, outputs: [], attrs: { clamp: quantizedClamp(y, output.quant, clamp) } }, [output]);
}

/**
 * Channels-last when a run-time operand already is and every run-time operand is 4-D (constants of lower rank are
 * re-laid out to broadcast the same way); otherwise ONNX order.
 */
function broadcastLayout(ctx: ConversionContext, names: string[]): Layout {
  const runtime = names.filter((name) => ctx.has(name));
  if (runtime.length === 0) return 'onnx';
  if (!runtime.every((name) => ctx.onnxShape(name).length === 4)) return 'onnx';
  return ctx.preferredLayout(runtime);
}

function broadcastOperand(ctx: ConversionContext, node: OnnxNode, operand: QuantOperand, layout: Layout): string {
  if (ctx.has(operand.name) || layout === 'onnx') return ctx.quantized(node, operand.name, operand.params, layout);
  // A constant broadcast against NHWC data: give it ONNX's implicit leading 1s, move C last, drop the leading 1s
  // again ([C, 1, 1] -> [C]).
  const constant = ctx.constant(operand.name)!;
  if (constant.dims.length > 4) throw new NodeError(node.name, node.opType, `constant of rank ${constant.dims.length} against 4-D data`);
  const padded = [...new Array<number>(4 - constant.dims.length).fill(1), ...constant.dims];
  const nhwc = permute(padded, TO_NHWC);
  const data = transposeData(integerData(node, constant), padded, TO_NHWC);
  let first = 0;
  while (first < 3 && nhwc[first] === 1) first++;
  return ctx.addConstant(operand.name, data instanceof Int32Array ? 'int32' : 'int8', nhwc.slice(first), data, irQuant(operand.params));
}

export type UnaryOp = 'Logistic' | 'Tanh' | 'HardSwish' | 'Neg' | 'Relu';

export function lowerUnary(ctx: ConversionContext, node: OnnxNode, op: UnaryOp, x: QuantOperand, y: QuantResult): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  ctx.emit({ op, name: node.name, inputs: [input], outputs: [], attrs: {} }, [resultSpec(y, layout)]);
}

export function lowerLeakyRelu(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, alpha: number): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  ctx.emit({ op: 'LeakyRelu', name: node.name, inputs: [input], outputs: [], attrs: { alpha } }, [resultSpec(y, layout)]);
}

/** A Relu or Clip on its own (not fused into a producer): Relu / Relu6 when exact, else a clamping requantize. */
export function lowerClip(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, bounds: RealClamp): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  const output = resultSpec(y, layout);
  if (bounds.min === 0 && (bounds.max === Infinity || bounds.max === 6)) {
    ctx.emit({ op: bounds.max === 6 ? 'Relu6' : 'Relu', name: node.name, inputs: [input], outputs: [], attrs: {} }, [output]);
    return;
  }
  ctx.emit({ op: 'Quantize', name: node.name, inputs: [input], outputs: [], attrs: { clamp: quantizedClamp(y, output.quant, bounds), rounding: 'half-even' } }, [output]);
}

export function lowerSoftmax(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const shape = ctx.onnxShape(x.name);
  const rank = shape.length;
  const legacy = ctx.model.opset() < 13;
  let axis = node.attrs.int('axis', legacy ? 1 : -1);
  if (axis < -rank || axis >= rank) throw new NodeError(node.name, node.opType, `axis ${axis} is out of range for ${rank}-D input`);
  if (axis < 0) axis += rank;
  const output = resultSpec(y, 'onnx');

  if (axis === rank - 1) {
    const input = ctx.quantized(node, x.name, x.params, 'onnx');
    ctx.emit({ op: 'Softmax', name: node.name, inputs: [input], outputs: [], attrs: { beta: 1 } }, [output]);
    return;
  }
  if (legacy) {
    // Before opset 13 Softmax works on the input coerced to 2-D at `axis`.
    const input = ctx.quantized(node, x.name, x.params, 'onnx');
    const rows = elementCount(shape.slice(0, axis));
    const quant = ctx.tensor(input).quant;
    const [flat] = ctx.emit({ op: 'Reshape', name: `${node.name}_to_2d`, inputs: [input], outputs: [], attrs: { shape: [rows, elementCount(shape) / rows] } }, [{ name: `${node.name}_2d`, layout: 'onnx', dtype: 'int8', ...(quant ? { quant } : {}) }]);
    const [soft] = ctx.emit({ op: 'Softmax', name: node.name, inputs: [flat!], outputs: [], attrs: { beta: 1 } }, [{ name: `${node.name}_softmax_2d`, layout: 'onnx', dtype: 'int8', quant: output.quant! }]);
    ctx.emit({ op: 'Reshape', name: `${node.name}_from_2d`, inputs: [soft!], outputs: [], attrs: { shape } }, [output]);
    return;
  }
  if (rank === 4 && axis === 1) {
    const input = ctx.quantized(node, x.name, x.params, 'nhwc');
    ctx.emit({ op: 'Softmax', name: node.name, inputs: [input], outputs: [], attrs: { beta: 1 } }, [resultSpec(y, 'nhwc')]);
    return;
  }
  // Softmax over an inner axis: move it last, and back.
  const perm = [...shape.keys()].filter((i) => i !== axis).concat(axis);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const input = ctx.quantized(node, x.name, x.params, 'onnx');
  const quant = ctx.tensor(input).quant;
  const [moved] = ctx.emit({ op: 'Transpose', name: `${node.name}_axis_last`, inputs: [input], outputs: [], attrs: { perm } }, [{ name: `${node.name}_axis_last`, layout: 'onnx', dtype: 'int8', ...(quant ? { quant } : {}) }]);
  const [soft] = ctx.emit({ op: 'Softmax', name: node.name, inputs: [moved!], outputs: [], attrs: { beta: 1 } }, [{ name: `${node.name}_softmax`, layout: 'onnx', dtype: 'int8', quant: output.quant! }]);
  ctx.emit({ op: 'Transpose', name: `${node.name}_axis_back`, inputs: [soft!], outputs: [], attrs: { perm: inverse } }, [output]);
}

// ---------------------------------------------------------------------------------------------------------------
// Pooling and reductions

export function lowerPool(ctx: ConversionContext, node: OnnxNode, op: 'AveragePool2D' | 'MaxPool2D', x: QuantOperand, y: QuantResult, clamp?: RealClamp, channelsLast = false): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const shape = ctx.onnxShape(x.name);
  if (shape.length !== 4) throw new Unsupported(`${shape.length - 2}-D pooling (tinyedge supports 2-D)`);
  if (node.outputs[1]) throw new Unsupported('MaxPool with an Indices output');
  const { kernel, stride, dilation } = windowAttributes(node);
  if (dilation[0] !== 1 || dilation[1] !== 1) throw new Unsupported('dilated pooling');
  const spatial: [number, number] = channelsLast ? [shape[1]!, shape[2]!] : [shape[2]!, shape[3]!];
  const layout: Layout = channelsLast ? 'onnx' : 'nhwc';
  let padding = poolPadding(node, { input: spatial, kernel, stride, dilation });
  let input = ctx.quantized(node, x.name, x.params, layout);
  const inputQuant = ctx.tensor(input).quant!;

  if (op === 'AveragePool2D' && node.attrs.int('count_include_pad', 0) !== 0 && hasPadding(padding)) {
    // Padded taps count as real zeros: pad explicitly, then average over whole windows.
    const explicit = windowPadding(node, { input: spatial, kernel, stride, dilation });
    if (explicit.bottom !== padding.bottom || explicit.right !== padding.right) throw new Unsupported('AveragePool with both count_include_pad and ceil_mode');
    [input] = ctx.emit(
      { op: 'Pad', name: `${node.name}_pad`, inputs: [input], outputs: [], attrs: { before: [0, padding.top, padding.left, 0], after: [0, padding.bottom, padding.right, 0], value: inputQuant.zeroPoint[0]! } },
      [{ name: `${node.name}_padded`, layout, dtype: 'int8', quant: inputQuant }],
    ) as [string];
    padding = { top: 0, bottom: 0, left: 0, right: 0 };
  }
  // Pool kernels keep the input's quantization (as TFLite's do); other output parameters get a requantize after.
  const direct = y.params !== undefined && sameQuant(x.params, y.params);
  const poolOutput: OutputSpec = direct ? resultSpec(y, layout) : { name: `${node.name}_pooled`, layout, dtype: 'int8', quant: inputQuant };
  const poolClamp = direct ? quantizedClamp(y, poolOutput.quant, clamp) : { min: -128, max: 127 };
  const [pooled] = ctx.emit({ op, name: node.name, inputs: [input], outputs: [], attrs: { filter: kernel, stride, padding, clamp: poolClamp } }, [poolOutput]);
  if (!direct) requantizeTo(ctx, node, pooled!, y, layout, clamp);
}

/** GlobalAveragePool / QLinearGlobalAveragePool: a Mean over H and W keeping the dimensions. */
export function lowerGlobalAveragePool(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, channelsLast = false): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const shape = ctx.onnxShape(x.name);
  if (shape.length !== 4) throw new Unsupported(`global pooling of a ${shape.length}-D tensor (tinyedge supports 4-D)`);
  const layout: Layout = channelsLast ? 'onnx' : 'nhwc';
  const input = ctx.quantized(node, x.name, x.params, layout);
  ctx.emit({ op: 'Mean', name: node.name, inputs: [input], outputs: [], attrs: { axes: [1, 2], keepDims: true } }, [resultSpec(y, layout)]);
}

export function lowerReduceMean(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, axesGiven: number[] | undefined): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const shape = ctx.onnxShape(x.name);
  const rank = shape.length;
  const keepDims = node.attrs.int('keepdims', 1) !== 0;
  if ((axesGiven === undefined || axesGiven.length === 0) && node.attrs.int('noop_with_empty_axes', 0) !== 0) {
    throw new Unsupported('ReduceMean with noop_with_empty_axes and no axes');
  }
  const axes = (axesGiven && axesGiven.length > 0 ? axesGiven : [...shape.keys()]).map((a) => (a < 0 ? a + rank : a));
  if (axes.some((a) => a < 0 || a >= rank)) throw new NodeError(node.name, node.opType, `axes [${axesGiven?.join(', ')}] out of range for ${rank}-D input`);
  // Channels-last works when the result keeps 4 dims or the dims it keeps come out in ONNX order anyway.
  let layout: Layout = rank === 4 && ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  if (layout === 'nhwc' && !keepDims) {
    const kept = TO_NHWC.filter((a) => !axes.includes(a));
    if (!kept.every((a, i) => i === 0 || a > kept[i - 1]!)) layout = 'onnx';
  }
  const input = ctx.quantized(node, x.name, x.params, layout);
  const irAxes = axes.map((a) => irAxis(a, rank, layout)).sort((a, b) => a - b);
  ctx.emit({ op: 'Mean', name: node.name, inputs: [input], outputs: [], attrs: { axes: irAxes, keepDims } }, [resultSpec(y, keepDims ? layout : 'onnx')]);
}

// ---------------------------------------------------------------------------------------------------------------
// Data movement (no arithmetic; a requantize follows when the output parameters differ)

/** Reshape, Flatten, Squeeze, Unsqueeze: ONNX element order in, `shape` out. */
export function lowerReshape(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, shape: number[]): void {
  const input = ctx.quantized(node, x.name, x.params, 'onnx');
  const resolved = resolveReshape(ctx.tensor(input).shape, shape);
  if (!resolved) throw new NodeError(node.name, node.opType, `cannot reshape [${ctx.tensor(input).shape.join(', ')}] to [${shape.join(', ')}]`);
  movement(ctx, node, x, y, 'onnx', (output) => ctx.emit({ op: 'Reshape', name: node.name, inputs: [input], outputs: [], attrs: { shape: resolved } }, [output])[0]!);
}

export function lowerTranspose(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult): void {
  const rank = ctx.onnxShape(x.name).length;
  const perm = node.attrs.ints('perm') ?? [...Array(rank).keys()].reverse();
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  // An ONNX perm on a channels-last tensor composes with the layout: one IR Transpose does both.
  const irPerm = layout === 'nhwc' && rank === 4 ? perm.map((p) => TO_NCHW[p]!) : perm;
  if (x.params.axis !== undefined) throw new Unsupported('Transpose of a per-channel quantized activation');
  movement(ctx, node, x, y, 'onnx', (output) => ctx.emit({ op: 'Transpose', name: node.name, inputs: [input], outputs: [], attrs: { perm: irPerm } }, [output])[0]!);
}

export function lowerConcat(ctx: ConversionContext, node: OnnxNode, xs: QuantOperand[], y: QuantResult): void {
  if (!y.params) throw new Unsupported('Concat without output quantization');
  for (const x of xs) {
    requireEightBit(x.params, 'input');
    checkPerTensor(x.params, 'input');
  }
  const rank = ctx.onnxShape(xs[0]!.name).length;
  let axis = node.attrs.int('axis');
  if (axis === undefined) throw new NodeError(node.name, node.opType, 'has no axis attribute');
  if (axis < -rank || axis >= rank) throw new NodeError(node.name, node.opType, `axis ${axis} is out of range for ${rank}-D inputs`);
  if (axis < 0) axis += rank;
  const layout = broadcastLayout(ctx, xs.map((x) => x.name));
  const inputs = xs.map((x) => ctx.quantized(node, x.name, x.params, layout));
  ctx.emit({ op: 'Concat', name: node.name, inputs, outputs: [], attrs: { axis: irAxis(axis, rank, layout) } }, [resultSpec(y, layout)]);
}

export function lowerPad(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, pads: number[], value: number): void {
  requireEightBit(x.params, 'input');
  checkPerTensor(x.params, 'input');
  const rank = ctx.onnxShape(x.name).length;
  if (pads.length !== 2 * rank) throw new NodeError(node.name, node.opType, `${pads.length} pads for a ${rank}-D input`);
  if (pads.some((p) => p < 0)) throw new Unsupported('negative pads (cropping)');
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  const quant = ctx.tensor(input).quant!;
  const reorder = (values: number[]): number[] => (layout === 'nhwc' && rank === 4 ? permute(values, TO_NHWC) : values);
  const before = reorder(pads.slice(0, rank));
  const after = reorder(pads.slice(rank));
  const padValue = quantizeReal(value, quant);
  movement(ctx, node, x, y, layout, (output) => ctx.emit({ op: 'Pad', name: node.name, inputs: [input], outputs: [], attrs: { before, after, value: padValue } }, [output])[0]!);
}

/**
 * Emit a data-movement node whose output keeps the input's quantization; when the result's parameters differ
 * (DequantizeLinear and QuantizeLinear around it disagree) a requantize follows.
 */
function movement(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, layout: Layout, emit: (output: OutputSpec) => string): void {
  if (!y.params || sameQuant(x.params, y.params)) {
    const quant = y.params ? irQuantFor(y.params, ctx, x.name, layout) : undefined;
    emit({ onnx: y.name, layout, dtype: 'int8', onnxDataType: (y.params ?? x.params).dataType, ...(quant ? { quant } : {}) });
    return;
  }
  const inputQuant = irQuantFor(x.params, ctx, x.name, layout);
  const moved = emit({ name: `${node.name}_moved`, layout, dtype: 'int8', ...(inputQuant ? { quant: inputQuant } : {}) });
  requantizeTo(ctx, node, moved, y, layout);
}

function irQuantFor(params: OnnxQuant, ctx: ConversionContext, onnxName: string, layout: Layout): Quantization {
  return irQuant(params, params.axis === undefined ? undefined : irAxis(params.axis, ctx.onnxShape(onnxName).length, layout));
}

// ---------------------------------------------------------------------------------------------------------------
// Quantize / Dequantize

/** float -> int8 (QuantizeLinear of a float tensor): round half to even, as ONNX specifies. */
export function lowerQuantize(ctx: ConversionContext, node: OnnxNode, xFloat: string, y: QuantResult): void {
  const layout = ctx.nativeLayout(xFloat);
  const input = ctx.inLayout(xFloat, layout);
  if (ctx.tensor(input).dtype !== 'float32') throw new NodeError(node.name, node.opType, `input '${xFloat}' is ${ctx.tensor(input).dtype}, expected float32`);
  const quant = irQuant(y.params!, y.params!.axis === undefined ? undefined : irAxis(y.params!.axis, ctx.onnxShape(xFloat).length, layout));
  ctx.emit({ op: 'Quantize', name: node.name, inputs: [input], outputs: [], attrs: { clamp: { min: -128, max: 127 }, rounding: 'half-even' } }, [{ onnx: y.name, layout, dtype: 'int8', quant, onnxDataType: y.params!.dataType }]);
}

/** int -> int with other parameters (DequantizeLinear followed by QuantizeLinear). */
export function lowerRequantize(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult): void {
  requireEightBit(x.params, 'input');
  const layout = ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx';
  const input = ctx.quantized(node, x.name, x.params, layout);
  requantizeTo(ctx, node, input, y, layout, undefined, node.name);
}

export function lowerDequantize(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, yFloat: string, layout?: Layout): void {
  const chosen = layout ?? (ctx.has(x.name) ? ctx.nativeLayout(x.name) : 'onnx');
  const input = ctx.quantized(node, x.name, x.params, chosen);
  ctx.emit({ op: 'Dequantize', name: node.name, inputs: [input], outputs: [], attrs: {} }, [{ onnx: yFloat, layout: chosen, dtype: 'float32' }]);
}

function requantizeTo(ctx: ConversionContext, node: OnnxNode, input: string, y: QuantResult, layout: Layout, clamp?: RealClamp, name = `${node.name}_requantize`): void {
  const output = resultSpec(y, layout, ctx.tensor(input).shape.length);
  ctx.emit({ op: 'Quantize', name, inputs: [input], outputs: [], attrs: { clamp: quantizedClamp(y, output.quant, clamp), rounding: 'half-even' } }, [output]);
}

// ---------------------------------------------------------------------------------------------------------------
// Results and clamps

function resultSpec(y: QuantResult, layout: Layout, rank?: number): OutputSpec {
  if (!y.params) return { onnx: y.name, layout, dtype: 'int32', onnxDataType: OnnxDataType.INT32 };
  if (y.params.axis !== undefined && rank === undefined) throw new Unsupported('per-channel quantized output activations');
  requireEightBit(y.params, 'output');
  const quant = irQuant(y.params, y.params.axis === undefined ? undefined : irAxis(y.params.axis, rank!, layout));
  return { onnx: y.name, layout, dtype: 'int8', quant, onnxDataType: y.params.dataType };
}

/** A fused activation's real bounds in the output's int8 domain; int32 results have no clamp but int32's range. */
function quantizedClamp(y: QuantResult, quant: Quantization | undefined, clamp?: RealClamp): Clamp {
  if (!y.params || !quant) return { min: INT32_MIN, max: INT32_MAX };
  if (!clamp) return { min: -128, max: 127 };
  const min = quantizeReal(clamp.min, quant);
  const max = quantizeReal(clamp.max, quant);
  return { min, max: Math.max(min, max) };
}

function checkPerTensor(params: OnnxQuant, what: string): void {
  if (params.scale.length > 1) throw new Unsupported(`per-channel quantized ${what} activation`);
}

function saturateInt32(value: number): number {
  return Math.min(INT32_MAX, Math.max(INT32_MIN, value));
}
