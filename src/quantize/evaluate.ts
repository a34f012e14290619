/**
 * The quantized model against the float model, sample by sample, on two engines: onnxruntime running the QDQ model
 * as written (the format's own semantics: float ops between QuantizeLinear and DequantizeLinear; see SessionMode)
 * and tinyedge's reference interpreter running the imported IR (TFLite-Micro's integer arithmetic, what the device
 * runs).
 */
import { InputError, ModelError } from '../errors.js';
import type { Graph } from '../ir/types.js';
import { inputToIR, outputFromIR } from '../io/tensors.js';
import { runReference } from '../reference/interpreter.js';
import type { Sample } from './calibration-data.js';
import { compareOutputs, type OutputMetrics } from './metrics.js';
import { createSession, runSession, type FloatTensor, type InferenceSession, type Onnxruntime } from './onnxruntime.js';

export interface OutputEvaluation {
  name: string;
  shape: number[];
  onnxruntime: OutputMetrics;
  reference: OutputMetrics;
}

export interface SetEvaluation {
  /** 'calibration' or 'eval' (the held-out set). */
  set: string;
  /** The directory the samples came from. */
  source: string;
  samples: number;
  outputs: OutputEvaluation[];
}

export interface Evaluator {
  evaluate(set: string, source: string, samples: readonly Sample[], floatOutputs?: Map<string, FloatTensor>[]): Promise<SetEvaluation>;
}

/**
 * `floatBytes` / `qdqBytes`: the float and the quantized model; `graph`: the quantized model as tinyedge imported
 * it; `outputNames`: the model's outputs in order.
 */
export async function createEvaluator(ort: Onnxruntime, floatBytes: Uint8Array, qdqBytes: Uint8Array, graph: Graph, outputNames: readonly string[], files: { float: string; quantized: string }): Promise<Evaluator> {
  let floatSession: InferenceSession | undefined;
  const qdqSession = await createSession(ort, qdqBytes, 'exact', (detail) => new ModelError(files.quantized, `onnxruntime cannot load the quantized model: ${detail}`));
  const run = async (session: InferenceSession, sample: Sample, what: string): Promise<Map<string, FloatTensor>> => {
    try {
      const results = await runSession(ort, session, sample.inputs);
      return new Map(outputNames.map((name) => [name, { data: results.get(name)!.data as Float32Array, shape: results.get(name)!.shape }]));
    } catch (error) {
      throw new InputError(`${sample.source}: onnxruntime cannot run the ${what} model on this sample: ${(error as Error).message.split('\n')[0]}`);
    }
  };

  return {
    async evaluate(set, source, samples, givenFloatOutputs) {
      let floatOutputs = givenFloatOutputs;
      if (!floatOutputs) {
        floatSession ??= await createSession(ort, floatBytes, 'fast', (detail) => new ModelError(files.float, `onnxruntime cannot load it: ${detail}`));
        floatOutputs = [];
        for (const sample of samples) floatOutputs.push(await run(floatSession, sample, 'float'));
      }
      const onnxruntimeOutputs: Map<string, FloatTensor>[] = [];
      const referenceOutputs: Map<string, Float32Array>[] = [];
      for (const sample of samples) {
        onnxruntimeOutputs.push(await run(qdqSession, sample, 'quantized'));
        referenceOutputs.push(runOnReference(graph, sample));
      }
      const outputs = outputNames.map((name) => {
        const expected = floatOutputs!.map((sampleOutputs) => sampleOutputs.get(name)!.data);
        const shape = floatOutputs![0]!.get(name)!.shape;
        const lastAxis = shape[shape.length - 1] ?? 1;
        return {
          name,
          shape,
          onnxruntime: compareOutputs(expected, onnxruntimeOutputs.map((o) => o.get(name)!.data), lastAxis),
          reference: compareOutputs(expected, referenceOutputs.map((o) => o.get(name)!), lastAxis),
        };
      });
      return { set, source, samples: samples.length, outputs };
    },
  };
}

/** One sample through the reference interpreter; outputs as float32 by output name. */
function runOnReference(graph: Graph, sample: Sample): Map<string, Float32Array> {
  const inputs = graph.inputs.map((io) => {
    const tensor = sample.inputs.get(io.name);
    if (!tensor) throw new InputError(`${sample.source}: no data for input '${io.name}'`);
    return inputToIR(graph, io, { dtype: 'float32', shape: tensor.shape, data: tensor.data }, sample.source);
  });
  const { outputs } = runReference(graph, inputs);
  return new Map(graph.outputs.map((io, i) => [io.name, Float32Array.from(outputFromIR(graph, io, outputs[i]!).data as Float32Array)]));
}
