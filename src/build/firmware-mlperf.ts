/**
 * What the firmware's MLPerf Tiny text protocol (templates/firmware/mlperf.c) needs to know about the model: the id
 * it reports in m-model-[...], which picks the host runner's test and dataset, and from that how the bytes of `db`
 * become the model's input and what m-results holds (MLPERF_TINY_PROTOCOL.md, "Inputs per model").
 */
import { UsageError } from '../errors.js';

export type MlperfInput = 'int8' | 'uint8' | 'float32';
export type MlperfResult = 'scores' | 'anomaly';

/** The benchmark's models. Any other id (the default is the library prefix) takes int8 bytes and prints scores. */
export const MLPERF_MODELS: Record<string, { input: MlperfInput; result: MlperfResult }> = {
  kws01: { input: 'int8', result: 'scores' },
  vww01: { input: 'uint8', result: 'scores' },
  ic01: { input: 'uint8', result: 'scores' },
  ad01: { input: 'float32', result: 'anomaly' },
};

/** Printable, and free of the ']' that would end m-model-[...] early. */
const MODEL_ID = /^[A-Za-z0-9_.-]{1,32}$/;

const INPUT_KINDS: Record<MlperfInput, string> = {
  int8: 'MLPERF_INPUT_INT8',
  uint8: 'MLPERF_INPUT_UINT8',
  float32: 'MLPERF_INPUT_FLOAT32',
};

const RESULT_KINDS: Record<MlperfResult, string> = {
  scores: 'MLPERF_RESULT_SCORES',
  anomaly: 'MLPERF_RESULT_ANOMALY',
};

export interface MlperfView {
  modelId: string;
  inputKind: string;
  resultKind: string;
  /** float32 input: the firmware keeps the values (for quantizing and for the anomaly score). */
  floatInput: boolean;
  /** The library header's macro prefix, TINYEDGE_<P>: its optional _INPUT0_SCALE & co. give the quantization. */
  macroPrefix: string;
  inputElements: number;
  outputElements: number;
}

export function mlperfView(model: { prefix: string; mlperfModelId?: string; inputBytes: number[]; outputBytes: number[] }): MlperfView {
  const modelId = model.mlperfModelId ?? model.prefix;
  if (!MODEL_ID.test(modelId)) {
    throw new UsageError(`MLPerf model id '${modelId}' must be 1 to 32 letters, digits, '_', '.' or '-' (kws01, vww01, ic01, ad01)`);
  }
  const kind = MLPERF_MODELS[modelId] ?? { input: 'int8', result: 'scores' };
  return {
    modelId,
    inputKind: INPUT_KINDS[kind.input],
    resultKind: RESULT_KINDS[kind.result],
    floatInput: kind.input === 'float32',
    macroPrefix: `TINYEDGE_${model.prefix.toUpperCase()}`,
    inputElements: model.inputBytes[0]!,
    outputElements: model.outputBytes[0]!,
  };
}
