/**
 * The cost model, on a hand-built graph (every MAC formula) and on the real MLPerf Tiny models, whose MAC totals
 * are published (/work/shared/docs/BASELINES.md) and are recomputed here by hand from the layer shapes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/frontend/index.js';
import { graphCost } from '../../src/ir/cost.js';
import type { Graph, Node, Tensor } from '../../src/ir/types.js';

const clamp = { min: -128, max: 127 };
const padding = { top: 0, bottom: 0, left: 0, right: 0 };

function syntheticGraph(): Graph {
  const activation = (name: string, shape: number[]): Tensor => ({ name, shape, dtype: 'int8' });
  const constant = (name: string, shape: number[], dtype: 'int8' | 'int32' = 'int8'): Tensor => ({
    name,
    shape,
    dtype,
    data: dtype === 'int8' ? new Int8Array(shape.reduce((a, b) => a * b, 1)) : new Int32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const tensors = [
    activation('x', [1, 8, 8, 4]),
    constant('w_conv', [6, 3, 3, 2]), // grouped: 2 groups of 2 input channels
    constant('b_conv', [6], 'int32'),
    activation('conv', [1, 6, 6, 6]),
    constant('w_dw', [1, 3, 3, 12]), // depth multiplier 2
    activation('dw', [1, 4, 4, 12]),
    constant('shape', [2], 'int32'),
    activation('flat', [2, 96]),
    constant('w_fc', [10, 96]),
    activation('fc', [2, 10]),
    activation('fc2', [2, 10]),
    activation('sum', [2, 10]),
    activation('a', [3, 4, 5]),
    activation('b', [3, 5, 7]),
    activation('mm', [3, 4, 7]),
    { ...activation('logits', [1, 4]), quant: { scale: [0.1], zeroPoint: [0], axis: 0 } },
    { ...activation('probability', [1, 4]), quant: { scale: [1 / 256], zeroPoint: [-128], axis: 0 } },
  ];
  const nodes: Node[] = [
    { name: 'conv', op: 'Conv2D', inputs: ['x', 'w_conv', 'b_conv'], outputs: ['conv'], attrs: { stride: [1, 1], dilation: [1, 1], padding, groups: 2, clamp } },
    { name: 'dw', op: 'DepthwiseConv2D', inputs: ['conv', 'w_dw', ''], outputs: ['dw'], attrs: { stride: [1, 1], dilation: [1, 1], padding, depthMultiplier: 2, clamp } },
    { name: 'flatten', op: 'Reshape', inputs: ['dw', 'shape'], outputs: ['flat'], attrs: { shape: [2, 96] } },
    { name: 'fc', op: 'FullyConnected', inputs: ['flat', 'w_fc', ''], outputs: ['fc'], attrs: { clamp, keepNumDims: false } },
    { name: 'fc_shared', op: 'FullyConnected', inputs: ['flat', 'w_fc', ''], outputs: ['fc2'], attrs: { clamp, keepNumDims: false } },
    { name: 'add', op: 'Add', inputs: ['fc', 'fc2'], outputs: ['sum'], attrs: { clamp } },
    { name: 'matmul', op: 'BatchMatMul', inputs: ['a', 'b'], outputs: ['mm'], attrs: { clamp } },
    { name: 'sigmoid', op: 'Logistic', inputs: ['logits'], outputs: ['probability'], attrs: {} },
  ];
  return {
    name: 'synthetic',
    format: 'tflite',
    tensors: new Map(tensors.map((t) => [t.name, t])),
    nodes,
    inputs: [{ tensor: 'x', externalDtype: 'int8', name: 'x' }],
    outputs: [{ tensor: 'sum', externalDtype: 'int8', name: 'sum' }],
    unsupported: [],
  };
}

describe('graphCost on a hand-built graph', () => {
  const cost = graphCost(syntheticGraph());
  const byName = Object.fromEntries(cost.layers.map((layer) => [layer.name, layer]));

  it('counts MACs per op', () => {
    expect(byName.conv!.macs).toBe(6 * 6 * 6 * 3 * 3 * (4 / 2));
    expect(byName.dw!.macs).toBe(4 * 4 * 6 * 2 * 3 * 3); // out_h * out_w * C * M * kh * kw
    expect(byName.fc!.macs).toBe(2 * 10 * 96); // batch * Cout * Cin
    expect(byName.matmul!.macs).toBe(3 * 4 * 7 * 5);
    expect(byName.add!.macs).toBe(0);
    expect(byName.flatten!.macs).toBe(0);
    expect(byName.sigmoid!.macs).toBe(0);
    expect(cost.macs).toBe(3888 + 1728 + 1920 * 2 + 420);
  });

  it('counts parameter bytes once per constant, not for shape constants', () => {
    expect(byName.conv!.paramBytes).toBe(6 * 3 * 3 * 2 + 6 * 4);
    expect(byName.dw!.paramBytes).toBe(108);
    expect(byName.flatten!.paramBytes).toBe(0);
    expect(byName.fc!.paramBytes).toBe(960);
    expect(byName.fc_shared!.paramBytes).toBe(0);
    expect(cost.paramBytes).toBe(132 + 108 + 960 + 256);
  });

  it('counts the 256-byte table an int8 unary op becomes', () => {
    expect(byName.sigmoid!.paramBytes).toBe(256);
  });

  it('reports each layer with its output shape', () => {
    expect(cost.layers.map((l) => [l.op, l.outputShape])).toEqual([
      ['Conv2D', [1, 6, 6, 6]],
      ['DepthwiseConv2D', [1, 4, 4, 12]],
      ['Reshape', [2, 96]],
      ['FullyConnected', [2, 10]],
      ['FullyConnected', [2, 10]],
      ['Add', [2, 10]],
      ['BatchMatMul', [3, 4, 7]],
      ['Logistic', [1, 4]],
    ]);
  });
});

const shared = resolve(__dirname, '../../../shared');
const hasShared = existsSync(shared);
if (!hasShared) console.warn(`cost.test.ts: ${shared} is absent: the real-model MAC checks are skipped`);

/** MACs of a convolution layer from its shapes: out_h * out_w * Cout * kh * kw * Cin (per group). */
const conv = (outH: number, outW: number, cout: number, kh: number, kw: number, cin: number) => outH * outW * cout * kh * kw * cin;
const depthwise = (outH: number, outW: number, channels: number, kh: number, kw: number) => outH * outW * channels * kh * kw;
const fullyConnected = (cout: number, cin: number) => cout * cin;

