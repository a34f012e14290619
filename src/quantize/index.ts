/**
 * Post-training quantization of a float ONNX model into an int8 QDQ ONNX model tinyedge deploys:
 *
 *   decode (float-model.ts) -> fold constant data movement, drop Identity / Dropout, fold BatchNormalization
 *   (fold-constants.ts, prepare.ts) -> refuse unsupported ops, all listed (ops.ts) -> read samples
 *   (calibration-data.ts) -> run the float model in onnxruntime, record every tensor's range (calibrate.ts) ->
 *   fold bias Adds, move to opset 13 (prepare.ts, opset.ts) -> place QDQ pairs (qdq-plan.ts) -> write the QDQ
 *   model (qdq-model.ts) -> import it with tinyedge's ONNX frontend -> compare with the float model on onnxruntime
 *   and on the reference interpreter (evaluate.ts)
 *
 * Nothing is written to disk here: the caller writes `bytes`.
 */
import { readFile } from 'node:fs/promises';
import { ModelError, UnsupportedOpsError } from '../errors.js';
import { isTflite } from '../frontend/index.js';
import { importOnnx } from '../frontend/onnx/index.js';
import { readSamples, type InputSpec } from './calibration-data.js';
import { calibrate, type CalibrationMethod } from './calibrate.js';
import { createEvaluator, type SetEvaluation } from './evaluate.js';
import { FloatModel } from './float-model.js';
import { foldConstantMovement } from './fold-constants.js';
import { loadOnnxruntime } from './onnxruntime.js';
import { checkSupportedOps } from './ops.js';
import { upgradeOpset } from './opset.js';
import { foldBiasAdds, prepareStructure } from './prepare.js';
import { planActivations } from './qdq-plan.js';
import { writeQdqModel, type QdqSummary } from './qdq-model.js';

export type { CalibrationMethod } from './calibrate.js';
export type { SetEvaluation, OutputEvaluation } from './evaluate.js';
export type { OutputMetrics } from './metrics.js';
export type { QdqSummary } from './qdq-model.js';

export interface QuantizeOptions {
  /** The float ONNX model. */
  model: string;
  /** Directory of calibration samples (see calibration-data.ts). */
  calibration: string;
  /** Optional held-out samples, evaluated but not calibrated on. */
  eval?: string;
  /** Where the caller will write the result (named in messages). */
  output: string;
  method: CalibrationMethod;
  /** Per-channel weight scales (default) or per tensor. */
  perChannel: boolean;
}

export interface QuantizeResult {
  /** The QDQ model. */
  bytes: Uint8Array;
  summary: QdqSummary & { calibrationSamples: number };
  /** The calibration set first, then the --eval set when given. */
  evaluations: SetEvaluation[];
}

export async function quantizeModel(options: QuantizeOptions): Promise<QuantizeResult> {
  const floatBytes = await readFloatModel(options.model);
  const model = FloatModel.decode(floatBytes, options.model);
  foldConstantMovement(model);
  prepareStructure(model);
  checkSupportedOps(model);

  const inputs: InputSpec[] = model.inputs.map((input) => (input.shape ? { name: input.name, shape: input.shape } : { name: input.name }));
  const calibrationSamples = await readSamples(options.calibration, inputs, '--calibration');
  const evalSamples = options.eval === undefined ? undefined : await readSamples(options.eval, inputs, '--eval');

  const ort = await loadOnnxruntime();
  const calibration = await calibrate(ort, model, calibrationSamples, options.method);
  foldBiasAdds(model, calibration.shapes);
  upgradeOpset(model, calibration.shapes);
  const plan = planActivations(model, calibration.ranges);
  const { bytes, summary } = writeQdqModel(model, plan, { perChannel: options.perChannel });

  const graph = importOnnx(bytes, options.output);
  if (graph.unsupported.length > 0) throw new UnsupportedOpsError(`${options.model} (quantized)`, graph.unsupported);
  const evaluator = await createEvaluator(ort, floatBytes, bytes, graph, model.outputs.map((output) => output.name), { float: options.model, quantized: options.output });
  const evaluations = [await evaluator.evaluate('calibration', options.calibration, calibrationSamples, calibration.outputs)];
  if (evalSamples) evaluations.push(await evaluator.evaluate('eval', options.eval!, evalSamples));
  return { bytes, summary: { ...summary, calibrationSamples: calibrationSamples.length }, evaluations };
}

async function readFloatModel(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelError(file, 'no such file');
    if (code === 'EISDIR') throw new ModelError(file, 'is a directory, not a model file');
    if (code) throw new ModelError(file, `cannot be read (${code})`);
    throw error;
  }
  if (bytes.length === 0) throw new ModelError(file, 'is empty');
  if (isTflite(bytes)) throw new ModelError(file, 'is a TFLite model; tinyedge quantize takes a float ONNX model (TFLite models come quantized from the TFLite converter)');
  return bytes;
}
