/**
 * ONNX backend-test data: model.onnx plus test_data_set_N/{input,output}_K.pb (TensorProto files).
 *
 * The node tests feed every operand, quantization parameters included, as a graph input. A compiler needs static
 * parameters, so bindParameterInputs moves the parameter inputs (scales, zero points, convolution weights) into
 * initializers, exactly as a deployed model would hold them; the remaining inputs stay run-time inputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { onnx, OnnxDataType } from '../../src/frontend/onnx/proto.js';
import { decodeTensorProto, type OnnxTensorValue } from '../../src/frontend/onnx/tensor-proto.js';

export type { OnnxTensorValue };

/** One TensorProto .pb file as a typed array with its dims. */
export function readTensorPb(file: string): OnnxTensorValue {
  return decodeTensorProto(onnx.TensorProto.decode(readFileSync(file)));
}

export interface TestDataSet {
  inputs: OnnxTensorValue[];
  outputs: OnnxTensorValue[];
}

/** test_data_set_N of a backend-test folder; tensors named after the model's inputs / outputs when the .pb has none. */
export function readTestDataSet(folder: string, index = 0): TestDataSet {
  const dir = path.join(folder, `test_data_set_${index}`);
  const model = onnx.ModelProto.decode(readFileSync(path.join(folder, 'model.onnx')));
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputNames = (model.graph?.input ?? []).map((v) => v.name ?? '').filter((name) => !initializers.has(name));
  const outputNames = (model.graph?.output ?? []).map((v) => v.name ?? '');
  const read = (prefix: string, names: string[]): OnnxTensorValue[] => {
    const files = readdirSync(dir)
      .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
      .sort((a, b) => Number(a.slice(prefix.length + 1, -3)) - Number(b.slice(prefix.length + 1, -3)));
    return files.map((f, i) => {
      const tensor = readTensorPb(path.join(dir, f));
      return { ...tensor, name: tensor.name || names[i] || `${prefix}_${i}` };
    });
  };
  return { inputs: read('input', inputNames), outputs: read('output', outputNames) };
}

export function testDataSetCount(folder: string): number {
  let n = 0;
  while (existsSync(path.join(folder, `test_data_set_${n}`))) n++;
  return n;
}

/** Input positions holding quantization parameters or weights, per op, in the node tests' graphs. */
const PARAMETER_INPUTS: Record<string, number[]> = {
  QuantizeLinear: [1, 2],
  DequantizeLinear: [1, 2],
  QLinearConv: [1, 2, 3, 4, 5, 6, 7, 8],
  QLinearMatMul: [1, 2, 4, 5, 6, 7],
  ConvInteger: [1, 2, 3],
  MatMulInteger: [2, 3],
  QLinearAdd: [1, 2, 4, 5, 6, 7],
  QLinearMul: [1, 2, 4, 5, 6, 7],
};

export interface BoundModel {
  bytes: Uint8Array;
  /** The test data of the inputs that remain graph inputs, in the new model's input order. */
  inputs: OnnxTensorValue[];
  /** Names of the inputs that became initializers. */
  bound: string[];
}

/** Re-encode `modelBytes` with the parameter inputs of its nodes turned into initializers holding `data`'s values. */
export function bindParameterInputs(modelBytes: Uint8Array, data: TestDataSet): BoundModel {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const byName = new Map(data.inputs.map((t) => [t.name, t]));
  const bound = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const index of PARAMETER_INPUTS[node.opType ?? ''] ?? []) {
      const name = node.input?.[index];
      if (name && byName.has(name)) bound.add(name);
    }
  }
  for (const name of bound) {
    const value = byName.get(name)!;
    graph.initializer = [...(graph.initializer ?? []), tensorProto(name, value)];
  }
  graph.input = (graph.input ?? []).filter((input) => !bound.has(input.name ?? ''));
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    inputs: data.inputs.filter((t) => !bound.has(t.name)),
    bound: [...bound],
  };
}

function tensorProto(name: string, value: OnnxTensorValue) {
  const bytes = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength).slice();
  return onnx.TensorProto.create({ name, dataType: value.dataType, dims: value.dims, rawData: bytes });
}

export { OnnxDataType };
