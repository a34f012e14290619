/**
 * ONNX importer against the ONNX backend node tests (onnx/onnx v1.22.0) and onnxruntime's contrib-op tests
 * (via onnx2c): every model imports or names why not; the reference interpreter reproduces their .pb outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelError, NodeError } from '../../src/errors.js';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import { inferShapes } from '../../src/ir/shapes.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { validateGraph } from '../../src/ir/validate.js';
import { runReference } from '../../src/reference/interpreter.js';
import { bindParameterInputs, OnnxDataType, readTestDataSet, testDataSetCount, type OnnxTensorValue } from '../support/onnx-testdata.js';

const repoRoot = path.resolve(__dirname, '../..');
const shared = path.resolve(repoRoot, '../shared');
const hasShared = existsSync(path.join(shared, 'models'));
if (!hasShared) console.warn(`skipping ONNX backend-test checks: ${shared}/models is absent`);

interface BackendTest {
  name: string;
  dir: string;
}

function backendTests(): BackendTest[] {
  if (!hasShared) return [];
  return ['onnx-node-tests', 'onnx-contrib-tests'].flatMap((group) =>
    readdirSync(path.join(shared, 'models', group))
      .filter((name) => existsSync(path.join(shared, 'models', group, name, 'model.onnx')))
      .map((name) => ({ name, dir: path.join(shared, 'models', group, name) })),
  );
}

/** Models that use what tinyedge does not run (float16 scales, blocked or 16-bit quantization), with the reason. */
const EXPECTED_UNSUPPORTED: Record<string, RegExp> = {
  test_dequantizelinear_blocked: /blocked quantization/,
  test_quantizelinear_blocked_asymmetric: /blocked quantization/,
  test_quantizelinear_blocked_symmetric: /blocked quantization/,
  test_dequantizelinear_int16: /16-bit|int16/,
  test_dequantizelinear_uint16: /16-bit|uint16/,
  test_quantizelinear_int16: /16-bit/,
  test_quantizelinear_uint16: /16-bit/,
  test_qlinearmatmul_2D_int8_float16: /float16 quantization scales/,
  test_qlinearmatmul_2D_uint8_float16: /float16 quantization scales/,
  test_qlinearmatmul_3D_int8_float16: /float16 quantization scales/,
  test_qlinearmatmul_3D_uint8_float16: /float16 quantization scales/,
};

const FLOAT_MODELS = new Set(['mnist-8-float']);

function importBound(test: BackendTest, dataSet = 0): { graph: Graph; inputs: OnnxTensorValue[]; outputs: OnnxTensorValue[] } {
  const data = readTestDataSet(test.dir, dataSet);
  const bound = bindParameterInputs(readFileSync(path.join(test.dir, 'model.onnx')), data);
  return { graph: importOnnx(bound.bytes, `${test.name}/model.onnx`), inputs: bound.inputs, outputs: data.outputs };
}

/** Test data -> IR input: uint8 data of an int8 IR tensor is shifted by 128. */
function irInput(graph: Graph, index: number, value: OnnxTensorValue): TensorData {
  const tensor = graph.tensors.get(graph.inputs[index]!.tensor)!;
  if (tensor.dtype === 'int8' && value.dataType === OnnxDataType.UINT8) return Int8Array.from(value.data as Uint8Array, (v) => v - 128);
  return value.data as TensorData;
}

/** IR output -> the ONNX value it stands for (int8 of a uint8 output shifted back). */
function onnxOutput(graph: Graph, index: number, data: TensorData): number[] {
  const io = graph.outputs[index]!;
  const shift = graph.tensors.get(io.tensor)!.dtype === 'int8' && io.externalDtype === 'uint8' ? 128 : 0;
  return Array.from(data as ArrayLike<number>, (v) => Number(v) + shift);
}

