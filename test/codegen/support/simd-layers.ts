/**
 * Random layers shaped for the DSP kernels: realistic channel counts (multiples of 4 and not), enough pixels and
 * output channels to fill whole blocks and leave tails, kernels whose rows do and do not make whole groups of 4,
 * padding on every side, and output scales that put the requantization in its fast form, its exact form, or both.
 * Every layer is seeded; merged with mergeLayers so one emulator image checks a whole batch.
 */
import type { Clamp, Node, Padding2D, Tensor, TensorData } from '../../../src/ir/types.js';
import { quant, tensor, type Layer } from './layers.js';
import { Random } from './random.js';

export type SimdLayerKind = 'conv' | 'pointwise' | 'depthwise' | 'fully-connected' | 'residual' | 'add' | 'average-pool' | 'sparse' | 'sparse-conv';
export const SIMD_LAYER_KINDS: SimdLayerKind[] = ['conv', 'pointwise', 'depthwise', 'fully-connected', 'residual', 'add', 'average-pool', 'sparse', 'sparse-conv'];

type Namer = (s: string) => string;

const NO_CLAMP: Clamp = { min: -128, max: 127 };

function clampFor(random: Random, zeroPoint: number): Clamp {
  const kind = random.int(0, 3);
  if (kind === 0) return { min: Math.max(-128, zeroPoint), max: 127 }; // ReLU
  if (kind === 1) return { min: Math.max(-128, zeroPoint), max: Math.min(127, zeroPoint + random.int(20, 120)) }; // ReLU6-like
  return NO_CLAMP;
}

