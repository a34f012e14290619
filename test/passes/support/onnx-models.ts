/**
 * ONNX QDQ models for the pass tests, built with the ONNX frontend's test builder and imported with importOnnx: the
 * NCHW forms the frontend produces (boundary Transposes, the NCHW channel shuffle, Flatten before Gemm).
 */
import { importOnnx } from '../../../src/frontend/onnx/index.js';
import type { Graph } from '../../../src/ir/types.js';
import { OnnxGraphBuilder, seededIntegers, type AttributeValue } from '../../support/onnx-builder.js';

const INPUT_SCALE = 0.03;
const ACTIVATION_SCALE = 0.05;

/** DQ(x) -> Conv kxk -> Q -> DQ, per-channel int8 weights, int32 bias; returns the dequantized result. */
export function qdqConv(b: OnnxGraphBuilder, x: string, inputScale: number, channelsIn: number, channelsOut: number, options: { kernel?: number; seed?: number; groups?: number; relu?: boolean } = {}): string {
  const kernel = options.kernel ?? 1;
  const groups = options.groups ?? 1;
  const seed = options.seed ?? channelsOut;
  const scales = Array.from({ length: channelsOut }, (_, c) => 0.004 + 0.001 * (c % 3));
  const w = b.quantizedInitializer(b.fresh('w'), 'int8', [channelsOut, channelsIn / groups, kernel, kernel], seededIntegers(channelsOut * (channelsIn / groups) * kernel * kernel, -127, 127, seed), scales, scales.map(() => 0), 0);
  const biasScales = scales.map((s) => Math.fround(inputScale * s));
  const bias = b.quantizedInitializer(b.fresh('bias'), 'int32', [channelsOut], seededIntegers(channelsOut, -500, 500, seed + 1), biasScales, biasScales.map(() => 0), 0);
  const attributes: Record<string, AttributeValue> = { kernel_shape: [kernel, kernel], group: groups };
  if (kernel > 1) attributes['pads'] = [1, 1, 1, 1];
  let y = b.node('Conv', [x, w, bias], [b.fresh('conv')], attributes, { name: b.fresh('Conv') });
  if (options.relu) y = b.node('Relu', [y], [b.fresh('relu')], {}, { name: b.fresh('Relu') });
  return b.dequantize(b.quantize(y, ACTIVATION_SCALE, -5), ACTIVATION_SCALE, -5);
}

/** float NCHW input -> Q -> DQ -> `body` -> Q -> DQ -> float output: a QDQ model as exported from a framework. */
export function qdqModel(name: string, inputShape: number[], outputShape: number[], body: (b: OnnxGraphBuilder, x: string) => string): Graph {
  const b = new OnnxGraphBuilder(name, 13);
  const input = b.input('input', 'float', inputShape);
  const x = b.dequantize(b.quantize(input, INPUT_SCALE, 3), INPUT_SCALE, 3);
  const y = body(b, x);
  b.dequantize(b.quantize(y, ACTIVATION_SCALE, -5), ACTIVATION_SCALE, -5, 'int8', { output: 'output' });
  b.output('output', 'float', outputShape);
  return importOnnx(b.build(), `${name}.onnx`);
}

export { ACTIVATION_SCALE, INPUT_SCALE };
