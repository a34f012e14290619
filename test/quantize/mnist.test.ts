/**
 * Post-training quantization of a real float model: the ONNX model zoo MNIST (Conv, Add, Relu, MaxPool, Reshape,
 * MatMul, Add; opset 8) calibrated on its 3 real test sets. The quantized model must run in onnxruntime, import into
 * tinyedge, and keep the float model's answers on those digits (their output_0.pb holds the float model's logits).
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/frontend/index.js';
import { onnx } from '../../src/frontend/onnx/proto.js';
import { decodeTensorProto } from '../../src/frontend/onnx/tensor-proto.js';
import type { Graph } from '../../src/ir/types.js';
import { argmax, cosineSimilarity } from '../../src/quantize/metrics.js';
import { quantizeModel, type QuantizeOptions, type QuantizeResult } from '../../src/quantize/index.js';
import { openBoard, prepareDeployment, runDeployment } from '../../src/deploy/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { readTensorPb } from '../support/onnx-testdata.js';
import { mnistFolder } from './support.js';

const hasMnist = existsSync(join(mnistFolder, 'model.onnx'));
if (!hasMnist) console.warn(`${mnistFolder} is absent: the MNIST quantization tests are skipped`);

const scratch = mkdtempSync(join(tmpdir(), 'tinyedge-quantize-mnist-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const testSets = [0, 1, 2].map((n) => ({
  input: () => readTensorPb(join(mnistFolder, `test_data_set_${n}/input_0.pb`)),
  expected: () => readTensorPb(join(mnistFolder, `test_data_set_${n}/output_0.pb`)).data as Float32Array,
}));

function options(output: string, overrides: Partial<QuantizeOptions> = {}): QuantizeOptions {
  return { model: join(mnistFolder, 'model.onnx'), calibration: mnistFolder, output, method: { kind: 'minmax' }, perChannel: true, ...overrides };
}

async function onnxruntimeLogits(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic' });
  const results = await session.run({ Input3: new ort.Tensor('float32', input, [1, 1, 28, 28]) });
  return results.Plus214_Output_0!.data as Float32Array;
}

describe.skipIf(!hasMnist)('quantize MNIST (float, opset 8) calibrated on its 3 real test sets', () => {
  const file = join(scratch, 'mnist.int8.onnx');
  let result: QuantizeResult;
  let graph: Graph;

  beforeAll(async () => {
    result = await quantizeModel(options(file));
    writeFileSync(file, result.bytes);
    graph = await loadModel(file);
  });

  it('writes a QDQ model: opset 13, per-channel int8 weights, int32 biases, Conv->Relu as one unit, MaxPool/Reshape sharing their parameters', () => {
    const model = onnx.ModelProto.decode(result.bytes);
    expect(Number(model.opsetImport[0]!.version)).toBe(13);
    const nodes = model.graph!.node;
    const producer = (tensor: string) => nodes.find((n) => n.output.includes(tensor))!;
    const initializer = (name: string) => decodeTensorProto(model.graph!.initializer.find((t) => t.name === name)!);

    // The bias Adds are folded: Conv, Conv, and MatMul + Add became a Gemm.
    expect(nodes.filter((n) => n.opType !== 'QuantizeLinear' && n.opType !== 'DequantizeLinear').map((n) => n.opType)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Reshape', 'Gemm']);
    for (const op of nodes.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm')) {
      const weights = producer(op.input[1]!);
      expect(weights.opType).toBe('DequantizeLinear');
      const data = initializer(weights.input[0]!);
      expect(data.data).toBeInstanceOf(Int8Array);
      expect(Math.min(...(data.data as Int8Array))).toBeGreaterThanOrEqual(-127);
      const channels = op.opType === 'Conv' ? data.dims[0]! : data.dims[1]!;
      expect(initializer(weights.input[1]!).dims).toEqual([channels]);
      expect(Number(weights.attribute.find((a) => a.name === 'axis')!.i)).toBe(op.opType === 'Conv' ? 0 : 1);
      const bias = producer(op.input[2]!);
      expect(initializer(bias.input[0]!).data).toBeInstanceOf(Int32Array);
      // Bias scale = input scale x weight scale, per channel.
      const inputScale = (initializer(producer(op.input[0]!).input[1]!).data as Float32Array)[0]!;
      const weightScales = initializer(weights.input[1]!).data as Float32Array;
      const biasScales = initializer(bias.input[1]!).data as Float32Array;
      biasScales.forEach((s, c) => expect(s).toBe(Math.fround(inputScale * weightScales[c]!)));
    }
    // Conv -> Relu with no QuantizeLinear between, one after the Relu.
    for (const relu of nodes.filter((n) => n.opType === 'Relu')) {
      expect(producer(relu.input[0]!).opType).toBe('Conv');
      expect(nodes.filter((n) => n.input.includes(relu.output[0]!)).map((n) => n.opType)).toEqual(['QuantizeLinear']);
    }
    // Data movement: the QuantizeLinear after it has its DequantizeLinear's parameters.
    for (const op of nodes.filter((n) => n.opType === 'MaxPool' || n.opType === 'Reshape')) {
      const before = producer(op.input[0]!);
      const after = nodes.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === op.output[0])!;
      expect(after.input.slice(1)).toEqual(before.input.slice(1));
    }
    // The float interface is kept: same input and output declarations.
    expect(model.graph!.input.map((i) => i.name)).toEqual(['Input3']);
    expect(model.graph!.output.map((o) => o.name)).toEqual(['Plus214_Output_0']);
  });

  it('onnxruntime runs the quantized model and it keeps the float answer on every real test set', async () => {
    for (const set of testSets) {
      const logits = await onnxruntimeLogits(result.bytes, set.input().data as Float32Array);
      const expected = set.expected();
      expect(argmax(logits, 0, 10)).toBe(argmax(expected, 0, 10));
      expect(cosineSimilarity(logits, expected)).toBeGreaterThan(0.99);
    }
  });

  it('tinyedge imports it (loadModel) and the reference interpreter keeps the float answer; cosine > 0.99 on the logits', () => {
    expect(graph.format).toBe('onnx-qdq');
    expect(graph.unsupported).toEqual([]);
    const ops = graph.nodes.map((n) => n.op);
    expect(ops.filter((op) => op === 'Conv2D')).toHaveLength(2);
    expect(ops.filter((op) => op === 'MaxPool2D')).toHaveLength(2);
    expect(ops.filter((op) => op === 'FullyConnected')).toHaveLength(1);
    // The Relus are fused into the convolutions (clamped at the int8 zero point), not separate nodes.
    expect(ops).not.toContain('Relu');
    const predictions = new Set<number>();
    for (const set of testSets) {
      const { outputs } = runReference(graph, [set.input().data as Float32Array]);
      const logits = outputs[0] as Float32Array;
      const expected = set.expected();
      expect(argmax(logits, 0, 10)).toBe(argmax(expected, 0, 10));
      expect(cosineSimilarity(logits, expected)).toBeGreaterThan(0.99);
      predictions.add(argmax(expected, 0, 10));
    }
    // The three digits are different ones, so agreement is not one class by chance.
    expect(predictions.size).toBe(3);
  });

  it('reports the same comparison: top-1 3/3 and cosine > 0.99 on both engines', () => {
    const [calibration] = result.evaluations;
    expect(result.evaluations).toHaveLength(1);
    expect(calibration).toMatchObject({ set: 'calibration', samples: 3 });
    const [logits] = calibration!.outputs;
    expect(logits).toMatchObject({ name: 'Plus214_Output_0', shape: [1, 10] });
    for (const engine of [logits!.onnxruntime, logits!.reference]) {
      expect(engine.top1Agreement).toBe(1);
      expect(engine.rows).toBe(3);
      expect(engine.minCosine).toBeGreaterThan(0.99);
      expect(engine.maxAbsError).toBeGreaterThan(0);
    }
    expect(result.summary).toMatchObject({ opset: 13, calibrationSamples: 3, weights: 3, biases: 3, fused: 2 });
  });

  it('per-tensor weights and percentile calibration keep the answers too', async () => {
    for (const variant of [{ perChannel: false }, { method: { kind: 'percentile', percentile: 99.99 } as const }]) {
      const other = await quantizeModel(options(join(scratch, 'variant.onnx'), variant));
      const [logits] = other.evaluations[0]!.outputs;
      expect(logits!.reference.top1Agreement).toBe(1);
      expect(logits!.reference.minCosine).toBeGreaterThan(0.99);
      if (!('perChannel' in variant)) continue;
      const model = onnx.ModelProto.decode(other.bytes);
      const weightScales = model.graph!.initializer.filter((t) => t.name!.endsWith('_scale') && t.name!.startsWith('Parameter'));
      expect(weightScales).toHaveLength(3);
      for (const scale of weightScales) expect(scale.dims).toEqual([]);
    }
  });

  it('--eval: calibrated on two test sets, evaluated on the held-out third', async () => {
    const calibrationDir = join(scratch, 'calibration');
    for (const n of [0, 1]) cpSync(join(mnistFolder, `test_data_set_${n}`), join(calibrationDir, `test_data_set_${n}`), { recursive: true });
    const heldOut = await quantizeModel(options(join(scratch, 'heldout.onnx'), { calibration: calibrationDir, eval: join(mnistFolder, 'test_data_set_2') }));
    expect(heldOut.summary.calibrationSamples).toBe(2);
    const [, evaluation] = heldOut.evaluations;
    expect(evaluation).toMatchObject({ set: 'eval', samples: 1 });
    expect(evaluation!.outputs[0]!.reference.top1Agreement).toBe(1);
    expect(evaluation!.outputs[0]!.onnxruntime.top1Agreement).toBe(1);
    expect(evaluation!.outputs[0]!.reference.cosine).toBeGreaterThan(0.99);
  });

  it('deploys to the emulated STM32F405 bit-exactly, keeping the float model\'s answer on the 3 real digits', async () => {
    const digits = testSets.map((set) => set.input().data as Float32Array);
    const deployment = await prepareDeployment({ model: file, inputs: [digits[0]!] });
    try {
      const board = await openBoard(deployment.target);
      try {
        for (const [n, digit] of digits.entries()) {
          const outcome = await runDeployment(deployment, board, { inputs: [digit], runs: 1, warmups: 0, diagnose: false });
          expect(outcome.validation, `digit ${n}`).toMatchObject({ bitExact: true, mismatches: 0 });
          const device = Float32Array.from(outcome.report.outputs[0]!.data as number[]);
          expect(argmax(device), `digit ${n}`).toBe(argmax(testSets[n]!.expected()));
        }
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });
});
