/**
 * A deploy result shaped like the MLPerf Tiny KWS model (DS-CNN) on the emulated STM32F405: its layers and their MACs
 * (src/ir/cost.ts on kws_ref_model.tflite), names in the style of its long fused TFLite tensor names, instruction
 * counts in the range BASELINES.md reports for this model, and the sizes of a typical firmware build. Built by hand
 * so the derived numbers can be checked exactly.
 */
import type { DeployResult } from '../../../src/report/index.js';

const tfliteName = (activation: number, parts: string[]) =>
  [`functional_1/activation${activation === 0 ? '' : `_${activation}`}/Relu`, ...parts].join(';');

export const KWS_LAYERS: { name: string; op: string; macs: number; instructions: number }[] = [
  {
    name: tfliteName(0, ['functional_1/batch_normalization/FusedBatchNormV3', 'functional_1/conv2d/BiasAdd', 'functional_1/conv2d/Conv2D1']),
    op: 'Conv2D',
    macs: 320_000,
    instructions: 1_120_400,
  },
  ...[1, 2, 3, 4].flatMap((block) => [
    {
      name: tfliteName(2 * block - 1, [`functional_1/depthwise_conv2d${block === 1 ? '' : `_${block - 1}`}/depthwise`]),
      op: 'DepthwiseConv2D',
      macs: 72_000,
      instructions: 561_000 + block,
    },
    {
      name: tfliteName(2 * block, [`functional_1/conv2d_${block}/BiasAdd`, `functional_1/conv2d_${block}/Conv2D1`]),
      op: 'Conv2D',
      macs: 512_000,
      instructions: 1_070_000 + block,
    },
  ]),
  { name: 'functional_1/average_pooling2d/AvgPool', op: 'AveragePool2D', macs: 0, instructions: 51_200 },
  { name: 'functional_1/flatten/Reshape', op: 'Reshape', macs: 0, instructions: 40 },
  { name: 'functional_1/dense/BiasAdd', op: 'FullyConnected', macs: 768, instructions: 2_500 },
  { name: 'Identity', op: 'Softmax', macs: 0, instructions: 2_480 },
];

/** Instructions spent by the run function and the timing hooks outside the layers. */
export const KWS_OUTSIDE = 1_300;
export const KWS_TOTAL = KWS_LAYERS.reduce((sum, layer) => sum + layer.instructions, 0) + KWS_OUTSIDE;
export const KWS_MACS = 2_656_768;

const SCORES = [-128, -128, -127, -128, 120, -128, -126, -128, -128, -100, -128, -128];

export function kwsResult(overrides: Partial<DeployResult> = {}): DeployResult {
  const run = { total: KWS_TOTAL, layers: KWS_LAYERS.map((layer) => layer.instructions) };
  return {
    model: {
      path: 'models/kws_ref_model.tflite',
      sha256: '5f9a4c2b0e7d13a8c6b1f0e2d9a7c4b3e8f1a2b3c4d5e6f708192a3b4c5d6e7f',
      name: 'kws_ref_model',
      macs: KWS_MACS,
      paramBytes: 24_368,
    },
    target: { name: 'qemu-stm32f405', core: 'cortex-m4', clockHz: 168_000_000, emulated: true, deviceClockHz: 16_000_000 },
    memory: {
      text: 61_840,
      data: 112,
      bss: 37_024,
      flashUsed: 61_952,
      flashSize: 1024 * 1024,
      ramUsed: 37_136,
      ramSize: 128 * 1024,
      stackBytes: 4096,
      arenaBytes: 16_000,
      weightsBytes: 25_392,
    },
    layers: KWS_LAYERS.map(({ name, op, macs }) => ({ name, op, macs })),
    // QEMU under -icount repeats every count exactly.
    timing: { unit: 'instructions', warmups: 1, runs: [run, run, run] },
    outputs: [
      { name: 'Identity', dtype: 'int8', shape: [1, 12], device: Int8Array.from(SCORES), reference: Int8Array.from(SCORES) },
    ],
    tool: { version: '0.1.0', commit: '7c58067', date: '2026-12-01T10:00:00.000Z' },
    ...overrides,
  };
}
