/**
 * QDQ and QOperator graphs built op by op, imported, run by the reference interpreter and compared with
 * onnxruntime-node (which executes the same ONNX file): within 1 LSB. Also checks the IR each op becomes
 * (NHWC layout, fused clamps, depthwise detection, uint8 shifting) and the importer's errors.
 */
import { describe, expect, test } from 'vitest';
import { ModelError, NodeError } from '../../src/errors.js';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import type { Graph, Node } from '../../src/ir/types.js';
import { validateGraph } from '../../src/ir/validate.js';
import { float, floats, OnnxGraphBuilder, seededFloats, seededIntegers } from '../support/onnx-builder.js';
import { compareWithOnnxruntime, type ModelInput } from '../support/onnxruntime-oracle.js';

type QuantType = 'int8' | 'uint8';

interface ActivationSpec {
  shape: number[];
  scale: number;
  zeroPoint: number;
}

interface QdqCase {
  name: string;
  inputs: ActivationSpec[];
  output: ActivationSpec;
  type?: QuantType;
  opset?: number;
  /** Builds the float op(s) on the dequantized inputs; returns the float result to quantize. */
  build: (b: OnnxGraphBuilder, xs: string[], type: QuantType) => string;
  check?: (graph: Graph) => void;
}

/** float inputs -> Q -> DQ -> op -> Q -> int8/uint8 output: the shape of every QDQ model. */
function qdqModel(c: QdqCase): { model: Uint8Array; feeds: Record<string, { data: ModelInput; shape: number[] }> } {
  const type = c.type ?? 'int8';
  const b = new OnnxGraphBuilder(c.name, c.opset ?? 13);
  const feeds: Record<string, { data: ModelInput; shape: number[] }> = {};
  const xs = c.inputs.map((spec, i) => {
    const name = b.input(`x${i}`, 'float', spec.shape);
    const size = spec.shape.reduce((p, d) => p * d, 1);
    // Cover a little more than the representable range, so that saturation is exercised too.
    const [lo, hi] = type === 'uint8' ? [0, 255] : [-128, 127];
    const data = seededFloats(size, (lo - spec.zeroPoint - 4) * spec.scale, (hi - spec.zeroPoint + 4) * spec.scale, 7 + i);
    feeds[name] = { data: Float32Array.from(data), shape: spec.shape };
    const q = b.quantize(name, spec.scale, spec.zeroPoint, type);
    return b.dequantize(q, spec.scale, spec.zeroPoint, type);
  });
  const result = c.build(b, xs, type);
  b.quantize(result, c.output.scale, c.output.zeroPoint, type, { output: 'y' });
  b.output('y', type, c.output.shape);
  return { model: b.build(), feeds };
}

/** A QDQ weight initializer with per-channel (array) or per-tensor scales. */
function weights(b: OnnxGraphBuilder, name: string, dims: number[], scale: number | number[], axis = 0, type: QuantType = 'int8', seed = 3): string {
  const count = dims.reduce((p, d) => p * d, 1);
  const [lo, hi] = type === 'uint8' ? [0, 255] : [-127, 127];
  const zeroPoint = Array.isArray(scale) ? scale.map(() => (type === 'uint8' ? 128 : 0)) : type === 'uint8' ? 128 : 0;
  return b.quantizedInitializer(name, type, dims, seededIntegers(count, lo, hi, seed), scale, zeroPoint, Array.isArray(scale) ? axis : undefined);
}

/** An int32 QDQ bias with scale S_in * S_w[c] (float32 product, as onnxruntime's quantizer writes it). */
function bias(b: OnnxGraphBuilder, name: string, inputScale: number, weightScale: number | number[], channels: number, seed = 5): string {
  const scales = Array.from({ length: channels }, (_, c) => Math.fround(inputScale * (Array.isArray(weightScale) ? weightScale[c]! : weightScale)));
  return b.quantizedInitializer(name, 'int32', [channels], seededIntegers(channels, -2000, 2000, seed), Array.isArray(weightScale) ? scales : scales[0]!, Array.isArray(weightScale) ? scales.map(() => 0) : 0, Array.isArray(weightScale) ? 0 : undefined);
}

/** DQ(x) -> Conv 1x1 -> Q -> DQ: a channels-last producer for layout tests. */
function conv1x1(b: OnnxGraphBuilder, x: string, inputScale: number, channelsIn: number, channelsOut: number, outputScale: number, type: QuantType = 'int8'): string {
  const w = weights(b, b.fresh('w1x1'), [channelsOut, channelsIn, 1, 1], 0.02, 0, 'int8', channelsOut);
  const y = b.node('Conv', [x, w], [b.fresh('conv1x1')], {}, { name: b.fresh('conv1x1') });
  const zeroPoint = type === 'uint8' ? 128 : 0;
  return b.dequantize(b.quantize(y, outputScale, zeroPoint, type), outputScale, zeroPoint, type);
  void inputScale;
}

const nodesOf = (graph: Graph, op: Node['op']): Node[] => graph.nodes.filter((n) => n.op === op);

