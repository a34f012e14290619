/**
 * onnxruntime-node runs the float model (calibration, the float side of the comparison) and the quantized QDQ model.
 * Float inference of an arbitrary ONNX graph is onnxruntime's job, not tinyedge's: the reference interpreter runs
 * only the quantized IR. It is loaded on first use, so that every other command works without it.
 */
import { TinyedgeError, ExitCode } from '../errors.js';

export type Onnxruntime = typeof import('onnxruntime-node');
export type InferenceSession = import('onnxruntime-node').InferenceSession;

/** A float32 tensor as the quantizer passes it around. */
export interface FloatTensor {
  data: Float32Array;
  shape: number[];
}

/** onnxruntime-node is missing (or its native library does not load): the user's installation, not their model. */
export class MissingOnnxruntimeError extends TinyedgeError {
  constructor(detail: string) {
    super(`tinyedge quantize needs onnxruntime-node to run the float model (${detail}); install it with 'npm install onnxruntime-node'`, ExitCode.usage);
  }
}

let loading: Promise<Onnxruntime> | undefined;

export function loadOnnxruntime(): Promise<Onnxruntime> {
  loading ??= import('onnxruntime-node').then(
    (module) => ((module as { default?: Onnxruntime }).default ?? module) as Onnxruntime,
    (error: NodeJS.ErrnoException) => {
      loading = undefined;
      const missing = error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND';
      throw new MissingOnnxruntimeError(missing ? 'it is not installed' : `it failed to load: ${firstLine(error.message)}`);
    },
  );
  return loading;
}

/**
 * How a session runs a model:
 * - 'fast': onnxruntime's default optimizations (float models);
 * - 'exact': QuantizeLinear / DequantizeLinear kept as written, around float ops: the QDQ format's own semantics.
 *   onnxruntime's fused integer kernels are not used for the comparison because on x86 CPUs without VNNI their
 *   u8 x s8 products are summed in pairs with int16 saturation (VPMADDUBSW), which makes the result depend on the
 *   machine rather than on the model (measured: MNIST logits cosine 0.995 fused against 0.99995 exact).
 */
export type SessionMode = 'fast' | 'exact';

/** A session on model bytes; onnxruntime's own refusal of the model is reported as the model's problem. */
export async function createSession(ort: Onnxruntime, bytes: Uint8Array, mode: SessionMode, describe: (detail: string) => Error): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, mode === 'exact' ? { graphOptimizationLevel: 'basic' } : {});
  } catch (error) {
    throw describe(firstLine((error as Error).message));
  }
}

/** Runs `session` on named float inputs; returns every output onnxruntime computed, by name. */
export async function runSession(ort: Onnxruntime, session: InferenceSession, inputs: ReadonlyMap<string, FloatTensor>): Promise<Map<string, { data: ArrayLike<number | bigint>; type: string; shape: number[] }>> {
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, tensor] of inputs) feeds[name] = new ort.Tensor('float32', tensor.data, tensor.shape);
  const results = await session.run(feeds);
  const out = new Map<string, { data: ArrayLike<number | bigint>; type: string; shape: number[] }>();
  for (const [name, tensor] of Object.entries(results)) {
    out.set(name, { data: tensor.data as ArrayLike<number | bigint>, type: tensor.type, shape: tensor.dims.map(Number) });
  }
  return out;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
