/**
 * onnxruntime as the independent oracle of the technique models, three ways:
 * - end to end: the QDQ model's int8 logits, compared with ours (the differences that rounding in each layer
 *   accumulates over the network);
 * - layer by layer: a copy of the QDQ model cut at every activation — each DequantizeLinear of an activation reads a
 *   new graph input instead of the QuantizeLinear before it — fed with the reference interpreter's own int8
 *   activations, so every layer's QuantizeLinear output is onnxruntime's answer to exactly the input our layer had;
 * - the float model's logits, for top-1 agreement.
 * onnxruntime runs QDQ at optimization level 'basic' (QDQ evaluated as ONNX defines it; see
 * test/support/onnxruntime-oracle.ts for why not higher).
 */
import ort from 'onnxruntime-node';
import { onnx, OnnxDataType } from '../../src/frontend/onnx/proto.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { ORACLE_OPTIONS } from '../support/onnxruntime-oracle.js';
import type { TechniqueModel } from './models.js';

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The model's 'logits' output for each input (float32 [1, C, H, W] each). */
export async function runLogits(model: Uint8Array, inputs: Float32Array[], shape: number[], options: ort.InferenceSession.SessionOptions = ORACLE_OPTIONS): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model, options);
  try {
    const results: number[][] = [];
    for (const input of inputs) {
      const out = await session.run({ input: new ort.Tensor('float32', input, shape) });
      results.push(Array.from(out['logits']!.data as ArrayLike<number>, Number));
    }
    return results;
  } finally {
    await session.release();
  }
}

/**
 * The model's int8 activation `${id}_q` for each input, end to end (the model as it is, only that tensor made an
 * output as well), in ONNX's layout.
 */
export async function runActivation(model: TechniqueModel, id: string, inputs: Float32Array[]): Promise<Int8Array[]> {
  const decoded = onnx.ModelProto.decode(model.qdq);
  const shape = model.activations.find((a) => a.id === id)!.shape;
  decoded.graph!.output!.push(int8Value(`${id}_q`, shape));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(decoded).finish(), ORACLE_OPTIONS);
  try {
    const results: Int8Array[] = [];
    for (const input of inputs) results.push((await session.run({ input: new ort.Tensor('float32', input, model.inputShape) }))[`${id}_q`]!.data as Int8Array);
    return results;
  } finally {
    await session.release();
  }
}

/** Per activation id: the largest |onnxruntime - reference| of its int8 values when both layers get the same input. */
export async function layerwiseDifferences(model: TechniqueModel, graph: Graph, inputs: Float32Array[], reference: (input: Float32Array) => Map<string, TensorData>): Promise<Map<string, number>> {
  const present = model.activations.filter((a) => graph.tensors.has(`${a.id}_q`));
  const cut = cutAtActivations(model.qdq, present);
  const session = await ort.InferenceSession.create(cut, ORACLE_OPTIONS);
  const worst = new Map<string, number>(present.map((a) => [a.id, 0]));
  try {
    for (const input of inputs) {
      const values = reference(input);
      const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', input, model.inputShape) };
      for (const a of present) feeds[`${a.id}_q_in`] = new ort.Tensor('int8', toOnnxLayout(graph, `${a.id}_q`, values.get(`${a.id}_q`)! as Int8Array, a.shape), a.shape);
      const out = await session.run(feeds);
      for (const a of present) {
        const theirs = out[`${a.id}_q`]!.data as Int8Array;
        const ours = toOnnxLayout(graph, `${a.id}_q`, values.get(`${a.id}_q`)! as Int8Array, a.shape);
        let diff = 0;
        for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(theirs[i]! - ours[i]!));
        worst.set(a.id, Math.max(worst.get(a.id)!, diff));
      }
    }
  } finally {
    await session.release();
  }
  return worst;
}

/** The QDQ model with every activation's DequantizeLinear reading a graph input `${id}_q_in`, and `${id}_q` as outputs. */
function cutAtActivations(qdq: Uint8Array, activations: { id: string; shape: number[] }[]): Uint8Array {
  const model = onnx.ModelProto.decode(qdq);
  const graph = model.graph!;
  const ids = new Map(activations.map((a) => [`${a.id}_q`, a]));
  for (const node of graph.node ?? []) {
    if (node.opType === 'DequantizeLinear' && ids.has(node.input![0]!)) node.input![0] = `${node.input![0]}_in`;
  }
  const int8 = int8Value;
  for (const a of activations) {
    graph.input!.push(int8(`${a.id}_q_in`, a.shape));
    graph.output!.push(int8(`${a.id}_q`, a.shape));
  }
  return onnx.ModelProto.encode(model).finish();
}

function int8Value(name: string, shape: number[]): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: OnnxDataType.INT8,
        shape: onnx.TensorShapeProto.create({ dim: shape.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
      }),
    }),
  });
}

/** An IR activation in ONNX's NCHW order (the IR holds 4-D activations NHWC unless its shape says otherwise). */
function toOnnxLayout(graph: Graph, tensor: string, data: Int8Array, onnxShape: number[]): Int8Array {
  const irShape = graph.tensors.get(tensor)!.shape;
  if (onnxShape.length !== 4) return data;
  const [n, c, h, w] = onnxShape as [number, number, number, number];
  // A channel count equal to the height and width would leave the layout to guess: the models avoid it.
  if (c === h && h === w && c > 1) throw new Error(`tensor '${tensor}' [${irShape}]: NCHW or NHWC cannot be told apart`);
  if (irShape.every((d, i) => d === onnxShape[i])) return data;
  if (irShape[1] !== h || irShape[2] !== w || irShape[3] !== c) throw new Error(`tensor '${tensor}' is [${irShape}], not the NHWC form of [${onnxShape}]`);
  const out = new Int8Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k]!;
  return out;
}
