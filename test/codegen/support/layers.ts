/**
 * Random single-op layers for the code generation tests, and the merging of many of them into one graph so that
 * one compiled program checks them all. Every layer is drawn from a seeded generator: a failure names its seed.
 */
import type { Clamp, DataType, Graph, Node, Padding2D, Quantization, Tensor, TensorData } from '../../../src/ir/types.js';
import { Random } from './random.js';

export interface Layer {
  /** Nodes in execution order (usually one; a Reshape chain has several). */
  nodes: Node[];
  tensors: Tensor[];
  /** Values of the layer's run-time inputs, by tensor name. */
  inputs: Map<string, TensorData>;
  /** Tensors the layer's result is read from. */
  outputs: string[];
  describe: string;
}

export function quant(scale: number | number[], zeroPoint: number | number[] = 0, axis = 0): Quantization {
  const scales = (Array.isArray(scale) ? scale : [scale]).map(Math.fround);
  const zeroPoints = Array.isArray(zeroPoint) ? zeroPoint : [zeroPoint];
  return { scale: scales, zeroPoint: zeroPoints, axis };
}

export function tensor(name: string, shape: number[], dtype: DataType, q?: Quantization, data?: TensorData): Tensor {
  return { name, shape, dtype, ...(q ? { quant: q } : {}), ...(data ? { data } : {}) };
}

const NO_CLAMP: Clamp = { min: -128, max: 127 };

/** Merges layers into one graph: their tensors, their nodes in order, every run-time input and output at the boundary. */
export function mergeLayers(name: string, layers: readonly Layer[]): { graph: Graph; inputs: TensorData[] } {
  const tensors = new Map<string, Tensor>();
  const nodes: Node[] = [];
  const graphInputs: Graph['inputs'] = [];
  const inputData: TensorData[] = [];
  const graphOutputs: Graph['outputs'] = [];
  for (const layer of layers) {
    for (const t of layer.tensors) tensors.set(t.name, t);
    nodes.push(...layer.nodes);
    for (const [tensorName, data] of layer.inputs) {
      graphInputs.push({ tensor: tensorName, externalDtype: tensors.get(tensorName)!.dtype, name: tensorName });
      inputData.push(data);
    }
    for (const out of layer.outputs) graphOutputs.push({ tensor: out, externalDtype: tensors.get(out)!.dtype, name: out });
  }
  return { graph: { name, format: 'tflite', tensors, nodes, inputs: graphInputs, outputs: graphOutputs, unsupported: [] }, inputs: inputData };
}

/** A random scale around `around`, spread over a factor of 8. */
function scaleNear(random: Random, around: number): number {
  return Math.fround(around * 2 ** (random.next() * 6 - 3));
}

function randomClamp(random: Random, zeroPoint: number): Clamp {
  const kind = random.int(0, 3);
  if (kind === 0) return { min: Math.max(-128, zeroPoint), max: 127 }; // ReLU
  if (kind === 1) return { min: Math.max(-128, zeroPoint), max: Math.min(127, zeroPoint + random.int(20, 120)) }; // ReLU6-like
  return NO_CLAMP;
}

function randomPadding(random: Random, max: number): Padding2D {
  return { top: random.int(0, max), bottom: random.int(0, max), left: random.int(0, max), right: random.int(0, max) };
}

function convOutputSize(size: number, before: number, after: number, kernel: number, stride: number, dilation: number): number {
  const span = (kernel - 1) * dilation + 1;
  return Math.floor((size + before + after - span) / stride) + 1;
}

export type LayerKind =
  | 'conv2d'
  | 'pointwise'
  | 'depthwise'
  | 'fully-connected'
  | 'add'
  | 'sub'
  | 'mul'
  | 'average-pool'
  | 'max-pool'
  | 'mean'
  | 'softmax'
  | 'unary'
  | 'quantize'
  | 'quantize-float'
  | 'dequantize'
  | 'concat'
  | 'pad'
  | 'transpose'
  | 'batch-matmul'
  | 'reshape-chain';

