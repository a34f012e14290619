/**
 * Float models built with the ONNX builder, for what MNIST does not have: BatchNormalization, depthwise Conv, Clip,
 * a residual Add, GlobalAveragePool, Gemm, Softmax, several outputs, several inputs, and an old opset (Clip / Pad /
 * Squeeze attributes, legacy Softmax). Each is quantized, imported by tinyedge and compared with the float model.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import { onnx } from '../../src/frontend/onnx/proto.js';
import { decodeTensorProto } from '../../src/frontend/onnx/tensor-proto.js';
import { quantizeModel, type QuantizeResult } from '../../src/quantize/index.js';
import { seededFloats } from '../support/onnx-builder.js';
import { legacyOpsetModel, manyOpsModel, smallCnnModel, twoInputModel, writeNpy, writeSampleDirectories } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinyedge-quantize-synthetic-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function modelFile(name: string, bytes: Uint8Array): string {
  const file = join(scratch, name);
  writeFileSync(file, bytes);
  return file;
}

/** One .npy holding `count` samples along axis 0 of a model whose input is [1, ...rest]. */
function batchDirectory(name: string, rest: number[], count: number, seed: number): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const size = rest.reduce((a, b) => a * b, 1);
  writeNpy(join(dir, 'batch.npy'), [count, ...rest], seededFloats(count * size, -1, 1, seed));
  return dir;
}

function quantize(model: string, calibration: string, extra: { eval?: string; perChannel?: boolean } = {}): Promise<QuantizeResult> {
  return quantizeModel({ model, calibration, output: join(scratch, 'out.onnx'), method: { kind: 'minmax' }, perChannel: extra.perChannel ?? true, ...(extra.eval ? { eval: extra.eval } : {}) });
}

describe('a small CNN (Conv+BatchNormalization+Relu, depthwise Conv+bias+Clip, residual Add, pools, Gemm, Softmax)', () => {
  let result: QuantizeResult;

  it('quantizes, with the BatchNormalization and the bias Add folded into the convolutions', async () => {
    const model = modelFile('cnn.onnx', smallCnnModel());
    result = await quantize(model, batchDirectory('cnn-calibration', [3, 8, 8], 24, 1), { eval: batchDirectory('cnn-eval', [3, 8, 8], 8, 2) });
    const written = onnx.ModelProto.decode(result.bytes);
    const ops = written.graph!.node.map((n) => n.opType).filter((op) => !op.endsWith('uantizeLinear'));
    expect(ops).toEqual(['Conv', 'Relu', 'Conv', 'Clip', 'Add', 'MaxPool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax']);
    expect(result.summary).toMatchObject({ fused: 2, weights: 3, biases: 3 });
    // Softmax output: the fixed parameters TFLite-Micro's softmax requires.
    const softmaxQ = written.graph!.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === 'probs_float')!;
    const scale = written.graph!.initializer.find((t) => t.name === softmaxQ.input[1])!;
    expect(decodeTensorProto(scale).data[0]).toBe(1 / 256);
  });

  it('tinyedge imports it: depthwise convolution, fused clamps, one integer node per float op', () => {
    const graph = importOnnx(result.bytes, 'cnn.int8.onnx');
    expect(graph.unsupported).toEqual([]);
    const ops = graph.nodes.map((n) => n.op);
    expect(ops).toContain('DepthwiseConv2D');
    expect(ops).toContain('Softmax');
    expect(ops).not.toContain('Relu');
    expect(ops).not.toContain('Relu6');
  });

  it('stays close to the float model on the calibration and the held-out samples, on both engines', () => {
    expect(result.evaluations.map((e) => [e.set, e.samples])).toEqual([
      ['calibration', 24],
      ['eval', 8],
    ]);
    for (const evaluation of result.evaluations) {
      const [logits, probs] = evaluation.outputs;
      expect(logits!.name).toBe('logits');
      expect(probs!.name).toBe('probs');
      for (const metrics of [logits!.onnxruntime, logits!.reference, probs!.onnxruntime, probs!.reference]) {
        expect(metrics.minCosine).toBeGreaterThan(0.99);
      }
      expect(logits!.reference.top1Agreement).toBeGreaterThanOrEqual(0.75);
      // Softmax outputs are in [0, 1] with steps of 1/256.
      expect(probs!.reference.maxAbsError).toBeLessThan(0.05);
    }
  });
});

