/**
 * Calibration: the float model runs in onnxruntime on every sample, with every intermediate tensor added as an extra
 * graph output (in a copy of the model), and each float tensor's range is recorded. The ranges are those of the
 * original model's tensors, by name; the rewrites of prepare.ts keep those names.
 */
import { InputError, ModelError } from '../errors.js';
import { onnx } from '../frontend/onnx/proto.js';
import type { Sample } from './calibration-data.js';
import type { FloatModel } from './float-model.js';
import { createSession, runSession, type FloatTensor, type Onnxruntime } from './onnxruntime.js';
import { HistogramObserver, MinMaxObserver, type Range } from './range-observer.js';

export type CalibrationMethod = { kind: 'minmax' } | { kind: 'percentile'; percentile: number };

export interface Calibration {
  /** The range of every float tensor seen (graph inputs and node outputs), after the method's clipping. */
  ranges: Map<string, Range>;
  /** Every observed tensor's shape (from the first sample). */
  shapes: Map<string, number[]>;
  /** The float model's outputs, one map (by graph output name) per sample. */
  outputs: Map<string, FloatTensor>[];
}

export async function calibrate(ort: Onnxruntime, model: FloatModel, samples: readonly Sample[], method: CalibrationMethod): Promise<Calibration> {
  const session = await createSession(ort, observingModel(model), 'fast', (detail) => new ModelError(model.file, `onnxruntime cannot load it: ${detail}`));
  const extremes = new Map<string, MinMaxObserver>();
  const shapes = new Map<string, number[]>();
  const outputs: Map<string, FloatTensor>[] = [];
  for (const sample of samples) {
    const tensors = await observedTensors(ort, session, sample);
    for (const [name, tensor] of tensors) {
      if (!shapes.has(name)) shapes.set(name, tensor.shape);
      let observer = extremes.get(name);
      if (!observer) extremes.set(name, (observer = new MinMaxObserver()));
      observer.update(tensor.data);
    }
    outputs.push(new Map(model.outputs.map((output) => [output.name, tensors.get(output.name)!])));
  }

  const ranges = new Map<string, Range>();
  for (const [name, observer] of extremes) {
    const range = observer.range();
    if (range) ranges.set(name, range);
  }
  if (method.kind === 'percentile') await clipToPercentile(ort, session, samples, ranges, method.percentile);
  return { ranges, shapes, outputs };
}

/** Second pass: a histogram per tensor over its extremes, cut at the percentile on both sides. */
async function clipToPercentile(ort: Onnxruntime, session: Awaited<ReturnType<typeof createSession>>, samples: readonly Sample[], ranges: Map<string, Range>, percentile: number): Promise<void> {
  const histograms = new Map([...ranges].map(([name, range]) => [name, new HistogramObserver(range)]));
  for (const sample of samples) {
    for (const [name, tensor] of await observedTensors(ort, session, sample)) histograms.get(name)?.update(tensor.data);
  }
  for (const [name, histogram] of histograms) ranges.set(name, histogram.percentileRange(percentile));
}

/** The sample's inputs and every float tensor the model computes from them. */
async function observedTensors(ort: Onnxruntime, session: Awaited<ReturnType<typeof createSession>>, sample: Sample): Promise<Map<string, FloatTensor>> {
  let results;
  try {
    results = await runSession(ort, session, sample.inputs);
  } catch (error) {
    throw new InputError(`${sample.source}: onnxruntime cannot run the float model on this sample: ${(error as Error).message.split('\n')[0]}`);
  }
  const tensors = new Map<string, FloatTensor>(sample.inputs);
  for (const [name, result] of results) {
    if (result.type === 'float32') tensors.set(name, { data: result.data as Float32Array, shape: result.shape });
  }
  return tensors;
}

/** A copy of the original model in which every node output is also a graph output. */
function observingModel(model: FloatModel): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model.proto).finish());
  const graph = copy.graph!;
  const outputs = (graph.output ??= []);
  const declared = new Set(outputs.map((output) => output.name));
  for (const node of graph.node ?? []) {
    if (node.opType === 'Constant') continue;
    for (const output of node.output ?? []) {
      if (!output || declared.has(output)) continue;
      declared.add(output);
      // Name only: onnxruntime infers the type, and a declared type would have to be right for every tensor.
      outputs.push(onnx.ValueInfoProto.create({ name: output }));
    }
  }
  return onnx.ModelProto.encode(copy).finish();
}