export const LAYER_KINDS: LayerKind[] = [
  'conv2d', 'pointwise', 'depthwise', 'fully-connected', 'add', 'sub', 'mul', 'average-pool', 'max-pool', 'mean', 'softmax',
  'unary', 'quantize', 'quantize-float', 'dequantize', 'concat', 'pad', 'transpose', 'batch-matmul', 'reshape-chain',
];

/** One random layer of `kind`; names are prefixed with `id` so layers can be merged. */
export function randomLayer(kind: LayerKind, seed: number, id: string): Layer {
  const random = new Random(seed);
  const n = (s: string) => `${id}_${s}`;
  switch (kind) {
    case 'conv2d':
    case 'pointwise':
      return convLayer(random, n, kind === 'pointwise');
    case 'depthwise':
      return depthwiseLayer(random, n);
    case 'fully-connected':
      return fullyConnectedLayer(random, n);
    case 'add':
    case 'sub':
    case 'mul':
      return elementwiseLayer(random, n, kind === 'add' ? 'Add' : kind === 'sub' ? 'Sub' : 'Mul');
    case 'average-pool':
    case 'max-pool':
      return poolLayer(random, n, kind === 'average-pool' ? 'AveragePool2D' : 'MaxPool2D');
    case 'mean':
      return meanLayer(random, n);
    case 'softmax':
      return softmaxLayer(random, n);
    case 'unary':
      return unaryLayer(random, n);
    case 'quantize':
      return requantizeLayer(random, n);
    case 'quantize-float':
      return floatQuantizeLayer(random, n);
    case 'dequantize':
      return dequantizeLayer(random, n);
    case 'concat':
      return concatLayer(random, n);
    case 'pad':
      return padLayer(random, n);
    case 'transpose':
      return transposeLayer(random, n);
    case 'batch-matmul':
      return batchMatMulLayer(random, n);
    case 'reshape-chain':
      return reshapeChainLayer(random, n);
  }
}

type Namer = (s: string) => string;

function int8Input(random: Random, name: string, shape: number[], q: Quantization): { tensor: Tensor; data: Int8Array } {
  const count = shape.reduce((a, b) => a * b, 1);
  return { tensor: tensor(name, shape, 'int8', q), data: random.int8Array(count) };
}

