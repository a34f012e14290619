/**
 * onnxruntime-node as an independent oracle: run an ONNX model there and through importOnnx + the reference
 * interpreter, and compare the outputs in the model's own terms (uint8 outputs as uint8).
 *
 * The oracle runs at graph optimization level 'basic': a QDQ graph is then evaluated as ONNX defines it
 * (DequantizeLinear -> float op -> QuantizeLinear). At 'extended'/'all' onnxruntime fuses QDQ into its int8 kernels,
 * which on x86 CPUs without VNNI (this machine: AVX2 only) multiply u8 x s8 with pmaddubsw, whose int16 pair sums
 * saturate: measured up to 112 LSB off on a plain uint8 QDQ Conv. That is a property of the kernel, not of the
 * model, so it is no oracle. (QOperator ops are onnxruntime's own kernels at any level.)
 */
import ort from 'onnxruntime-node';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';

export type ModelInput = Float32Array | Int8Array | Uint8Array;

export interface OracleComparison {
  graph: Graph;
  /** Per output: onnxruntime's and the reference's values (ONNX domain). */
  expected: number[][];
  actual: number[][];
  /** Largest absolute difference over all outputs. */
  maxDiff: number;
}

const ortTypes = new Map<Function, 'float32' | 'int8' | 'uint8'>([
  [Float32Array, 'float32'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
]);

export const ORACLE_OPTIONS: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'basic' };

export async function runOnnxruntime(model: Uint8Array, inputs: Record<string, { data: ModelInput; shape: number[] }>, options: ort.InferenceSession.SessionOptions = ORACLE_OPTIONS): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model, options);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(inputs)) feeds[name] = new ort.Tensor(ortTypes.get(data.constructor)!, data, shape);
  const results = await session.run(feeds);
  return session.outputNames.map((name) => Array.from(results[name]!.data as ArrayLike<number>, Number));
}

/** The reference interpreter's outputs for ONNX-typed inputs (uint8 converted to the IR's int8 and back). */
export function runImported(graph: Graph, inputs: Record<string, { data: ModelInput; shape: number[] }>): number[][] {
  const irInputs: TensorData[] = graph.inputs.map((io) => {
    const given = inputs[io.name];
    if (!given) throw new Error(`no data for input '${io.name}'`);
    const tensor = graph.tensors.get(io.tensor)!;
    if (tensor.dtype === 'int8' && given.data instanceof Uint8Array) return Int8Array.from(given.data, (v) => v - 128);
    return given.data;
  });
  const { outputs } = runReference(graph, irInputs);
  return outputs.map((data, i) => {
    const io = graph.outputs[i]!;
    const shift = graph.tensors.get(io.tensor)!.dtype === 'int8' && io.externalDtype === 'uint8' ? 128 : 0;
    return Array.from(data as ArrayLike<number>, (v) => Number(v) + shift);
  });
}

export async function compareWithOnnxruntime(model: Uint8Array, inputs: Record<string, { data: ModelInput; shape: number[] }>, file = 'model.onnx'): Promise<OracleComparison> {
  const graph = importOnnx(model, file);
  if (graph.unsupported.length > 0) throw new Error(`${file}: unsupported: ${JSON.stringify(graph.unsupported)}`);
  const expected = await runOnnxruntime(model, inputs);
  const actual = runImported(graph, inputs);
  let maxDiff = 0;
  expected.forEach((values, i) => values.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - actual[i]![k]!)))));
  return { graph, expected, actual, maxDiff };
}
