/**
 * The DSP depthwise kernel (dsp/te_depthwise_conv2d_s8 + its shared form functions) on the emulated STM32F405,
 * against the reference interpreter, bit for bit: seeded random layers (strides 1 and 2, padding, dilation, 3x3,
 * 5x5, 3x1 and 1x3 kernels, channel counts that leave 1 to 3 channels after the groups of 4, per-channel
 * quantization, fused ReLU6) computed into their own output and in place over their input; layers of one form
 * sharing one set of functions.
 */
import { describe, expect, it } from 'vitest';
import { generateLibrary, libraryFileNames } from '../../src/codegen/index.js';
import { formKey, inPlaceDelay, lowerDepthwiseConv2DDsp } from '../../src/codegen/lower/dsp/depthwise-conv2d.js';
import type { DepthwiseConv2DNode, Graph, Node, Tensor, TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mergeLayers, quant, tensor, type Layer } from './support/layers.js';
import { Random } from './support/random.js';
import { runOnEmulator } from './support/semihost.js';
import { firstDifference } from './support/compare.js';

interface DepthwiseShape {
  kH: number;
  kW: number;
  inH: number;
  inW: number;
  channels: number;
  stride: [number, number];
  dilation: [number, number];
  padding: { top: number; bottom: number; left: number; right: number };
  perChannel: boolean;
  relu6: boolean;
}