function convLayer(random: Random, n: Namer, pointwise: boolean): Layer {
  for (;;) {
    const batches = random.int(1, 2);
    const groups = pointwise ? 1 : random.pick([1, 1, 1, 2, 3]);
    const inCGroup = random.int(1, 5);
    const outCGroup = random.int(1, 4);
    const inC = inCGroup * groups;
    const outC = outCGroup * groups;
    const [kH, kW] = pointwise ? [1, 1] : [random.int(1, 4), random.int(1, 4)];
    const stride: [number, number] = pointwise ? [1, 1] : [random.int(1, 3), random.int(1, 3)];
    const dilation: [number, number] = pointwise ? [1, 1] : [random.int(1, 2), random.int(1, 2)];
    const padding = pointwise ? { top: 0, bottom: 0, left: 0, right: 0 } : randomPadding(random, 2);
    const inH = random.int(1, 9);
    const inW = random.int(1, 9);
    const outH = convOutputSize(inH, padding.top, padding.bottom, kH, stride[0], dilation[0]);
    const outW = convOutputSize(inW, padding.left, padding.right, kW, stride[1], dilation[1]);
    if (outH < 1 || outW < 1) continue;
    const int32Output = random.bool(0.2);
    const inputScale = scaleNear(random, 0.05);
    const inputZero = random.int(-128, 127);
    const perChannel = random.bool(0.6);
    const weightScales = perChannel ? Array.from({ length: outC }, () => scaleNear(random, 0.01)) : [scaleNear(random, 0.01)];
    // ONNX-style weight zero points now and then (TFLite's are all 0).
    const weightZero = random.bool(0.15) ? (perChannel ? weightScales.map(() => random.int(-20, 20)) : [random.int(-20, 20)]) : weightScales.map(() => 0);
    const patch = kH * kW * inCGroup;
    const outputScale = Math.fround(inputScale * 0.01 * Math.sqrt(patch) * 100 * 2 ** (random.next() * 2 - 1));
    const outputZero = random.int(-128, 127);
    const input = int8Input(random, n('x'), [batches, inH, inW, inC], quant(inputScale, inputZero));
    const weights = tensor(n('w'), [outC, kH, kW, inCGroup], 'int8', quant(weightScales, weightZero, 0), random.int8Array(outC * patch, -127, 127));
    const hasBias = random.bool(0.8);
    const bias = tensor(n('b'), [outC], 'int32', quant(weightScales.map((s) => s * inputScale), 0), Int32Array.from({ length: outC }, () => random.int(-3000, 3000)));
    const output = int32Output
      ? tensor(n('y'), [batches, outH, outW, outC], 'int32')
      : tensor(n('y'), [batches, outH, outW, outC], 'int8', quant(outputScale, outputZero));
    const node: Node = {
      op: 'Conv2D',
      name: n('conv'),
      inputs: [input.tensor.name, weights.name, hasBias ? bias.name : ''],
      outputs: [output.name],
      attrs: { stride, dilation, padding, groups, clamp: int32Output ? NO_CLAMP : randomClamp(random, outputZero) },
    };
    return {
      nodes: [node],
      tensors: [input.tensor, weights, bias, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `Conv2D ${kH}x${kW} s${stride} d${dilation} g${groups} [${input.tensor.shape}] -> [${output.shape}]`,
    };
  }
}

function depthwiseLayer(random: Random, n: Namer): Layer {
  for (;;) {
    const batches = random.int(1, 2);
    const inC = random.int(1, 6);
    const multiplier = random.pick([1, 1, 2, 3]);
    const outC = inC * multiplier;
    const [kH, kW] = [random.int(1, 4), random.int(1, 4)];
    const stride: [number, number] = [random.int(1, 3), random.int(1, 3)];
    const dilation: [number, number] = [random.int(1, 2), random.int(1, 2)];
    const padding = randomPadding(random, 2);
    const inH = random.int(1, 9);
    const inW = random.int(1, 9);
    const outH = convOutputSize(inH, padding.top, padding.bottom, kH, stride[0], dilation[0]);
    const outW = convOutputSize(inW, padding.left, padding.right, kW, stride[1], dilation[1]);
    if (outH < 1 || outW < 1) continue;
    const inputScale = scaleNear(random, 0.05);
    const inputZero = random.int(-128, 127);
    const perChannel = random.bool(0.6);
    const weightScales = perChannel ? Array.from({ length: outC }, () => scaleNear(random, 0.01)) : [scaleNear(random, 0.01)];
    const weightZero = random.bool(0.15) ? weightScales.map(() => random.int(-20, 20)) : weightScales.map(() => 0);
    const outputScale = Math.fround(inputScale * 0.01 * Math.sqrt(kH * kW) * 100 * 2 ** (random.next() * 2 - 1));
    const outputZero = random.int(-128, 127);
    const input = int8Input(random, n('x'), [batches, inH, inW, inC], quant(inputScale, inputZero));
    const weights = tensor(n('w'), [1, kH, kW, outC], 'int8', quant(weightScales, weightZero, 3), random.int8Array(kH * kW * outC, -127, 127));
    const bias = tensor(n('b'), [outC], 'int32', undefined, Int32Array.from({ length: outC }, () => random.int(-3000, 3000)));
    const int32Output = random.bool(0.2);
    const output = int32Output
      ? tensor(n('y'), [batches, outH, outW, outC], 'int32')
      : tensor(n('y'), [batches, outH, outW, outC], 'int8', quant(outputScale, outputZero));
    const node: Node = {
      op: 'DepthwiseConv2D',
      name: n('dw'),
      inputs: [input.tensor.name, weights.name, random.bool(0.8) ? bias.name : ''],
      outputs: [output.name],
      attrs: { stride, dilation, padding, depthMultiplier: multiplier, clamp: int32Output ? NO_CLAMP : randomClamp(random, outputZero) },
    };
    return {
      nodes: [node],
      tensors: [input.tensor, weights, bias, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `DepthwiseConv2D ${kH}x${kW} s${stride} d${dilation} m${multiplier} [${input.tensor.shape}] -> [${output.shape}]`,
    };
  }
}

function fullyConnectedLayer(random: Random, n: Namer): Layer {
  const batches = random.int(1, 3);
  const depth = random.int(1, 40);
  const outC = random.int(1, 12);
  const inputShape = random.bool() ? [batches, depth] : [batches, 1, 1, depth];
  const inputScale = scaleNear(random, 0.05);
  const perChannel = random.bool(0.5);
  const weightScales = perChannel ? Array.from({ length: outC }, () => scaleNear(random, 0.01)) : [scaleNear(random, 0.01)];
  const weightZero = random.bool(0.15) ? weightScales.map(() => random.int(-20, 20)) : weightScales.map(() => 0);
  const outputScale = Math.fround(inputScale * 0.01 * Math.sqrt(depth) * 100 * 2 ** (random.next() * 2 - 1));
  const outputZero = random.int(-128, 127);
  const input = int8Input(random, n('x'), inputShape, quant(inputScale, random.int(-128, 127)));
  const weights = tensor(n('w'), [outC, depth], 'int8', quant(weightScales, weightZero, 0), random.int8Array(outC * depth, -127, 127));
  const bias = tensor(n('b'), [outC], 'int32', undefined, Int32Array.from({ length: outC }, () => random.int(-3000, 3000)));
  const int32Output = random.bool(0.3);
  const output = int32Output ? tensor(n('y'), [batches, outC], 'int32') : tensor(n('y'), [batches, outC], 'int8', quant(outputScale, outputZero));
  const node: Node = {
    op: 'FullyConnected',
    name: n('fc'),
    inputs: [input.tensor.name, weights.name, random.bool(0.8) ? bias.name : ''],
    outputs: [output.name],
    attrs: { clamp: int32Output ? NO_CLAMP : randomClamp(random, outputZero), keepNumDims: false },
  };
  return {
    nodes: [node],
    tensors: [input.tensor, weights, bias, output],
    inputs: new Map([[input.tensor.name, input.data]]),
    outputs: [output.name],
    describe: `FullyConnected [${inputShape}] x [${outC},${depth}]`,
  };
}

/** An output shape and two shapes that broadcast to it. */
function broadcastShapes(random: Random): [number[], number[], number[]] {
  const rank = random.int(1, 4);
  const out = Array.from({ length: rank }, () => random.int(1, 5));
  const operand = (): number[] => {
    const dropped = random.int(0, rank - 1);
    return out.slice(random.bool(0.3) ? dropped : 0).map((d) => (random.bool(0.3) ? 1 : d));
  };
  return [out, random.bool(0.4) ? [...out] : operand(), random.bool(0.4) ? [...out] : operand()];
}

function elementwiseLayer(random: Random, n: Namer, op: 'Add' | 'Sub' | 'Mul'): Layer {
  const [outShape, shapeA, shapeB] = broadcastShapes(random);
  const scaleA = scaleNear(random, 0.05);
  const scaleB = random.bool(0.3) ? scaleA : scaleNear(random, 0.05);
  const outScale = op === 'Mul' ? Math.fround(scaleA * scaleB * 2 ** (random.next() * 8 + 2)) : scaleNear(random, Math.max(scaleA, scaleB) * 1.5);
  const outputZero = random.int(-128, 127);
  const a = int8Input(random, n('a'), shapeA, quant(scaleA, random.int(-128, 127)));
  const b = int8Input(random, n('b'), shapeB, quant(scaleB, random.int(-128, 127)));
  const constantB = random.bool(0.2);
  if (constantB) b.tensor.data = b.data;
  const output = tensor(n('y'), outShape, 'int8', quant(outScale, outputZero));
  const sameInput = !constantB && random.bool(0.1) && shapeA.join() === shapeB.join();
  const node: Node = {
    op,
    name: n(op.toLowerCase()),
    inputs: [a.tensor.name, sameInput ? a.tensor.name : b.tensor.name],
    outputs: [output.name],
    attrs: { clamp: randomClamp(random, outputZero) },
  };
  const inputs = new Map<string, TensorData>([[a.tensor.name, a.data]]);
  if (!constantB && !sameInput) inputs.set(b.tensor.name, b.data);
  return {
    nodes: [node],
    tensors: [a.tensor, b.tensor, output],
    inputs,
    outputs: [output.name],
    describe: `${op} [${shapeA}] (+) [${shapeB}]${constantB ? ' (constant)' : ''}${sameInput ? ' (same input twice)' : ''} -> [${outShape}]`,
  };
}

function poolLayer(random: Random, n: Namer, op: 'AveragePool2D' | 'MaxPool2D'): Layer {
  for (;;) {
    const batches = random.int(1, 2);
    const depth = random.int(1, 6);
    const filter: [number, number] = [random.int(1, 4), random.int(1, 4)];
    const stride: [number, number] = [random.int(1, 3), random.int(1, 3)];
    const padding = { top: random.int(0, filter[0] - 1), bottom: random.int(0, filter[0] - 1), left: random.int(0, filter[1] - 1), right: random.int(0, filter[1] - 1) };
    const inH = random.int(1, 10);
    const inW = random.int(1, 10);
    const outH = convOutputSize(inH, padding.top, padding.bottom, filter[0], stride[0], 1);
    const outW = convOutputSize(inW, padding.left, padding.right, filter[1], stride[1], 1);
    if (outH < 1 || outW < 1) continue;
    // Every window must reach the image (the reference rejects empty windows).
    let empty = false;
    for (let oy = 0; oy < outH; oy++) if (oy * stride[0] - padding.top >= inH) empty = true;
    for (let ox = 0; ox < outW; ox++) if (ox * stride[1] - padding.left >= inW) empty = true;
    if (empty) continue;
    const q = quant(scaleNear(random, 0.05), random.int(-128, 127));
    const input = int8Input(random, n('x'), [batches, inH, inW, depth], q);
    const output = tensor(n('y'), [batches, outH, outW, depth], 'int8', q);
    const node: Node = {
      op,
      name: n('pool'),
      inputs: [input.tensor.name],
      outputs: [output.name],
      attrs: { filter, stride, padding, clamp: randomClamp(random, q.zeroPoint[0]!) },
    };
    return {
      nodes: [node],
      tensors: [input.tensor, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `${op} ${filter} s${stride} [${input.tensor.shape}] -> [${output.shape}]`,
    };
  }
}

function meanLayer(random: Random, n: Namer): Layer {
  const rank = random.int(2, 4);
  const shape = Array.from({ length: rank }, () => random.int(1, 6));
  const axes = [...new Set(Array.from({ length: random.int(1, rank) }, () => random.int(0, rank - 1)))];
  const keepDims = random.bool();
  const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
  const inQ = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const outQ = random.bool(0.4) ? inQ : quant(scaleNear(random, 0.05), random.int(-128, 127));
  const input = int8Input(random, n('x'), shape, inQ);
  const output = tensor(n('y'), outShape.length > 0 ? outShape : [1], 'int8', outQ);
  const node: Node = {
    op: 'Mean',
    name: n('mean'),
    inputs: [input.tensor.name],
    outputs: [output.name],
    attrs: { axes: axes.map((a) => (random.bool(0.2) ? a - rank : a)), keepDims },
  };
  return {
    nodes: [node],
    tensors: [input.tensor, output],
    inputs: new Map([[input.tensor.name, input.data]]),
    outputs: [output.name],
    describe: `Mean [${shape}] axes ${axes} ${inQ === outQ ? '(same quantization)' : ''}`,
  };
}

function softmaxLayer(random: Random, n: Namer): Layer {
  const shape = random.bool() ? [random.int(1, 3), random.int(1, 40)] : [1, random.int(1, 3), random.int(1, 3), random.int(1, 20)];
  const input = int8Input(random, n('x'), shape, quant(scaleNear(random, 0.1), random.int(-128, 127)));
  const output = tensor(n('y'), shape, 'int8', quant(1 / 256, -128));
  const node: Node = {
    op: 'Softmax',
    name: n('softmax'),
    inputs: [input.tensor.name],
    outputs: [output.name],
    attrs: { beta: random.pick([1, 1, 0.5, 2]) },
  };
  return { nodes: [node], tensors: [input.tensor, output], inputs: new Map([[input.tensor.name, input.data]]), outputs: [output.name], describe: `Softmax [${shape}]` };
}

function unaryLayer(random: Random, n: Namer): Layer {
  const op = random.pick(['Logistic', 'Tanh', 'HardSwish', 'Neg', 'Relu', 'Relu6', 'LeakyRelu'] as const);
  const shape = [random.int(1, 3), random.int(1, 30)];
  const inQ = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const outQ =
    op === 'Logistic' && random.bool(0.7)
      ? quant(1 / 256, -128)
      : op === 'Tanh' && random.bool(0.7)
        ? quant(1 / 128, 0)
        : op === 'Relu6' && random.bool(0.3)
          ? inQ
          : quant(scaleNear(random, 0.05), random.int(-128, 127));
  const input = int8Input(random, n('x'), shape, inQ);
  const output = tensor(n('y'), shape, 'int8', outQ);
  const node: Node =
    op === 'LeakyRelu'
      ? { op, name: n('leaky'), inputs: [input.tensor.name], outputs: [output.name], attrs: { alpha: random.pick([0.1, 0.2, 0.01]) } }
      : { op, name: n('unary'), inputs: [input.tensor.name], outputs: [output.name], attrs: {} };
  return { nodes: [node], tensors: [input.tensor, output], inputs: new Map([[input.tensor.name, input.data]]), outputs: [output.name], describe: `${op} [${shape}]` };
}

function requantizeLayer(random: Random, n: Namer): Layer {
  const shape = [random.int(1, 40)];
  const input = int8Input(random, n('x'), shape, quant(scaleNear(random, 0.05), random.int(-128, 127)));
  const output = tensor(n('y'), shape, 'int8', quant(scaleNear(random, 0.05), random.int(-128, 127)));
  const node: Node = { op: 'Quantize', name: n('requantize'), inputs: [input.tensor.name], outputs: [output.name], attrs: { clamp: NO_CLAMP, rounding: 'half-away' } };
  return { nodes: [node], tensors: [input.tensor, output], inputs: new Map([[input.tensor.name, input.data]]), outputs: [output.name], describe: `Quantize int8 -> int8 [${shape}]` };
}

function floatQuantizeLayer(random: Random, n: Namer): Layer {
  const count = random.int(1, 40);
  const scale = random.bool() ? 2 ** -random.int(1, 8) : scaleNear(random, 0.05);
  const outputDtype = random.pick(['int8', 'int8', 'uint8', 'int16'] as const);
  const zero = outputDtype === 'uint8' ? random.int(0, 255) : outputDtype === 'int16' ? random.int(-1000, 1000) : random.int(-128, 127);
  // Exact halves of the scale test the tie rounding; a few extremes test saturation.
  const data = Float32Array.from({ length: count }, () => {
    const pick = random.int(0, 9);
    if (pick === 0) return (random.int(-300, 300) + 0.5) * scale;
    if (pick === 1) return random.pick([1e9, -1e9, 0, -0]);
    return (random.next() * 2 - 1) * 300 * scale;
  });
  const input = tensor(n('x'), [count], 'float32');
  const output = tensor(n('y'), [count], outputDtype, quant(scale, zero));
  const node: Node = { op: 'Quantize', name: n('quantize'), inputs: [input.name], outputs: [output.name], attrs: { clamp: { min: -32768, max: 32767 }, rounding: random.pick(['half-away', 'half-even'] as const) } };
  return { nodes: [node], tensors: [input, output], inputs: new Map([[input.name, data]]), outputs: [output.name], describe: `Quantize float32 -> ${outputDtype} [${count}]` };
}

function dequantizeLayer(random: Random, n: Namer): Layer {
  const shape = [random.int(1, 40)];
  const input = int8Input(random, n('x'), shape, quant(scaleNear(random, 0.05), random.int(-128, 127)));
  const output = tensor(n('y'), shape, 'float32');
  const node: Node = { op: 'Dequantize', name: n('dequantize'), inputs: [input.tensor.name], outputs: [output.name], attrs: {} };
  return { nodes: [node], tensors: [input.tensor, output], inputs: new Map([[input.tensor.name, input.data]]), outputs: [output.name], describe: `Dequantize [${shape}]` };
}

function concatLayer(random: Random, n: Namer): Layer {
  const rank = random.int(1, 4);
  const base = Array.from({ length: rank }, () => random.int(1, 4));
  const axis = random.int(0, rank - 1);
  const count = random.int(1, 3);
  const outQ = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const parts = Array.from({ length: count }, (_, i) => {
    const shape = base.map((d, a) => (a === axis ? random.int(1, 3) : d));
    const q = random.bool(0.5) ? outQ : quant(scaleNear(random, 0.05), random.int(-128, 127));
    return int8Input(random, n(`x${i}`), shape, q);
  });
  const outShape = base.map((d, a) => (a === axis ? parts.reduce((s, p) => s + p.tensor.shape[a]!, 0) : d));
  const output = tensor(n('y'), outShape, 'int8', outQ);
  const node: Node = {
    op: 'Concat',
    name: n('concat'),
    inputs: parts.map((p) => p.tensor.name),
    outputs: [output.name],
    attrs: { axis: random.bool(0.2) ? axis - rank : axis },
  };
  return {
    nodes: [node],
    tensors: [...parts.map((p) => p.tensor), output],
    inputs: new Map(parts.map((p) => [p.tensor.name, p.data])),
    outputs: [output.name],
    describe: `Concat ${count} inputs axis ${axis} -> [${outShape}]`,
  };
}

function padLayer(random: Random, n: Namer): Layer {
  for (;;) {
    const rank = random.int(1, 4);
    const shape = Array.from({ length: rank }, () => random.int(1, 5));
    const before = shape.map(() => random.int(-1, 2));
    const after = shape.map(() => random.int(-1, 2));
    const outShape = shape.map((d, i) => d + before[i]! + after[i]!);
    if (outShape.some((d) => d < 1)) continue;
    const q = quant(scaleNear(random, 0.05), random.int(-128, 127));
    const input = int8Input(random, n('x'), shape, q);
    const output = tensor(n('y'), outShape, 'int8', q);
    const node: Node = {
      op: 'Pad',
      name: n('pad'),
      inputs: [input.tensor.name],
      outputs: [output.name],
      attrs: { before, after, value: random.bool(0.7) ? q.zeroPoint[0]! : random.int(-128, 127) },
    };
    return {
      nodes: [node],
      tensors: [input.tensor, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `Pad [${shape}] by [${before}] / [${after}]`,
    };
  }
}

function transposeLayer(random: Random, n: Namer): Layer {
  const rank = random.int(1, 5);
  const shape = Array.from({ length: rank }, () => random.int(1, 4));
  const perm = Array.from({ length: rank }, (_, i) => i);
  for (let i = rank - 1; i > 0; i--) {
    const j = random.int(0, i);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const q = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const input = int8Input(random, n('x'), shape, q);
  const output = tensor(n('y'), perm.map((p) => shape[p]!), 'int8', q);
  const node: Node = { op: 'Transpose', name: n('transpose'), inputs: [input.tensor.name], outputs: [output.name], attrs: { perm } };
  return { nodes: [node], tensors: [input.tensor, output], inputs: new Map([[input.tensor.name, input.data]]), outputs: [output.name], describe: `Transpose [${shape}] perm ${perm}` };
}

function batchMatMulLayer(random: Random, n: Namer): Layer {
  const m = random.int(1, 5);
  const k = random.int(1, 12);
  const cols = random.int(1, 5);
  const batch = Array.from({ length: random.int(0, 2) }, () => random.int(1, 3));
  const lhsBatch = batch.map((d) => (random.bool(0.3) ? 1 : d));
  const rhsBatch = batch.slice(random.int(0, batch.length)).map((d) => (random.bool(0.3) ? 1 : d));
  const int32Output = random.bool(0.15);
  const lq = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const rq = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const lhs = int8Input(random, n('a'), [...lhsBatch, m, k], lq);
  const rhs = int8Input(random, n('b'), [...rhsBatch, k, cols], rq);
  const outZero = random.int(-128, 127);
  const output = int32Output
    ? tensor(n('y'), [...batch, m, cols], 'int32')
    : tensor(n('y'), [...batch, m, cols], 'int8', quant(Math.fround(lq.scale[0]! * rq.scale[0]! * Math.sqrt(k) * 150), outZero));
  const node: Node = { op: 'BatchMatMul', name: n('matmul'), inputs: [lhs.tensor.name, rhs.tensor.name], outputs: [output.name], attrs: { clamp: NO_CLAMP } };
  return {
    nodes: [node],
    tensors: [lhs.tensor, rhs.tensor, output],
    inputs: new Map([[lhs.tensor.name, lhs.data], [rhs.tensor.name, rhs.data]]),
    outputs: [output.name],
    describe: `BatchMatMul [${lhs.tensor.shape}] x [${rhs.tensor.shape}]`,
  };
}

/** Reshape -> Relu -> Reshape: aliases on both sides of a kernel, the last one a graph output. */
function reshapeChainLayer(random: Random, n: Namer): Layer {
  const a = random.int(1, 6);
  const b = random.int(1, 6);
  const q = quant(scaleNear(random, 0.05), random.int(-128, 127));
  const input = int8Input(random, n('x'), [1, a, b], q);
  const flat = tensor(n('flat'), [a * b], 'int8', q);
  const relu = tensor(n('relu'), [a * b], 'int8', q);
  const output = tensor(n('y'), [a, b], 'int8', q);
  return {
    nodes: [
      { op: 'Reshape', name: n('reshape1'), inputs: [input.tensor.name], outputs: [flat.name], attrs: { shape: [a * b] } },
      { op: 'Relu', name: n('relu'), inputs: [flat.name], outputs: [relu.name], attrs: {} },
      { op: 'Reshape', name: n('reshape2'), inputs: [relu.name], outputs: [output.name], attrs: { shape: [a, b] } },
    ],
    tensors: [input.tensor, flat, relu, output],
    inputs: new Map([[input.tensor.name, input.data]]),
    outputs: [output.name],
    describe: `Reshape -> Relu -> Reshape [${a},${b}]`,
  };
}