/** Per-layer MACs of the MAC-counting layers (in graph order) and the published total. */
const MODELS: { file: string; layers: number[]; published: number }[] = [
  {
    // DS-CNN: 10x4 stride-2 conv 1->64 on 49x10 (out 25x5), 4 x (3x3 depthwise + 1x1 pointwise 64->64), FC 64->12.
    file: 'mlperf-tiny/kws_ref_model.tflite',
    layers: [
      conv(25, 5, 64, 10, 4, 1),
      ...Array.from({ length: 4 }, () => [depthwise(25, 5, 64, 3, 3), conv(25, 5, 64, 1, 1, 64)]).flat(),
      fullyConnected(12, 64),
    ],
    published: 2_656_768,
  },
  {
    // ResNet-8: 3x3 conv 3->16 at 32x32; stack 1: two 3x3 16->16; stack 2: 3x3 s2 16->32, 3x3 32->32, 1x1 s2
    // projection 16->32 at 16x16; stack 3: the same at 8x8 with 64 channels; FC 64->10.
    file: 'mlperf-tiny/resnet8_int8.tflite',
    layers: [
      conv(32, 32, 16, 3, 3, 3),
      conv(32, 32, 16, 3, 3, 16),
      conv(32, 32, 16, 3, 3, 16),
      conv(16, 16, 32, 3, 3, 16),
      conv(16, 16, 32, 3, 3, 32),
      conv(16, 16, 32, 1, 1, 16),
      conv(8, 8, 64, 3, 3, 32),
      conv(8, 8, 64, 3, 3, 64),
      conv(8, 8, 64, 1, 1, 32),
      fullyConnected(10, 64),
    ],
    published: 12_501_632,
  },
];

describe.skipIf(!hasShared)('graphCost on the MLPerf Tiny models', () => {
  it.each(MODELS)('$file: the hand count, layer by layer, and the published total', async ({ file, layers, published }) => {
    const cost = graphCost(await loadModel(resolve(shared, 'models', file)));
    const counted = cost.layers.filter((layer) => layer.macs > 0).map((layer) => layer.macs);
    expect([...counted].sort((a, b) => a - b)).toEqual([...layers].sort((a, b) => a - b));
    expect(layers.reduce((a, b) => a + b, 0)).toBe(published);
    expect(cost.macs).toBe(published);
  });

  it.each([
    ['mlperf-tiny/vww_96_int8.tflite', 7_489_664],
    ['mlperf-tiny/ad01_int8.tflite', 264_192],
  ])('%s: the published total', async (file, published) => {
    expect(graphCost(await loadModel(resolve(shared, 'models', file))).macs).toBe(published);
  });
});