describe.skipIf(!hasShared)('ONNX backend tests: import', () => {
  for (const t of backendTests()) {
    test(`${t.name} imports${EXPECTED_UNSUPPORTED[t.name] ? ' and reports what it cannot run' : ''}`, () => {
      if (FLOAT_MODELS.has(t.name)) {
        const run = () => importOnnx(readFileSync(path.join(t.dir, 'model.onnx')), `${t.name}/model.onnx`);
        expect(run).toThrow(ModelError);
        expect(run).toThrow(/is a float model \(not quantized\) — run `tinyedge quantize FILE --calibration DIR -o FILE\.int8\.onnx`/);
        return;
      }
      const { graph } = importBound(t);
      const expected = EXPECTED_UNSUPPORTED[t.name];
      if (expected) {
        expect(graph.unsupported.length).toBeGreaterThan(0);
        expect(graph.unsupported.map((u) => u.reason).join('; ')).toMatch(expected);
        for (const entry of graph.unsupported) expect(entry.node).toBeTruthy();
        return;
      }
      expect(graph.unsupported).toEqual([]);
      expect(graph.format).toMatch(/^onnx/);
      validateGraph(graph);
    });
  }
});

describe.skipIf(!hasShared)('ONNX backend tests: reference outputs within 1 LSB of the .pb outputs', () => {
  for (const t of backendTests().filter((t) => !EXPECTED_UNSUPPORTED[t.name] && !FLOAT_MODELS.has(t.name))) {
    test(t.name, () => {
      for (let set = 0; set < testDataSetCount(t.dir); set++) {
        const { graph, inputs, outputs } = importBound(t, set);
        const irInputs = graph.inputs.map((io, i) => {
          const value = inputs.find((v) => v.name === io.name);
          if (!value) throw new Error(`no test data for input '${io.name}'`);
          return irInput(graph, i, value);
        });
        const result = runReference(graph, irInputs);
        expect(result.outputs.length).toBe(outputs.length);
        result.outputs.forEach((data, i) => {
          const expected = Array.from(outputs[i]!.data as ArrayLike<number>, Number);
          const actual = onnxOutput(graph, i, data);
          expect(actual.length).toBe(expected.length);
          const isFloat = graph.outputs[i]!.externalDtype === 'float32';
          const diffs = actual.map((v, k) => Math.abs(v - expected[k]!));
          if (isFloat) {
            // Float outputs (DequantizeLinear, DynamicQuantizeLinear's scale): float32 arithmetic, so a relative 1e-6.
            diffs.forEach((d, k) => expect(d).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[k]!))));
          } else {
            expect(Math.max(0, ...diffs), `${t.name} output ${graph.outputs[i]!.name}`).toBeLessThanOrEqual(1);
          }
        });
      }
    });
  }
});