describe('a model of opset 9 (MatMul + Add, Clip and Unsqueeze with attributes, legacy Softmax over axis 1)', () => {
  it('moves it to opset 13, restating each op, and onnxruntime and tinyedge agree with the float model', async () => {
    const model = modelFile('legacy.onnx', legacyOpsetModel());
    const result = await quantize(model, batchDirectory('legacy-calibration', [16], 32, 3));
    const written = onnx.ModelProto.decode(result.bytes);
    expect(Number(written.opsetImport[0]!.version)).toBe(13);
    const nodes = written.graph!.node;
    const ops = nodes.map((n) => n.opType).filter((op) => !op.endsWith('uantizeLinear'));
    // MatMul + Add is one Gemm with an int32 bias; the legacy Softmax over axis 1 of [1, 3, 4] is over all 12
    // values: Flatten -> Softmax(-1) -> Reshape.
    expect(ops).toEqual(['Gemm', 'Clip', 'Reshape', 'Flatten', 'Softmax', 'Reshape', 'Unsqueeze']);
    const clip = nodes.find((n) => n.opType === 'Clip')!;
    expect(clip.attribute).toEqual([]);
    expect(clip.input).toHaveLength(3);
    expect(nodes.find((n) => n.opType === 'Unsqueeze')!.input).toHaveLength(2);

    const graph = importOnnx(result.bytes, 'legacy.int8.onnx');
    expect(graph.unsupported).toEqual([]);
    const [y] = result.evaluations[0]!.outputs;
    expect(y!.shape).toEqual([1, 1, 3, 4]);
    expect(y!.onnxruntime.minCosine).toBeGreaterThan(0.99);
    expect(y!.reference.minCosine).toBeGreaterThan(0.99);

    // The float model itself still runs as it did: the quantized model's float interface is its.
    const session = await ort.InferenceSession.create(result.bytes);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
  });
});

describe('a model with two inputs, calibrated from one sub-directory per sample', () => {
  it('matches files to inputs by name and quantizes the constant operand', async () => {
    const model = modelFile('two.onnx', twoInputModel());
    const samples = Array.from({ length: 6 }, (_, i) => [
      { name: 'b', shape: [1, 4], values: seededFloats(4, -2, 2, 10 + i) },
      { name: 'a', shape: [1, 4], values: seededFloats(4, -1, 3, 20 + i) },
    ]);
    const result = await quantize(model, writeSampleDirectories(join(scratch, 'two-calibration'), samples), { perChannel: false });
    const graph = importOnnx(result.bytes, 'two.int8.onnx');
    expect(graph.inputs.map((io) => io.name)).toEqual(['a', 'b']);
    expect(graph.nodes.map((n) => n.op)).toEqual(['Quantize', 'Quantize', 'Add', 'Mul', 'Dequantize']);
    const [y] = result.evaluations[0]!.outputs;
    expect(y!.reference.minCosine).toBeGreaterThan(0.99);
    expect(y!.onnxruntime.minCosine).toBeGreaterThan(0.99);
  });
});

describe('one of each other op (Sigmoid, Tanh, Concat, Pad, AveragePool, LeakyRelu, HardSwish, Transpose, ReduceMean, Neg, Mul, Sub, Unsqueeze, Squeeze, MatMul)', () => {
  it('quantizes, imports and stays close to the float model', async () => {
    const model = modelFile('many.onnx', manyOpsModel());
    const result = await quantize(model, batchDirectory('many-calibration', [4, 6, 6], 16, 5));
    const graph = importOnnx(result.bytes, 'many.int8.onnx');
    expect(graph.unsupported).toEqual([]);
    const [y] = result.evaluations[0]!.outputs;
    expect(y!.onnxruntime.minCosine).toBeGreaterThan(0.99);
    expect(y!.reference.minCosine).toBeGreaterThan(0.99);
  });
});