function outputSize(size: number, before: number, after: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size + before + after - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

function randomShape(random: Random): DepthwiseShape {
  for (;;) {
    const [kH, kW] = random.pick([[3, 3], [3, 3], [5, 5], [3, 1], [1, 3]] as const);
    const stride: [number, number] = [random.pick([1, 2]), random.pick([1, 2])];
    const dilation: [number, number] = [random.pick([1, 1, 2]), random.pick([1, 1, 2])];
    const pad = (k: number) => random.int(0, Math.floor(k / 2) + 1);
    const padding = { top: pad(kH), bottom: pad(kH), left: pad(kW), right: pad(kW) };
    const shape = {
      kH, kW, stride, dilation, padding,
      inH: random.int(3, 14),
      inW: random.int(3, 14),
      channels: random.pick([3, 5, 6, 7, 8, 13, 16, 18, 31]),
      perChannel: random.bool(0.75),
      relu6: random.bool(0.5),
    };
    const outH = outputSize(shape.inH, padding.top, padding.bottom, kH, stride[0], dilation[0]);
    const outW = outputSize(shape.inW, padding.left, padding.right, kW, stride[1], dilation[1]);
    if (outH >= 1 && outW >= 1) return shape;
  }
}

/** A depthwise layer on `shape`, its weights, bias and scales drawn from `random` (same seed: same layer). */
function depthwiseNode(random: Random, shape: DepthwiseShape, id: string, inputName: string, input: Tensor): { node: Node; tensors: Tensor[]; output: Tensor } {
  const { kH, kW, channels, stride, dilation, padding } = shape;
  const inputScale = input.quant!.scale[0]!;
  const scales = Array.from({ length: shape.perChannel ? channels : 1 }, () => Math.fround(0.01 * 2 ** (random.next() * 4 - 2)));
  const weights = tensor(`${id}_w`, [1, kH, kW, channels], 'int8', quant(scales, scales.map(() => 0), 3), random.int8Array(kH * kW * channels, -127, 127));
  const biasScale = inputScale * scales[0]!;
  const bias = tensor(`${id}_b`, [channels], 'int32', quant(biasScale, 0), Int32Array.from({ length: channels }, () => random.int(-4000, 4000)));
  const outH = outputSize(shape.inH, padding.top, padding.bottom, kH, stride[0], dilation[0]);
  const outW = outputSize(shape.inW, padding.left, padding.right, kW, stride[1], dilation[1]);
  const outputZero = shape.relu6 ? -128 : random.int(-20, 20);
  const outputScale = Math.fround(inputScale * scales[0]! * Math.sqrt(kH * kW) * 100 * 2 ** (random.next() * 2 - 1));
  const output = tensor(`${id}_y`, [1, outH, outW, channels], 'int8', quant(outputScale, outputZero));
  // ReLU6: [0, 6] in real values, i.e. [Z, Z + 6 / scale] clamped to int8.
  const clamp = shape.relu6 ? { min: outputZero, max: Math.min(127, outputZero + Math.round(6 / outputScale)) } : { min: -128, max: 127 };
  const node: Node = {
    op: 'DepthwiseConv2D',
    name: `${id}_dw`,
    inputs: [inputName, weights.name, bias.name],
    outputs: [output.name],
    attrs: { stride, dilation, padding, depthMultiplier: 1, clamp },
  };
  return { node, tensors: [weights, bias, output], output };
}

function describeShape(s: DepthwiseShape): string {
  return `${s.kH}x${s.kW} s${s.stride} d${s.dilation} p${Object.values(s.padding)} [${s.inH},${s.inW},${s.channels}]${s.perChannel ? ' per channel' : ''}${s.relu6 ? ' ReLU6' : ''}`;
}

function randomInput(random: Random, id: string, s: DepthwiseShape): { tensor: Tensor; data: Int8Array } {
  const input = tensor(`${id}_x`, [1, s.inH, s.inW, s.channels], 'int8', quant(Math.fround(0.05 * 2 ** (random.next() * 2 - 1)), random.int(-128, 127)));
  return { tensor: input, data: random.int8Array(s.inH * s.inW * s.channels) };
}

/** One depthwise layer reading a graph input and writing a graph output. */
function plainLayer(seed: number, id: string): Layer & { shape: DepthwiseShape } {
  const random = new Random(seed);
  const shape = randomShape(random);
  const input = randomInput(random, id, shape);
  const dw = depthwiseNode(random, shape, id, input.tensor.name, input.tensor);
  return {
    nodes: [dw.node],
    tensors: [input.tensor, ...dw.tensors],
    inputs: new Map([[input.tensor.name, input.data]]),
    outputs: [dw.output.name],
    describe: describeShape(shape),
    shape,
  };
}

/** A 1x1 MaxPool returning its input unchanged: puts a tensor in the arena, between the caller's buffers. */
function identityPool(name: string, from: string, to: string): Node {
  return {
    op: 'MaxPool2D',
    name,
    inputs: [from],
    outputs: [to],
    attrs: { filter: [1, 1], stride: [1, 1], padding: { top: 0, bottom: 0, left: 0, right: 0 }, clamp: { min: -128, max: 127 } },
  };
}

/**
 * input -> identity pool -> X -> depthwise -> Y -> identity pool -> output: X dies at the depthwise layer and both
 * live in the arena, so writing Y over X (with a ring of a few rows) lowers the arena and the planner takes it.
 */
function inPlaceGraph(seed: number, shape: DepthwiseShape): { graph: Graph; inputs: TensorData[] } {
  const random = new Random(seed);
  const id = `ip${seed}`;
  const input = randomInput(random, id, shape);
  const x = { ...input.tensor, name: `${id}_xa` };
  const dw = depthwiseNode(random, shape, id, x.name, x);
  const out = { ...dw.output, name: `${id}_out` };
  return mergeLayers(`dw_in_place_${seed}`, [
    {
      nodes: [identityPool(`${id}_in`, input.tensor.name, x.name), dw.node, identityPool(`${id}_out_pool`, dw.output.name, out.name)],
      tensors: [input.tensor, x, ...dw.tensors, out],
      inputs: new Map([[input.tensor.name, input.data]]),
      outputs: [out.name],
      describe: describeShape(shape),
    },
  ]);
}

const LAYERS = 36;

describe('DSP depthwise kernel on the emulated STM32F405 vs the reference interpreter', () => {
  it(`${LAYERS} random layers in one image, bit for bit`, async () => {
    const layers = Array.from({ length: LAYERS }, (_, i) => plainLayer(7000 + i, `d${i}`));
    // The draw covers what the kernel distinguishes.
    const shapes = layers.map((l) => l.shape);
    expect(shapes.some((s) => s.kH === 5)).toBe(true);
    expect(shapes.some((s) => s.kH === 3 && s.kW === 1)).toBe(true);
    expect(shapes.some((s) => s.kH === 1 && s.kW === 3)).toBe(true);
    expect(shapes.some((s) => s.stride[0] === 2 && s.stride[1] === 2)).toBe(true);
    expect(shapes.some((s) => s.dilation[0] === 2 || s.dilation[1] === 2)).toBe(true);
    expect(shapes.some((s) => s.channels % 4 !== 0 && s.channels > 4)).toBe(true);
    expect(shapes.some((s) => s.channels < 4)).toBe(true);
    expect(shapes.some((s) => s.perChannel && s.relu6)).toBe(true);
    const { graph, inputs } = mergeLayers('simd_depthwise', layers);
    const expected = runReference(graph, inputs).outputs;
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    expect(library.layers.filter((l) => l.kernel !== 'te_depthwise_conv2d_s8_dsp').map((l) => l.name)).toEqual([]);
    const { outputs } = await runOnEmulator(graph, library, inputs);
    const failures = layers.flatMap((layer, i) => {
      const difference = firstDifference(outputs[i]!, expected[i]!);
      return difference ? [`seed ${7000 + i} (${layer.describe}): ${difference}`] : [];
    });
    expect(failures).toEqual([]);
  });

  it('layers of one form share one set of functions: each defined once, every layer calling it', () => {
    // Same form (3x3, per-channel fast requantization, no clamp, padded), different shapes and weights.
    const shapes: DepthwiseShape[] = [
      { kH: 3, kW: 3, inH: 10, inW: 9, channels: 16, stride: [1, 1], dilation: [1, 1], padding: { top: 1, bottom: 1, left: 1, right: 1 }, perChannel: true, relu6: false },
      { kH: 3, kW: 3, inH: 12, inW: 12, channels: 30, stride: [2, 2], dilation: [1, 1], padding: { top: 0, bottom: 1, left: 0, right: 1 }, perChannel: true, relu6: false },
    ];
    const layers = shapes.map((shape, i) => {
      const random = new Random(42 + i);
      const input = randomInput(random, `s${i}`, shape);
      const dw = depthwiseNode(random, shape, `s${i}`, input.tensor.name, input.tensor);
      return { nodes: [dw.node], tensors: [input.tensor, ...dw.tensors], inputs: new Map([[input.tensor.name, input.data]]), outputs: [dw.output.name], describe: describeShape(shape) };
    });
    const { graph } = mergeLayers('shared_depthwise', layers);
    const keys = graph.nodes.map((node) => lowerDepthwiseConv2DDsp(graph, node as DepthwiseConv2DNode).shared![0]!.key);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toBe(formKey({ kH: 3, kW: 3, fast: true, wide: false, exact: false, perChannel: true, fullRange: true, border: true }));
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const c = library.files.get(libraryFileNames(library.prefix).model)!;
    const key = keys[0]!;
    const definitions = (name: string) => c.split('\n').filter((line) => new RegExp(`static void ${name}\\(`).test(line)).length;
    for (const fn of [`${key}_pixels`, `${key}_border`, `${key}_row`, key]) expect(definitions(fn), fn).toBe(1);
    expect(c.match(new RegExp(`^    ${key}\\(input, output, &shape\\);$`, 'gm'))?.length).toBe(2);
  });

  it('the in-place delay: rows wait until no later row reads the input they cover', () => {
    // Same size, stride 1, pad 1: row r covers input row r, which row r + 1 still reads.
    expect(inPlaceDelay({ inH: 10, inW: 10, outH: 10, outW: 10, strideH: 1, padTop: 1 })).toBe(1);
    // No top padding: row r + 1 reads from input row r + 1 on.
    expect(inPlaceDelay({ inH: 10, inW: 10, outH: 8, outW: 8, strideH: 1, padTop: 0 })).toBe(0);
    // Stride 2: an output row is half an input row, read long before.
    expect(inPlaceDelay({ inH: 12, inW: 12, outH: 6, outW: 6, strideH: 2, padTop: 1 })).toBe(0);
    // Dilated or tall kernels pad more: a 5x5 with pad 2 waits two rows.
    expect(inPlaceDelay({ inH: 9, inW: 9, outH: 9, outW: 9, strideH: 1, padTop: 2 })).toBe(2);
    // Output rows wider than input rows (padding on the sides only): each ends further past the input row it
    // replaces, 1.5 rows for 1: row 2 ends at pixel 18, which rows from input row 4 on (pixel 16) still read
    // until row 4 is computed.
    expect(inPlaceDelay({ inH: 6, inW: 4, outH: 6, outW: 6, strideH: 1, padTop: 0 })).toBe(2);
  });

  const IN_PLACE_SEEDS = [11, 12, 13, 14, 15, 16, 17, 18];
  it(`${IN_PLACE_SEEDS.length} random layers in place over their input, bit for bit`, async () => {
    const failures: string[] = [];
    const kinds = new Set<string>();
    for (const seed of IN_PLACE_SEEDS) {
      const random = new Random(seed);
      let shape = randomShape(random);
      // In place is offered for outputs of at least two rows more than the ring; draw again until there is one.
      while (outputSize(shape.inH, shape.padding.top, shape.padding.bottom, shape.kH, shape.stride[0], shape.dilation[0]) < 4) shape = randomShape(random);
      const { graph, inputs } = inPlaceGraph(seed, shape);
      const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
      const c = library.files.get(libraryFileNames(library.prefix).model)!;
      const ranInPlace = /_in_place\(output, scratch, &shape\);/.test(c);
      expect(ranInPlace, `seed ${seed} (${describeShape(shape)}): the planner did not put the output over the input`).toBe(true);
      kinds.add(`${shape.kH}x${shape.kW} s${shape.stride[0]}`);
      const expected = runReference(graph, inputs).outputs;
      const { outputs } = await runOnEmulator(graph, library, inputs);
      const difference = firstDifference(outputs[0]!, expected[0]!);
      if (difference) failures.push(`seed ${seed} (${describeShape(shape)}): ${difference}`);
    }
    expect(failures).toEqual([]);
    expect(kinds.size).toBeGreaterThan(2);
  });
});