describe.skipIf(!hasShared)('ONNX QLinearConv structure', () => {
  const dir = path.join(shared, 'models/onnx-node-tests/test_qlinearconv');

  test('weights become OHWI int8 with zero points shifted by 128; activations become NHWC behind Transposes', () => {
    const data = readTestDataSet(dir);
    const { graph } = importBound({ name: 'test_qlinearconv', dir });
    const value = (name: string) => Number(data.inputs.find((t) => t.name === name)!.data[0]);
    const conv = graph.nodes.find((n) => n.op === 'Conv2D')!;
    expect(conv.name).toBe('QLinearConv_0');
    const [x, w] = conv.inputs.map((name) => graph.tensors.get(name)!);
    expect(w!.shape).toEqual([1, 1, 1, 1]);
    expect(w!.dtype).toBe('int8');
    expect(w!.data).toBeInstanceOf(Int8Array);
    const rawWeight = Number(data.inputs.find((t) => t.name === 'w')!.data[0]);
    expect(w!.data![0]).toBe(rawWeight - 128);
    expect(w!.quant!.zeroPoint).toEqual([value('w_zero_point') - 128]);
    expect(w!.quant!.scale).toEqual([Math.fround(value('w_scale'))]);
    expect(x!.shape).toEqual([1, 7, 7, 1]);
    expect(x!.quant!.zeroPoint).toEqual([value('x_zero_point') - 128]);
    const y = graph.tensors.get(conv.outputs[0]!)!;
    expect(y.quant!.zeroPoint).toEqual([value('y_zero_point') - 128]);
    // The user-facing tensors keep ONNX's NCHW shape and uint8 type.
    expect(graph.tensors.get('x')!.shape).toEqual([1, 1, 7, 7]);
    expect(graph.inputs).toEqual([{ tensor: 'x', externalDtype: 'uint8', name: 'x' }]);
    expect(graph.tensors.get(graph.outputs[0]!.tensor)!.shape).toEqual([1, 1, 7, 7]);
    expect(graph.outputs[0]!.externalDtype).toBe('uint8');
  });

  test('without bound parameters the node is named in a NodeError', () => {
    const run = () => importOnnx(readFileSync(path.join(dir, 'model.onnx')), 'test_qlinearconv/model.onnx');
    expect(run).toThrow(NodeError);
    expect(run).toThrow(/node 'QLinearConv_0' \(QLinearConv\): scale 'x_scale' is not a constant/);
  });

  test('ConvInteger keeps per-channel weight zero points and produces int32', () => {
    const t = { name: 'test_convinteger_with_padding', dir: path.join(shared, 'models/onnx-node-tests/test_convinteger_with_padding') };
    const { graph } = importBound(t);
    const conv = graph.nodes.find((n) => n.op === 'Conv2D')!;
    const w = graph.tensors.get(conv.inputs[1]!)!;
    expect(w.shape).toEqual([2, 2, 2, 1]);
    expect(w.quant!.zeroPoint.length).toBe(2);
    expect(w.quant!.axis).toBe(0);
    expect(graph.tensors.get(conv.outputs[0]!)!.dtype).toBe('int32');
    expect(conv.op === 'Conv2D' && conv.attrs.padding).toEqual({ top: 1, left: 1, bottom: 1, right: 1 });
  });
});

describe.skipIf(!hasShared)('ONNX shapes of imported graphs', () => {
  test('inferShapes re-derives the shapes the importer gave every tensor', () => {
    for (const t of backendTests().filter((t) => !EXPECTED_UNSUPPORTED[t.name] && !FLOAT_MODELS.has(t.name))) {
      const { graph } = importBound(t);
      const before = new Map([...graph.tensors].map(([name, tensor]) => [name, [...tensor.shape]]));
      for (const node of graph.nodes) for (const output of node.outputs) graph.tensors.get(output)!.shape = [];
      inferShapes(graph);
      for (const [name, shape] of before) expect(graph.tensors.get(name)!.shape, `${t.name}: ${name}`).toEqual(shape);
    }
  });
});

describe('ONNX malformed files', () => {
  const file = 'broken.onnx';

  test('random bytes are a one-line ModelError naming the file', () => {
    let state = 12345;
    const bytes = Uint8Array.from({ length: 4096 }, () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    expectModelError(() => importOnnx(bytes, file));
  });

  test('a truncated model is a one-line ModelError naming the file', () => {
    if (!hasShared) return;
    const bytes = readFileSync(path.join(shared, 'models/onnx-node-tests/test_qlinearconv/model.onnx'));
    for (const cut of [bytes.length - 3, Math.floor(bytes.length / 2), 7]) expectModelError(() => importOnnx(bytes.subarray(0, cut), file));
  });

  test('empty input and a TFLite flatbuffer are ModelErrors', () => {
    expectModelError(() => importOnnx(new Uint8Array(), file));
    if (!hasShared) return;
    expectModelError(() => importOnnx(readFileSync(path.join(shared, 'models/tflm/hello_world_int8.tflite')), file));
  });
});

function expectModelError(run: () => unknown): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ModelError);
  const message = (error as Error).message;
  expect(message.startsWith('broken.onnx: ')).toBe(true);
  expect(message).not.toContain('\n');
}