function outputSize(size: number, before: number, after: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size + before + after - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

function int8Input(random: Random, name: string, shape: number[], scale: number, zeroPoint: number): { tensor: Tensor; data: Int8Array } {
  const count = shape.reduce((a, b) => a * b, 1);
  return { tensor: tensor(name, shape, 'int8', quant(scale, zeroPoint)), data: random.int8Array(count) };
}

/**
 * Output scale for an accumulator of `taps` products: usually a multiplier well below 0.5 (the fast requantization),
 * sometimes one of at least 0.5 (shift >= 0: the exact form), sometimes one so small that the rounding term with the
 * zero point no longer fits in 32 bits (the exact form again).
 */
function outputScale(random: Random, inputScale: number, weightScale: number, taps: number): number {
  const product = inputScale * weightScale;
  const pick = random.int(0, 9);
  if (pick === 0) return Math.fround(product / (0.5 + random.next() * 1.5));
  if (pick === 1) return Math.fround(product * 2 ** random.int(26, 29));
  return Math.fround(product * Math.sqrt(taps) * 100 * 2 ** (random.next() * 2 - 1));
}

function weightScales(random: Random, channels: number, perChannel: boolean): number[] {
  const scale = () => Math.fround(0.01 * 2 ** (random.next() * 4 - 2));
  return perChannel ? Array.from({ length: channels }, scale) : [scale()];
}

/** Small biases, large ones, and now and then ones near 2^30 (as pruned channels have): the 'wide' requantization. */
function biasTensor(random: Random, name: string, channels: number, scale: number): Tensor {
  const size = random.pick([3000, 3000, 3000, 2_000_000, 1_500_000_000]);
  return tensor(name, [channels], 'int32', quant(scale, 0), Int32Array.from({ length: channels }, () => random.int(-size, size)));
}

interface ConvShape {
  batches: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  kH: number;
  kW: number;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding2D;
}

function randomConvShape(random: Random, pointwise: boolean): ConvShape & { outH: number; outW: number } {
  for (;;) {
    const kH = pointwise ? 1 : random.pick([1, 2, 3, 3, 3, 4, 5, 10]);
    const kW = pointwise ? 1 : random.pick([1, 2, 3, 3, 3, 4, 5]);
    const shape: ConvShape = {
      batches: random.pick([1, 1, 1, 2]),
      inH: random.int(1, pointwise ? 9 : 12),
      inW: random.int(1, pointwise ? 9 : 12),
      inC: random.pick(pointwise ? [1, 3, 4, 7, 8, 16, 17, 32, 64] : [1, 2, 3, 4, 5, 8, 13, 16]),
      outC: random.pick([1, 2, 3, 4, 5, 7, 8, 16, 17]),
      kH,
      kW,
      stride: pointwise ? [1, 1] : [random.pick([1, 1, 2, 3]), random.pick([1, 1, 2, 3])],
      dilation: pointwise ? [1, 1] : [random.pick([1, 1, 1, 2]), random.pick([1, 1, 1, 2])],
      padding: pointwise ? { top: 0, bottom: 0, left: 0, right: 0 } : { top: random.int(0, 2), bottom: random.int(0, 2), left: random.int(0, 2), right: random.int(0, 2) },
    };
    const outH = outputSize(shape.inH, shape.padding.top, shape.padding.bottom, kH, shape.stride[0], shape.dilation[0]);
    const outW = outputSize(shape.inW, shape.padding.left, shape.padding.right, kW, shape.stride[1], shape.dilation[1]);
    if (outH >= 1 && outW >= 1 && shape.batches * outH * outW * shape.outC <= 1500) return { ...shape, outH, outW };
  }
}

/** A convolution with symmetric int8 weights and an int8 output: what the DSP kernel takes. */
function convNodes(random: Random, n: Namer, shape: ConvShape & { outH: number; outW: number }, input: { tensor: Tensor }): { node: Node; tensors: Tensor[]; output: Tensor } {
  const { inC, outC, kH, kW } = shape;
  const inputQ = input.tensor.quant!;
  const perChannel = random.bool(0.7);
  const scales = weightScales(random, outC, perChannel);
  const patch = kH * kW * inC;
  const weights = tensor(n('w'), [outC, kH, kW, inC], 'int8', quant(scales, scales.map(() => 0), 0), random.int8Array(outC * patch, -127, 127));
  const bias = biasTensor(random, n('b'), outC, inputQ.scale[0]! * scales[0]!);
  const outputZero = random.int(-128, 127);
  const output = tensor(n('y'), [shape.batches, shape.outH, shape.outW, outC], 'int8', quant(outputScale(random, inputQ.scale[0]!, scales[0]!, patch), outputZero));
  const node: Node = {
    op: 'Conv2D',
    name: n('conv'),
    inputs: [input.tensor.name, weights.name, random.bool(0.85) ? bias.name : ''],
    outputs: [output.name],
    attrs: { stride: shape.stride, dilation: shape.dilation, padding: shape.padding, groups: 1, clamp: clampFor(random, outputZero) },
  };
  return { node, tensors: [weights, bias, output], output };
}

function describeConv(shape: ConvShape & { outH: number; outW: number }): string {
  return `Conv2D ${shape.kH}x${shape.kW} s${shape.stride} d${shape.dilation} p${Object.values(shape.padding)} [${shape.batches},${shape.inH},${shape.inW},${shape.inC}] -> [${shape.batches},${shape.outH},${shape.outW},${shape.outC}]`;
}

function convLayer(random: Random, n: Namer, pointwise: boolean): Layer {
  const shape = randomConvShape(random, pointwise);
  const input = int8Input(random, n('x'), [shape.batches, shape.inH, shape.inW, shape.inC], Math.fround(0.05 * 2 ** (random.next() * 4 - 2)), random.int(-128, 127));
  const conv = convNodes(random, n, shape, input);
  return { nodes: [conv.node], tensors: [input.tensor, ...conv.tensors], inputs: new Map([[input.tensor.name, input.data]]), outputs: [conv.output.name], describe: describeConv(shape) };
}

/** Add (or Sub) parameters the kernels accept: input scales within a factor 4, the output scale above them. */
function addScales(random: Random, scaleA: number): { scaleB: number; outScale: number } {
  const scaleB = Math.fround(scaleA * 2 ** (random.next() * 4 - 2));
  return { scaleB, outScale: Math.fround(Math.max(scaleA, scaleB) * (1 + random.next() * 2)) };
}

/**
 * A convolution whose output meets another tensor in an Add or Sub: a graph input (fused into the convolution),
 * or a second convolution of the same input computed after it (fused into that second one), either operand order.
 */
function residualLayer(random: Random, n: Namer): Layer {
  const shape = randomConvShape(random, random.bool(0.3));
  const input = int8Input(random, n('x'), [shape.batches, shape.inH, shape.inW, shape.inC], Math.fround(0.05 * 2 ** (random.next() * 2 - 1)), random.int(-128, 127));
  const first = convNodes(random, (s) => n(`a_${s}`), shape, input);
  const secondConv = random.bool(0.4);
  const otherShape = first.output.shape;
  const { scaleB, outScale } = addScales(random, first.output.quant!.scale[0]!);
  let other: { tensor: Tensor; data?: Int8Array; nodes: Node[]; tensors: Tensor[] };
  if (secondConv) {
    const second = convNodes(random, (s) => n(`b_${s}`), shape, input);
    second.output.quant = quant(scaleB, second.output.quant!.zeroPoint[0]!);
    other = { tensor: second.output, nodes: [second.node], tensors: second.tensors };
  } else {
    const residual = int8Input(random, n('r'), [...otherShape], scaleB, random.int(-128, 127));
    other = { tensor: residual.tensor, data: residual.data, nodes: [], tensors: [residual.tensor] };
  }
  const outputZero = random.int(-128, 127);
  const output = tensor(n('sum'), [...otherShape], 'int8', quant(outScale, outputZero));
  const op = random.bool(0.8) ? 'Add' : 'Sub';
  const swap = random.bool();
  const add: Node = {
    op,
    name: n(op.toLowerCase()),
    inputs: swap ? [other.tensor.name, first.output.name] : [first.output.name, other.tensor.name],
    outputs: [output.name],
    attrs: { clamp: clampFor(random, outputZero) },
  };
  const inputs = new Map<string, TensorData>([[input.tensor.name, input.data]]);
  if (other.data) inputs.set(other.tensor.name, other.data);
  return {
    nodes: [first.node, ...other.nodes, add],
    tensors: [input.tensor, ...first.tensors, ...other.tensors, output],
    inputs,
    outputs: [output.name],
    describe: `${describeConv(shape)} ${op} ${secondConv ? 'a second convolution' : 'a graph input'}${swap ? ' (as input 0)' : ''}`,
  };
}

function depthwiseLayer(random: Random, n: Namer): Layer {
  for (;;) {
    const [kH, kW] = random.pick([[3, 3], [3, 3], [3, 3], [1, 3], [3, 1], [5, 5], [2, 2], [1, 1], [10, 4]] as const);
    const channels = random.pick([1, 2, 3, 4, 5, 8, 12, 13, 16, 32, 33]);
    const batches = random.pick([1, 1, 1, 2]);
    const stride: [number, number] = [random.pick([1, 1, 2, 3]), random.pick([1, 1, 2, 3])];
    const dilation: [number, number] = [random.pick([1, 1, 1, 2]), random.pick([1, 1, 1, 2])];
    const padding = { top: random.int(0, 2), bottom: random.int(0, 2), left: random.int(0, 2), right: random.int(0, 2) };
    const inH = random.int(1, 12);
    const inW = random.int(1, 12);
    const outH = outputSize(inH, padding.top, padding.bottom, kH, stride[0], dilation[0]);
    const outW = outputSize(inW, padding.left, padding.right, kW, stride[1], dilation[1]);
    if (outH < 1 || outW < 1 || batches * outH * outW * channels > 1500) continue;
    const inputScale = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
    const input = int8Input(random, n('x'), [batches, inH, inW, channels], inputScale, random.int(-128, 127));
    const perChannel = random.bool(0.7);
    const scales = weightScales(random, channels, perChannel);
    const weights = tensor(n('w'), [1, kH, kW, channels], 'int8', quant(scales, scales.map(() => 0), 3), random.int8Array(kH * kW * channels, -127, 127));
    const bias = biasTensor(random, n('b'), channels, inputScale * scales[0]!);
    const outputZero = random.int(-128, 127);
    const output = tensor(n('y'), [batches, outH, outW, channels], 'int8', quant(outputScale(random, inputScale, scales[0]!, kH * kW), outputZero));
    const node: Node = {
      op: 'DepthwiseConv2D',
      name: n('dw'),
      inputs: [input.tensor.name, weights.name, random.bool(0.85) ? bias.name : ''],
      outputs: [output.name],
      attrs: { stride, dilation, padding, depthMultiplier: 1, clamp: clampFor(random, outputZero) },
    };
    return {
      nodes: [node],
      tensors: [input.tensor, weights, bias, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `DepthwiseConv2D ${kH}x${kW} s${stride} d${dilation} p${Object.values(padding)} [${batches},${inH},${inW},${channels}] -> [${batches},${outH},${outW},${channels}]`,
    };
  }
}

function fullyConnectedLayer(random: Random, n: Namer, depths = [1, 3, 4, 8, 17, 64, 100, 128, 255, 640]): Layer {
  const batches = random.pick([1, 1, 1, 2, 3]);
  const depth = random.pick(depths);
  const outC = random.pick([1, 2, 3, 4, 5, 8, 10, 12, 13, 64]);
  const inputScale = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
  const input = int8Input(random, n('x'), random.bool() ? [batches, depth] : [batches, 1, 1, depth], inputScale, random.int(-128, 127));
  const perChannel = random.bool(0.4);
  const scales = weightScales(random, outC, perChannel);
  const weights = tensor(n('w'), [outC, depth], 'int8', quant(scales, scales.map(() => 0), 0), random.int8Array(outC * depth, -127, 127));
  const bias = biasTensor(random, n('b'), outC, inputScale * scales[0]!);
  const outputZero = random.int(-128, 127);
  const output = tensor(n('y'), [batches, outC], 'int8', quant(outputScale(random, inputScale, scales[0]!, depth), outputZero));
  const node: Node = {
    op: 'FullyConnected',
    name: n('fc'),
    inputs: [input.tensor.name, weights.name, random.bool(0.85) ? bias.name : ''],
    outputs: [output.name],
    attrs: { clamp: clampFor(random, outputZero), keepNumDims: false },
  };
  return {
    nodes: [node],
    tensors: [input.tensor, weights, bias, output],
    inputs: new Map([[input.tensor.name, input.data]]),
    outputs: [output.name],
    describe: `FullyConnected [${batches},${depth}] x [${outC},${depth}]`,
  };
}

/** A same-shape Add or Sub of two run-time tensors (the DSP table kernel), of any element count. */
function addLayer(random: Random, n: Namer): Layer {
  const shape = random.pick([[random.int(1, 300)], [1, random.int(1, 8), random.int(1, 8), random.int(1, 20)]]);
  const scaleA = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
  const { scaleB, outScale } = addScales(random, scaleA);
  const a = int8Input(random, n('a'), shape, scaleA, random.int(-128, 127));
  const b = int8Input(random, n('b'), shape, scaleB, random.int(-128, 127));
  const outputZero = random.int(-128, 127);
  const output = tensor(n('y'), shape, 'int8', quant(outScale, outputZero));
  const op = random.bool(0.7) ? 'Add' : 'Sub';
  const node: Node = { op, name: n(op.toLowerCase()), inputs: [a.tensor.name, b.tensor.name], outputs: [output.name], attrs: { clamp: clampFor(random, outputZero) } };
  return {
    nodes: [node],
    tensors: [a.tensor, b.tensor, output],
    inputs: new Map([[a.tensor.name, a.data], [b.tensor.name, b.data]]),
    outputs: [output.name],
    describe: `${op} [${shape}]`,
  };
}

/**
 * A pooling window over an inH x inW image: the whole image (global), or a random filter, stride and padding; null
 * where some window would hold no pixel of the image (TFLite's average of no taps is undefined) or none fits.
 */
export function poolWindow(random: Random, inH: number, inW: number, global: boolean) {
  const filter: [number, number] = global ? [inH, inW] : [random.int(1, 4), random.int(1, 4)];
  const stride: [number, number] = global ? [inH, inW] : [random.int(1, 3), random.int(1, 3)];
  const padding = global
    ? { top: 0, bottom: 0, left: 0, right: 0 }
    : { top: random.int(0, filter[0] - 1), bottom: random.int(0, filter[0] - 1), left: random.int(0, filter[1] - 1), right: random.int(0, filter[1] - 1) };
  const outH = outputSize(inH, padding.top, padding.bottom, filter[0], stride[0], 1);
  const outW = outputSize(inW, padding.left, padding.right, filter[1], stride[1], 1);
  if (outH < 1 || outW < 1) return null;
  for (let oy = 0; oy < outH; oy++) if (oy * stride[0] - padding.top >= inH) return null;
  for (let ox = 0; ox < outW; ox++) if (ox * stride[1] - padding.left >= inW) return null;
  return { filter, stride, padding, outH, outW };
}

/** Average pooling, global (the models' classifier heads) or windowed, over channel counts with and without tails. */
function averagePoolLayer(random: Random, n: Namer): Layer {
  for (;;) {
    const channels = random.pick([1, 3, 4, 8, 13, 16, 64]);
    const inH = random.int(1, 10);
    const inW = random.int(1, 10);
    const window = poolWindow(random, inH, inW, random.bool(0.4));
    if (!window) continue;
    const { filter, stride, padding, outH, outW } = window;
    const zeroPoint = random.int(-128, 127);
    const scale = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
    const input = int8Input(random, n('x'), [1, inH, inW, channels], scale, zeroPoint);
    const output = tensor(n('y'), [1, outH, outW, channels], 'int8', quant(scale, zeroPoint));
    const node: Node = { op: 'AveragePool2D', name: n('pool'), inputs: [input.tensor.name], outputs: [output.name], attrs: { filter, stride, padding, clamp: clampFor(random, zeroPoint) } };
    return {
      nodes: [node],
      tensors: [input.tensor, output],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [output.name],
      describe: `AveragePool2D ${filter} s${stride} [1,${inH},${inW},${channels}]`,
    };
  }
}

/** Zeroes all but a `1 - zeros` fraction of the weights (pruned models: VWW's last layers are 90-99 % zeros). */
function pruned(random: Random, weights: Int8Array, zeros: number): Int8Array {
  return weights.map((w) => (random.next() < zeros ? 0 : w));
}

/** A pointwise convolution or fully connected layer with mostly-zero weights, long zero runs included. */
function sparseLayer(random: Random, n: Namer): Layer {
  const layer = random.bool() ? convLayer(random, n, true) : fullyConnectedLayer(random, n, [17, 128, 255, 300, 640]);
  const weights = layer.tensors.find((t) => t.name === n('w'))!;
  const data = pruned(random, weights.data as Int8Array, 0.85 + random.next() * 0.14);
  // Now and then a run of more than 255 zeros in every row: the format bridges it with a zero entry.
  const depth = weights.shape[weights.shape.length - 1]!;
  if (depth > 256 && random.bool(0.5)) {
    for (let row = 0; row < data.length / depth; row++) data.fill(0, row * depth + 1, row * depth + 270);
  }
  weights.data = data;
  return { ...layer, describe: `${layer.describe}, sparse weights` };
}

/** A convolution with a real kernel window (3x3 mostly, strided, dilated, padded) and 70-95 % zero weights. */
function sparseConvLayer(random: Random, n: Namer): Layer {
  const layer = convLayer(random, n, false);
  const weights = layer.tensors.find((t) => t.name === n('w'))!;
  weights.data = pruned(random, weights.data as Int8Array, 0.7 + random.next() * 0.25);
  return { ...layer, describe: `${layer.describe}, sparse weights` };
}

export function randomSimdLayer(kind: SimdLayerKind, seed: number, id: string): Layer {
  const random = new Random(seed);
  const n: Namer = (s) => `${id}_${s}`;
  switch (kind) {
    case 'conv':
    case 'pointwise':
      return convLayer(random, n, kind === 'pointwise');
    case 'depthwise':
      return depthwiseLayer(random, n);
    case 'fully-connected':
      return fullyConnectedLayer(random, n);
    case 'residual':
      return residualLayer(random, n);
    case 'add':
      return addLayer(random, n);
    case 'average-pool':
      return averagePoolLayer(random, n);
    case 'sparse':
      return sparseLayer(random, n);
    case 'sparse-conv':
      return sparseConvLayer(random, n);
  }
}