const cases: QdqCase[] = [
  {
    name: 'Conv 3x3 pads 1, per-channel weights, int32 bias, fused Relu',
    inputs: [{ shape: [1, 3, 8, 8], scale: 0.02, zeroPoint: 5 }],
    output: { shape: [1, 4, 8, 8], scale: 0.03, zeroPoint: -20 },
    build: (b, [x]) => {
      const scales = [0.004, 0.006, 0.005, 0.008];
      const w = weights(b, 'w', [4, 3, 3, 3], scales);
      const conv = b.node('Conv', [x!, w, bias(b, 'bias', 0.02, scales, 4)], ['conv'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, { name: 'conv' });
      return b.node('Relu', [conv], ['relu'], {}, { name: 'relu' });
    },
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      expect(conv!.name).toBe('conv');
      expect(conv!.op === 'Conv2D' && conv!.attrs.clamp).toEqual({ min: -20, max: 127 });
      expect(nodesOf(graph, 'Relu')).toEqual([]);
      const w = graph.tensors.get(conv!.inputs[1]!)!;
      expect(w.shape).toEqual([4, 3, 3, 3]);
      expect(w.quant!.axis).toBe(0);
      expect(w.quant!.scale).toEqual([0.004, 0.006, 0.005, 0.008].map(Math.fround));
      const x = graph.tensors.get(conv!.inputs[0]!)!;
      expect(x.shape).toEqual([1, 8, 8, 3]);
      const b = graph.tensors.get(conv!.inputs[2]!)!;
      expect(b.dtype).toBe('int32');
      expect(b.quant!.scale).toEqual([0.004, 0.006, 0.005, 0.008].map((s) => Math.fround(Math.fround(0.02) * Math.fround(s))));
    },
  },
  {
    name: 'Conv stride 2, SAME_UPPER, per-tensor weights, float bias',
    inputs: [{ shape: [1, 2, 7, 7], scale: 0.05, zeroPoint: 0 }],
    output: { shape: [1, 3, 4, 4], scale: 0.04, zeroPoint: 3 },
    build: (b, [x]) => {
      const w = weights(b, 'w', [3, 2, 3, 3], 0.006);
      b.initializer('float_bias', 'float', [3], [0.1, -0.2, 0.05]);
      return b.node('Conv', [x!, w, 'float_bias'], ['conv'], { strides: [2, 2], auto_pad: 'SAME_UPPER', kernel_shape: [3, 3] }, { name: 'conv' });
    },
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      expect(conv!.op === 'Conv2D' && conv!.attrs.padding).toEqual({ top: 1, left: 1, bottom: 1, right: 1 });
      const b = graph.tensors.get(conv!.inputs[2]!)!;
      expect(Array.from(b.data as Int32Array)).toEqual([0.1, -0.2, 0.05].map((v) => Math.round(v / Math.fround(0.05 * 0.006))));
    },
  },
  {
    name: 'depthwise Conv (group = C, multiplier 2) with fused Clip(0, 6)',
    inputs: [{ shape: [1, 4, 6, 6], scale: 0.05, zeroPoint: -3 }],
    output: { shape: [1, 8, 6, 6], scale: 0.03, zeroPoint: -128 },
    build: (b, [x]) => {
      const scales = [0.01, 0.02, 0.015, 0.012, 0.02, 0.011, 0.009, 0.017];
      const w = weights(b, 'dw', [8, 1, 3, 3], scales);
      const conv = b.node('Conv', [x!, w, bias(b, 'dw_bias', 0.05, scales, 8)], ['dw_out'], { group: 4, pads: [1, 1, 1, 1] }, { name: 'dw' });
      b.initializer('zero', 'float', [], [0]);
      b.initializer('six', 'float', [], [6]);
      return b.node('Clip', [conv, 'zero', 'six'], ['clipped'], {}, { name: 'relu6' });
    },
    check: (graph) => {
      const [dw] = nodesOf(graph, 'DepthwiseConv2D');
      expect(dw).toBeDefined();
      expect(dw!.op === 'DepthwiseConv2D' && dw!.attrs.depthMultiplier).toBe(2);
      expect(dw!.op === 'DepthwiseConv2D' && dw!.attrs.clamp).toEqual({ min: -128, max: 72 });
      const w = graph.tensors.get(dw!.inputs[1]!)!;
      expect(w.shape).toEqual([1, 3, 3, 8]);
      expect(w.quant!.axis).toBe(3);
    },
  },
  {
    name: 'grouped Conv (2 groups of 2 channels)',
    inputs: [{ shape: [1, 4, 5, 5], scale: 0.05, zeroPoint: 0 }],
    output: { shape: [1, 4, 3, 3], scale: 0.05, zeroPoint: 0 },
    build: (b, [x]) => b.node('Conv', [x!, weights(b, 'w', [4, 2, 3, 3], [0.01, 0.012, 0.008, 0.02])], ['conv'], { group: 2 }, { name: 'conv' }),
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      expect(conv!.op === 'Conv2D' && conv!.attrs.groups).toBe(2);
      expect(graph.tensors.get(conv!.inputs[1]!)!.shape).toEqual([4, 3, 3, 2]);
    },
  },
  {
    name: 'Gemm transB = 1 with per-channel weights and bias',
    inputs: [{ shape: [2, 16], scale: 0.03, zeroPoint: 2 }],
    output: { shape: [2, 10], scale: 0.05, zeroPoint: 0 },
    build: (b, [x]) => {
      const scales = seededFloats(10, 0.005, 0.01, 11);
      return b.node('Gemm', [x!, weights(b, 'fc_w', [10, 16], scales), bias(b, 'fc_b', 0.03, scales, 10)], ['gemm'], { transB: 1 }, { name: 'fc' });
    },
    check: (graph) => {
      const [fc] = nodesOf(graph, 'FullyConnected');
      expect(graph.tensors.get(fc!.inputs[1]!)!.shape).toEqual([10, 16]);
    },
  },
  {
    name: 'MatMul of a 3-D input by a constant [K, N] with per-column scales',
    inputs: [{ shape: [1, 3, 16], scale: 0.03, zeroPoint: 0 }],
    output: { shape: [1, 3, 5], scale: 0.05, zeroPoint: 0 },
    build: (b, [x]) => b.node('MatMul', [x!, weights(b, 'mm_w', [16, 5], seededFloats(5, 0.005, 0.01, 13), 1)], ['mm'], {}, { name: 'mm' }),
    check: (graph) => {
      const [fc] = nodesOf(graph, 'FullyConnected');
      expect(fc!.op === 'FullyConnected' && fc!.attrs.keepNumDims).toBe(true);
      expect(graph.tensors.get(fc!.inputs[1]!)!.shape).toEqual([5, 16]);
    },
  },
  {
    name: 'MatMul of two run-time 3-D tensors',
    inputs: [
      { shape: [2, 3, 4], scale: 0.04, zeroPoint: 1 },
      { shape: [2, 4, 5], scale: 0.03, zeroPoint: -2 },
    ],
    output: { shape: [2, 3, 5], scale: 0.06, zeroPoint: 0 },
    build: (b, [a, c]) => b.node('MatMul', [a!, c!], ['mm'], {}, { name: 'bmm' }),
    check: (graph) => expect(nodesOf(graph, 'BatchMatMul')).toHaveLength(1),
  },
  {
    name: 'Add of a per-channel constant [C, 1, 1] to an NHWC activation',
    inputs: [{ shape: [1, 3, 4, 4], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 4, 4, 4], scale: 0.04, zeroPoint: 0 },
    build: (b, [x]) => {
      const y = conv1x1(b, x!, 0.02, 3, 4, 0.03);
      const c = b.quantizedInitializer('channel_offsets', 'int8', [4, 1, 1], [40, -60, 90, -10], 0.01, 0);
      return b.node('Add', [y, c], ['sum'], {}, { name: 'add' });
    },
    check: (graph) => {
      const [add] = nodesOf(graph, 'Add');
      expect(graph.tensors.get(add!.inputs[1]!)!.shape).toEqual([4]);
      expect(graph.tensors.get(add!.inputs[0]!)!.shape).toEqual([1, 4, 4, 4]);
    },
  },
  {
    name: 'Mul of two inputs',
    inputs: [
      { shape: [1, 2, 3, 4], scale: 0.02, zeroPoint: 4 },
      { shape: [1, 2, 3, 4], scale: 0.03, zeroPoint: -1 },
    ],
    output: { shape: [1, 2, 3, 4], scale: 0.04, zeroPoint: 0 },
    build: (b, [p, q]) => b.node('Mul', [p!, q!], ['product'], {}, { name: 'mul' }),
  },
  {
    name: 'Sub with numpy broadcasting',
    inputs: [
      { shape: [2, 3, 4], scale: 0.02, zeroPoint: 0 },
      { shape: [3, 1], scale: 0.03, zeroPoint: 2 },
    ],
    output: { shape: [2, 3, 4], scale: 0.04, zeroPoint: 0 },
    build: (b, [p, q]) => b.node('Sub', [p!, q!], ['difference'], {}, { name: 'sub' }),
  },
  {
    name: 'AveragePool 3x3 stride 2 pads 1 (padding excluded from the count)',
    inputs: [{ shape: [1, 3, 9, 9], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 3, 5, 5], scale: 0.02, zeroPoint: 0 },
    build: (b, [x]) => b.node('AveragePool', [x!], ['pool'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pool' }),
  },
  {
    name: 'AveragePool counting padding, other output parameters',
    inputs: [{ shape: [1, 2, 6, 6], scale: 0.02, zeroPoint: 3 }],
    output: { shape: [1, 2, 6, 6], scale: 0.015, zeroPoint: -4 },
    build: (b, [x]) => b.node('AveragePool', [x!], ['pool'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 }, { name: 'pool' }),
    check: (graph) => expect(nodesOf(graph, 'Pad')).toHaveLength(1),
  },
  {
    name: 'AveragePool with ceil_mode',
    inputs: [{ shape: [1, 2, 7, 7], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 2, 4, 4], scale: 0.02, zeroPoint: 0 },
    build: (b, [x]) => b.node('AveragePool', [x!], ['pool'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, { name: 'pool' }),
  },
  {
    name: 'MaxPool 2x2 with equal parameters',
    inputs: [{ shape: [1, 3, 8, 8], scale: 0.02, zeroPoint: 1 }],
    output: { shape: [1, 3, 4, 4], scale: 0.02, zeroPoint: 1 },
    build: (b, [x]) => b.node('MaxPool', [x!], ['pool'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' }),
    check: (graph) => expect(nodesOf(graph, 'Quantize')).toHaveLength(1),
  },
  {
    name: 'GlobalAveragePool',
    inputs: [{ shape: [1, 4, 5, 5], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 4, 1, 1], scale: 0.01, zeroPoint: 0 },
    build: (b, [x]) => b.node('GlobalAveragePool', [x!], ['gap'], {}, { name: 'gap' }),
    check: (graph) => {
      const [mean] = nodesOf(graph, 'Mean');
      expect(mean!.op === 'Mean' && mean!.attrs).toEqual({ axes: [1, 2], keepDims: true });
    },
  },
  {
    name: 'ReduceMean over H, W without keepdims after a channels-last conv',
    inputs: [{ shape: [1, 3, 4, 4], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 4], scale: 0.01, zeroPoint: 0 },
    build: (b, [x]) => b.node('ReduceMean', [conv1x1(b, x!, 0.02, 3, 4, 0.02)], ['mean'], { axes: [2, 3], keepdims: 0 }, { name: 'mean' }),
    check: (graph) => {
      const [mean] = nodesOf(graph, 'Mean');
      expect(mean!.op === 'Mean' && mean!.attrs).toEqual({ axes: [1, 2], keepDims: false });
    },
  },
  {
    name: 'Concat on channels of two channels-last tensors with different scales',
    inputs: [
      { shape: [1, 2, 4, 4], scale: 0.02, zeroPoint: 0 },
      { shape: [1, 3, 4, 4], scale: 0.03, zeroPoint: 0 },
    ],
    output: { shape: [1, 7, 4, 4], scale: 0.03, zeroPoint: 0 },
    build: (b, [p, q]) => b.node('Concat', [conv1x1(b, p!, 0.02, 2, 3, 0.02), conv1x1(b, q!, 0.03, 3, 4, 0.04)], ['cat'], { axis: 1 }, { name: 'cat' }),
    check: (graph) => {
      const [cat] = nodesOf(graph, 'Concat');
      expect(cat!.op === 'Concat' && cat!.attrs.axis).toBe(3);
    },
  },
  {
    name: 'LeakyRelu',
    inputs: [{ shape: [2, 8], scale: 0.03, zeroPoint: 0 }],
    output: { shape: [2, 8], scale: 0.02, zeroPoint: 10 },
    build: (b, [x]) => b.node('LeakyRelu', [x!], ['leaky'], { alpha: float(0.1) }, { name: 'leaky' }),
  },
  {
    name: 'Sigmoid',
    inputs: [{ shape: [2, 16], scale: 0.05, zeroPoint: 0 }],
    output: { shape: [2, 16], scale: 1 / 256, zeroPoint: -128 },
    build: (b, [x]) => b.node('Sigmoid', [x!], ['sig'], {}, { name: 'sigmoid' }),
  },
  {
    name: 'Tanh',
    inputs: [{ shape: [2, 16], scale: 0.03, zeroPoint: 0 }],
    output: { shape: [2, 16], scale: 1 / 128, zeroPoint: 0 },
    build: (b, [x]) => b.node('Tanh', [x!], ['tanh'], {}, { name: 'tanh' }),
  },
  {
    name: 'HardSwish',
    opset: 14,
    inputs: [{ shape: [2, 16], scale: 0.05, zeroPoint: 0 }],
    output: { shape: [2, 16], scale: 0.04, zeroPoint: -60 },
    build: (b, [x]) => b.node('HardSwish', [x!], ['hswish'], {}, { name: 'hardswish' }),
  },
  {
    name: 'Neg',
    inputs: [{ shape: [2, 8], scale: 0.02, zeroPoint: 7 }],
    output: { shape: [2, 8], scale: 0.02, zeroPoint: -7 },
    build: (b, [x]) => b.node('Neg', [x!], ['neg'], {}, { name: 'neg' }),
  },
  {
    name: 'Relu on its own',
    inputs: [{ shape: [2, 8], scale: 0.02, zeroPoint: 3 }],
    output: { shape: [2, 8], scale: 0.01, zeroPoint: -128 },
    build: (b, [x]) => b.node('Relu', [x!], ['relu'], {}, { name: 'relu' }),
  },
  {
    name: 'Clip(-1, 0.5) on its own',
    inputs: [{ shape: [2, 8], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [2, 8], scale: 0.01, zeroPoint: 0 },
    build: (b, [x]) => {
      b.initializer('lo', 'float', [], [-1]);
      b.initializer('hi', 'float', [], [0.5]);
      return b.node('Clip', [x!, 'lo', 'hi'], ['clip'], {}, { name: 'clip' });
    },
  },
  {
    name: 'Softmax over the last axis',
    inputs: [{ shape: [2, 10], scale: 0.01, zeroPoint: 0 }],
    output: { shape: [2, 10], scale: 1 / 256, zeroPoint: -128 },
    build: (b, [x]) => b.node('Softmax', [x!], ['softmax'], { axis: -1 }, { name: 'softmax' }),
  },
  {
    name: 'Softmax over channels of a channels-last tensor',
    inputs: [{ shape: [1, 3, 2, 2], scale: 0.05, zeroPoint: 0 }],
    output: { shape: [1, 5, 2, 2], scale: 1 / 256, zeroPoint: -128 },
    build: (b, [x]) => b.node('Softmax', [conv1x1(b, x!, 0.05, 3, 5, 0.1)], ['softmax'], { axis: 1 }, { name: 'softmax' }),
  },
  {
    name: 'Softmax of opset 11 (coerced to 2-D at axis 1)',
    opset: 11,
    inputs: [{ shape: [1, 2, 3, 4], scale: 0.01, zeroPoint: 0 }],
    output: { shape: [1, 2, 3, 4], scale: 1 / 256, zeroPoint: -128 },
    build: (b, [x]) => b.node('Softmax', [x!], ['softmax'], { axis: 1 }, { name: 'softmax' }),
  },
  {
    name: 'Reshape of a channels-last tensor (back to NCHW order first)',
    inputs: [{ shape: [1, 2, 3, 3], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 36], scale: 0.03, zeroPoint: 0 },
    build: (b, [x]) => {
      b.initializer('new_shape', 'int64', [2], [1, -1]);
      return b.node('Reshape', [conv1x1(b, x!, 0.02, 2, 4, 0.03), 'new_shape'], ['reshaped'], {}, { name: 'reshape' });
    },
    check: (graph) => expect(nodesOf(graph, 'Transpose').map((n) => n.op === 'Transpose' && n.attrs.perm)).toContainEqual([0, 3, 1, 2]),
  },
  {
    name: 'Flatten, then Gemm (a classifier head)',
    inputs: [{ shape: [1, 2, 2, 2], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 3], scale: 0.05, zeroPoint: 0 },
    build: (b, [x]) => {
      const flat = b.node('Flatten', [conv1x1(b, x!, 0.02, 2, 3, 0.03)], ['flat'], {}, { name: 'flatten' });
      const q = b.dequantize(b.quantize(flat, 0.03, 0), 0.03, 0);
      return b.node('Gemm', [q, weights(b, 'head', [3, 12], 0.01)], ['logits'], { transB: 1 }, { name: 'head' });
    },
  },
  {
    name: 'PyTorch-style flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, folded to a constant shape',
    inputs: [{ shape: [1, 2, 3, 3], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 36], scale: 0.03, zeroPoint: 0 },
    build: (b, [x]) => {
      const y = conv1x1(b, x!, 0.02, 2, 4, 0.03);
      b.node('Shape', [y], ['shape'], {}, { name: 'shape' });
      b.initializer('zero_index', 'int64', [], [0]);
      b.node('Gather', ['shape', 'zero_index'], ['batch'], { axis: 0 }, { name: 'gather' });
      b.initializer('axes0', 'int64', [1], [0]);
      b.node('Unsqueeze', ['batch', 'axes0'], ['batch_1d'], {}, { name: 'unsqueeze' });
      b.initializer('minus_one', 'int64', [1], [-1]);
      b.node('Concat', ['batch_1d', 'minus_one'], ['target'], { axis: 0 }, { name: 'concat' });
      return b.node('Reshape', [y, 'target'], ['flat'], {}, { name: 'view' });
    },
    check: (graph) => {
      const reshape = graph.nodes.find((n) => n.name === 'view')!;
      expect(reshape.op === 'Reshape' && reshape.attrs.shape).toEqual([1, 36]);
      expect(graph.nodes.some((n) => n.name === 'shape' || n.name === 'gather' || n.name === 'concat')).toBe(false);
    },
  },
  {
    name: 'fake-quantized float weights (float initializer -> QuantizeLinear -> DequantizeLinear)',
    inputs: [{ shape: [1, 2, 4, 4], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 3, 4, 4], scale: 0.01, zeroPoint: 0 },
    build: (b, [x]) => {
      const scales = [0.004, 0.005, 0.006];
      b.initializer('float_w', 'float', [3, 2, 3, 3], seededFloats(54, -0.5, 0.5, 41));
      const w = b.dequantize(b.quantize('float_w', scales, [0, 0, 0], 'int8', { axis: 0 }), scales, [0, 0, 0], 'int8', { axis: 0 });
      return b.node('Conv', [x!, w], ['conv'], { pads: [1, 1, 1, 1] }, { name: 'conv' });
    },
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      const w = graph.tensors.get(conv!.inputs[1]!)!;
      expect(w.data).toBeInstanceOf(Int8Array);
      expect(w.quant!.scale.length).toBe(3);
    },
  },
  {
    name: 'Transpose NCHW -> NHWC of a channels-last tensor',
    inputs: [{ shape: [1, 2, 3, 4], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 3, 4, 3], scale: 0.03, zeroPoint: 0 },
    build: (b, [x]) => b.node('Transpose', [conv1x1(b, x!, 0.02, 2, 3, 0.03)], ['transposed'], { perm: [0, 2, 3, 1] }, { name: 'transpose' }),
    check: (graph) => {
      const transpose = graph.nodes.find((n) => n.name === 'transpose')!;
      expect(transpose.op === 'Transpose' && transpose.attrs.perm).toEqual([0, 1, 2, 3]);
    },
  },
  {
    name: 'Unsqueeze then Squeeze (opset 13 axes inputs)',
    inputs: [{ shape: [2, 5], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [2, 5], scale: 0.02, zeroPoint: 0 },
    build: (b, [x]) => {
      b.initializer('axes', 'int64', [1], [1]);
      const u = b.node('Unsqueeze', [x!, 'axes'], ['unsqueezed'], {}, { name: 'unsqueeze' });
      const q = b.dequantize(b.quantize(u, 0.02, 0), 0.02, 0);
      return b.node('Squeeze', [q, 'axes'], ['squeezed'], {}, { name: 'squeeze' });
    },
  },
  {
    name: 'Pad of a channels-last tensor',
    inputs: [{ shape: [1, 2, 3, 3], scale: 0.02, zeroPoint: 0 }],
    output: { shape: [1, 3, 5, 6], scale: 0.03, zeroPoint: 5 },
    build: (b, [x]) => {
      b.initializer('pads', 'int64', [8], [0, 0, 1, 2, 0, 0, 1, 1]);
      return b.node('Pad', [conv1x1(b, x!, 0.02, 2, 3, 0.03, 'int8'), 'pads'], ['padded'], {}, { name: 'pad' });
    },
  },
  {
    name: 'uint8 QDQ Conv with uint8 weights (zero point 128) and Relu',
    type: 'uint8',
    inputs: [{ shape: [1, 2, 5, 5], scale: 0.02, zeroPoint: 128 }],
    output: { shape: [1, 3, 5, 5], scale: 0.03, zeroPoint: 0 },
    build: (b, [x]) => {
      const w = weights(b, 'w', [3, 2, 3, 3], 0.004, 0, 'uint8');
      const conv = b.node('Conv', [x!, w, bias(b, 'bias', 0.02, 0.004, 3)], ['conv'], { pads: [1, 1, 1, 1] }, { name: 'conv' });
      return b.node('Relu', [conv], ['relu'], {}, { name: 'relu' });
    },
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      expect(graph.tensors.get(conv!.inputs[1]!)!.quant!.zeroPoint).toEqual([0]);
      expect(graph.tensors.get(conv!.inputs[0]!)!.quant!.zeroPoint).toEqual([0]);
      expect(graph.inputs[0]!.externalDtype).toBe('float32');
      expect(graph.outputs[0]!.externalDtype).toBe('uint8');
    },
  },
];

describe('QDQ graphs against onnxruntime', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const { model, feeds } = qdqModel(c);
      const { graph, expected, actual, maxDiff } = await compareWithOnnxruntime(model, feeds, `${c.name}.onnx`);
      const differing = expected[0]!.filter((v, k) => v !== actual[0]![k]).length;
      console.log(`${c.name}: max ${maxDiff} LSB, ${differing} of ${expected[0]!.length} values differ from onnxruntime`);
      expect(graph.format).toBe('onnx-qdq');
      validateGraph(graph);
      expect(graph.tensors.get(graph.outputs[0]!.tensor)!.shape).toEqual(c.output.shape);
      expect(actual[0]!.length).toBe(expected[0]!.length);
      // The comparison must exercise the arithmetic, not just saturation.
      const [lo, hi] = c.type === 'uint8' ? [0, 255] : [-128, 127];
      const inside = expected[0]!.filter((v) => v > lo && v < hi).length;
      expect(inside).toBeGreaterThan(expected[0]!.length / 4);
      expect(maxDiff, `max |reference - onnxruntime| in LSB`).toBeLessThanOrEqual(1);
      c.check?.(graph);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// QOperator graphs (integer in, integer out)

interface QOperatorCase {
  name: string;
  build: (b: OnnxGraphBuilder) => void;
  feeds: Record<string, { data: ModelInput; shape: number[] }>;
  check?: (graph: Graph) => void;
}

const u8 = (shape: number[], seed: number) => ({ data: Uint8Array.from(seededIntegers(shape.reduce((p, d) => p * d, 1), 0, 255, seed)), shape });
const i8 = (shape: number[], seed: number) => ({ data: Int8Array.from(seededIntegers(shape.reduce((p, d) => p * d, 1), -128, 127, seed)), shape });

function scalars(b: OnnxGraphBuilder, prefix: string, scale: number, zeroPoint: number, type: QuantType): [string, string] {
  return [b.initializer(`${prefix}_scale`, 'float', [], [scale]), b.initializer(`${prefix}_zero_point`, type, [], [zeroPoint])];
}

const qoperatorCases: QOperatorCase[] = [
  {
    name: 'QLinearConv, uint8 weights with zero point 120 and int32 bias, then MaxPool on uint8',
    feeds: { x: u8([1, 2, 6, 6], 21) },
    build: (b) => {
      b.input('x', 'uint8', [1, 2, 6, 6]);
      const [xs, xz] = scalars(b, 'x', 0.02, 130, 'uint8');
      b.initializer('w', 'uint8', [3, 2, 3, 3], seededIntegers(54, 60, 200, 22));
      const [ws, wz] = scalars(b, 'w', 0.005, 120, 'uint8');
      const [ys, yz] = scalars(b, 'y', 0.05, 110, 'uint8');
      b.initializer('bias', 'int32', [3], [500, -800, 120]);
      b.node('QLinearConv', ['x', xs, xz, 'w', ws, wz, ys, yz, 'bias'], ['conv'], { pads: [1, 1, 1, 1] }, { name: 'qconv' });
      b.node('MaxPool', ['conv'], ['y'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
      b.output('y', 'uint8', [1, 3, 3, 3]);
    },
    check: (graph) => {
      const [conv] = nodesOf(graph, 'Conv2D');
      expect(graph.tensors.get(conv!.inputs[1]!)!.quant!.zeroPoint).toEqual([-8]);
      expect(nodesOf(graph, 'MaxPool2D')).toHaveLength(1);
    },
  },
  {
    name: 'QLinearConv depthwise with per-channel int8 weights',
    feeds: { x: i8([1, 3, 5, 5], 23) },
    build: (b) => {
      b.input('x', 'int8', [1, 3, 5, 5]);
      const [xs, xz] = scalars(b, 'x', 0.02, -5, 'int8');
      b.initializer('w', 'int8', [3, 1, 3, 3], seededIntegers(27, -127, 127, 24));
      b.initializer('w_scale', 'float', [3], [0.004, 0.006, 0.005]);
      b.initializer('w_zero_point', 'int8', [3], [0, 0, 0]);
      const [ys, yz] = scalars(b, 'y', 0.03, 2, 'int8');
      b.node('QLinearConv', ['x', xs, xz, 'w', 'w_scale', 'w_zero_point', ys, yz], ['y'], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'qdw' });
      b.output('y', 'int8', [1, 3, 3, 3]);
    },
    check: (graph) => expect(nodesOf(graph, 'DepthwiseConv2D')).toHaveLength(1),
  },
  {
    name: 'QLinearAdd with a broadcast constant and QLinearMul (com.microsoft)',
    feeds: { a: u8([1, 4, 3, 3], 25), c: u8([1, 4, 3, 3], 26) },
    build: (b) => {
      b.input('a', 'uint8', [1, 4, 3, 3]);
      b.input('c', 'uint8', [1, 4, 3, 3]);
      const [as, az] = scalars(b, 'a', 0.02, 128, 'uint8');
      const [cs, cz] = scalars(b, 'c', 0.03, 100, 'uint8');
      b.initializer('k', 'uint8', [4, 1, 1], [10, 200, 128, 90]);
      const [ks, kz] = scalars(b, 'k', 0.01, 128, 'uint8');
      const [ss, sz] = scalars(b, 's', 0.03, 128, 'uint8');
      const [ys, yz] = scalars(b, 'y', 0.01, 128, 'uint8');
      b.node('QLinearAdd', ['a', as, az, 'k', ks, kz, ss, sz], ['s'], {}, { name: 'qadd', domain: 'com.microsoft' });
      b.node('QLinearMul', ['s', ss, sz, 'c', cs, cz, ys, yz], ['y'], {}, { name: 'qmul', domain: 'com.microsoft' });
      b.output('y', 'uint8', [1, 4, 3, 3]);
    },
  },
  {
    name: 'QLinearConcat, QLinearAveragePool, QLinearGlobalAveragePool',
    feeds: { a: u8([1, 2, 4, 4], 27), c: u8([1, 3, 4, 4], 28) },
    build: (b) => {
      b.input('a', 'uint8', [1, 2, 4, 4]);
      b.input('c', 'uint8', [1, 3, 4, 4]);
      const [as, az] = scalars(b, 'a', 0.02, 128, 'uint8');
      const [cs, cz] = scalars(b, 'c', 0.03, 120, 'uint8');
      const [ks, kz] = scalars(b, 'cat', 0.03, 125, 'uint8');
      const [ps, pz] = scalars(b, 'pool', 0.025, 128, 'uint8');
      const [ys, yz] = scalars(b, 'y', 0.01, 128, 'uint8');
      b.node('QLinearConcat', [ks, kz, 'a', as, az, 'c', cs, cz], ['cat'], { axis: 1 }, { name: 'qcat', domain: 'com.microsoft' });
      b.node('QLinearAveragePool', ['cat', ks, kz, ps, pz], ['pool'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'qavg', domain: 'com.microsoft' });
      b.node('QLinearGlobalAveragePool', ['pool', ps, pz, ys, yz], ['y'], {}, { name: 'qgap', domain: 'com.microsoft' });
      b.output('y', 'uint8', [1, 5, 1, 1]);
    },
  },
  {
    name: 'QLinearLeakyRelu (com.microsoft)',
    feeds: { x: i8([2, 12], 29) },
    build: (b) => {
      b.input('x', 'int8', [2, 12]);
      const [xs, xz] = scalars(b, 'x', 0.05, 3, 'int8');
      const [ys, yz] = scalars(b, 'y', 0.04, -10, 'int8');
      b.node('QLinearLeakyRelu', ['x', xs, xz, ys, yz], ['y'], { alpha: float(0.2) }, { name: 'qleaky', domain: 'com.microsoft' });
      b.output('y', 'int8', [2, 12]);
    },
  },
  {
    name: 'QLinearSigmoid (com.microsoft)',
    feeds: { x: u8([2, 12], 33) },
    build: (b) => {
      b.input('x', 'uint8', [2, 12]);
      const [xs, xz] = scalars(b, 'x', 0.05, 128, 'uint8');
      const [ys, yz] = scalars(b, 'y', 1 / 256, 0, 'uint8');
      b.node('QLinearSigmoid', ['x', xs, xz, ys, yz], ['y'], {}, { name: 'qsigmoid', domain: 'com.microsoft' });
      b.output('y', 'uint8', [2, 12]);
    },
  },
  {
    name: 'QGemm (com.microsoft) with transB and bias, and QLinearMatMul by a constant',
    feeds: { x: u8([2, 8], 30) },
    build: (b) => {
      b.input('x', 'uint8', [2, 8]);
      const [xs, xz] = scalars(b, 'x', 0.02, 128, 'uint8');
      b.initializer('w', 'int8', [6, 8], seededIntegers(48, -127, 127, 31));
      const [ws, wz] = scalars(b, 'w', 0.01, 0, 'int8');
      b.initializer('bias', 'int32', [6], [100, -300, 50, 0, 900, -20]);
      const [gs, gz] = scalars(b, 'g', 0.04, 128, 'uint8');
      b.node('QGemm', ['x', xs, xz, 'w', ws, wz, 'bias', gs, gz], ['g'], { transB: 1 }, { name: 'qgemm', domain: 'com.microsoft' });
      b.initializer('m', 'uint8', [6, 4], seededIntegers(24, 0, 255, 32));
      const [ms, mz] = scalars(b, 'm', 0.01, 128, 'uint8');
      const [ys, yz] = scalars(b, 'y', 0.05, 128, 'uint8');
      b.node('QLinearMatMul', ['g', gs, gz, 'm', ms, mz, ys, yz], ['y'], {}, { name: 'qmatmul' });
      b.output('y', 'uint8', [2, 4]);
    },
    check: (graph) => expect(nodesOf(graph, 'FullyConnected')).toHaveLength(2),
  },
];

describe('QOperator graphs against onnxruntime', () => {
  for (const c of qoperatorCases) {
    test(c.name, async () => {
      const b = new OnnxGraphBuilder('qop', 13);
      c.build(b);
      const { graph, expected, actual, maxDiff } = await compareWithOnnxruntime(b.build(), c.feeds, `${c.name}.onnx`);
      const differing = expected[0]!.filter((v, k) => v !== actual[0]![k]).length;
      console.log(`${c.name}: max ${maxDiff} LSB, ${differing} of ${expected[0]!.length} values differ from onnxruntime`);
      expect(graph.format).toBe('onnx-qoperator');
      validateGraph(graph);
      expect(expected[0]!.length).toBeGreaterThan(0);
      expect(maxDiff, `max |reference - onnxruntime| in LSB`).toBeLessThanOrEqual(1);
      c.check?.(graph);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Errors and unsupported ops

describe('ONNX importer errors', () => {
  test('a float-only model is refused with the quantize hint', () => {
    const b = new OnnxGraphBuilder('float', 13);
    b.input('x', 'float', [1, 4]);
    b.node('Relu', ['x'], ['y']);
    b.output('y', 'float', [1, 4]);
    expect(() => importOnnx(b.build(), 'float.onnx')).toThrow(
      new ModelError('float.onnx', 'is a float model (not quantized) — run `tinyedge quantize FILE --calibration DIR -o FILE.int8.onnx` or export QDQ int8'),
    );
  });

  test('Gemm with alpha != 1 is a NodeError naming the node', () => {
    const b = new OnnxGraphBuilder('gemm', 13);
    b.input('x', 'float', [1, 4]);
    const x = b.dequantize(b.quantize('x', 0.1, 0), 0.1, 0);
    const w = weights(b, 'w', [3, 4], 0.01);
    b.node('Gemm', [x, w], ['g'], { alpha: float(0.5), transB: 1 }, { name: 'scaled_gemm' });
    b.quantize('g', 0.1, 0, 'int8', { output: 'y' });
    b.output('y', 'int8', [1, 3]);
    expect(() => importOnnx(b.build(), 'gemm.onnx')).toThrow(NodeError);
    expect(() => importOnnx(b.build(), 'gemm.onnx')).toThrow(/node 'scaled_gemm' \(Gemm\): alpha = 0.5/);
  });

  test('every unsupported op is listed, not just the first; nodes after them are skipped silently', () => {
    const b = new OnnxGraphBuilder('unsupported', 13);
    b.input('x', 'float', [1, 2, 4, 4]);
    const x = b.dequantize(b.quantize('x', 0.1, 0), 0.1, 0);
    b.node('Erf', [x], ['e'], {}, { name: 'erf' });
    const y = b.dequantize(b.quantize('e', 0.1, 0), 0.1, 0);
    b.node('Relu', [y], ['r'], {}, { name: 'relu_after' });
    b.node('LpNormalization', [x], ['n'], {}, { name: 'lpnorm' });
    b.node('Resize', ['n'], ['z'], {}, { name: 'resize' });
    b.node('Conv', [x], ['c'], {}, { name: 'conv_without_weights_dq' });
    b.output('r', 'float', [1, 2, 4, 4]);
    b.output('z', 'float', [1, 2, 4, 4]);
    const graph = importOnnx(b.build(), 'unsupported.onnx');
    expect(graph.unsupported.map((u) => u.node)).toEqual(['erf', 'lpnorm', 'resize', 'conv_without_weights_dq']);
    expect(graph.unsupported.find((u) => u.node === 'conv_without_weights_dq')!.reason).toMatch(/weights without a DequantizeLinear/);
  });

  test('a missing zero point constant is a NodeError naming the node', () => {
    const b = new OnnxGraphBuilder('dynamic', 13);
    b.input('x', 'uint8', [1, 4]);
    b.input('x_zero_point', 'uint8', []);
    b.initializer('x_scale', 'float', [], [0.1]);
    b.initializer('w', 'uint8', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    b.initializer('w_scale', 'float', [], [0.1]);
    b.initializer('w_zero_point', 'uint8', [], [128]);
    b.node('QLinearMatMul', ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'x_scale', 'w_zero_point'], ['y'], {}, { name: 'mm' });
    b.output('y', 'uint8', [1, 2]);
    expect(() => importOnnx(b.build(), 'dynamic.onnx')).toThrow(/node 'mm' \(QLinearMatMul\): zero point 'x_zero_point' is not a constant/);
  });

  test('nameless nodes get unique generated names', () => {
    const b = new OnnxGraphBuilder('names', 13);
    b.input('x', 'float', [2, 3]);
    const q = b.quantize('x', 0.1, 0, 'int8', { name: '' });
    const r1 = b.node('Relu', [b.dequantize(q, 0.1, 0, 'int8', { name: '' })], ['r1']);
    const r2 = b.node('Relu', [b.dequantize(b.quantize(r1, 0.1, 0, 'int8', { name: '' }), 0.1, 0, 'int8', { name: '' })], ['r2']);
    b.quantize(r2, 0.1, 0, 'int8', { output: 'y', name: '' });
    b.output('y', 'int8', [2, 3]);
    const graph = importOnnx(b.build(), 'names.onnx');
    const names = graph.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('Relu_0');
    expect(names).toContain('Relu_1');
    validateGraph(graph);
  });

  test('a symbolic batch dimension is taken as 1', () => {
    const b = new OnnxGraphBuilder('batch', 13);
    b.input('x', 'float', ['N', 4]);
    b.quantize('x', 0.1, 0, 'int8', { output: 'y' });
    b.output('y', 'int8', ['N', 4]);
    const graph = importOnnx(b.build(), 'batch.onnx');
    expect(graph.tensors.get('x')!.shape).toEqual([1, 4]);
    expect(floats).toBeDefined();
  });
});
