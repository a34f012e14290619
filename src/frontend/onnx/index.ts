/**
 * ONNX importer: a QDQ or QOperator int8/uint8 model (default domain opsets 10 to 21 and com.microsoft) -> IR graph.
 *
 *   decode (model.ts) -> classify (float-only models are refused) -> convert (convert.ts: QDQ folding in qdq.ts,
 *   QOperator ops in qoperator.ts, both lowered by lower.ts; NCHW -> NHWC in layout.ts / context.ts) -> graph
 *
 * Unsupported ops do not stop the import: they are listed in graph.unsupported.
 */
import { ModelError } from '../../errors.js';
import type { Graph, ModelFormat } from '../../ir/types.js';
import { convertModel } from './convert.js';
import { decodeModel, OnnxModel, type OnnxNode } from './model.js';

/** Ops whose presence makes a model quantized (QDQ or QOperator). */
const QOPERATOR_OPS = new Set([
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'QLinearAdd',
  'QLinearMul',
  'QLinearConcat',
  'QLinearAveragePool',
  'QLinearGlobalAveragePool',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QLinearSoftmax',
  'QLinearReduceMean',
  'QGemm',
  'QAttention',
]);
const QDQ_MARKERS = new Set(['QuantizeLinear', 'DequantizeLinear']);

export function importOnnx(bytes: Uint8Array, file: string): Graph {
  const model = new OnnxModel(file, decodeModel(bytes, file));
  const format = modelFormat(model.nodes);
  if (format === 'onnx' && !model.nodes.some((node) => node.opType === 'DynamicQuantizeLinear')) {
    throw new ModelError(file, 'is a float model (not quantized) — run `tinyedge quantize FILE --calibration DIR -o FILE.int8.onnx` or export QDQ int8');
  }
  const opset = model.opset();
  if (opset !== 0 && opset < 10) throw new ModelError(file, `uses ONNX opset ${opset}; tinyedge reads quantized models of opset 10 and later`);
  const graph = convertModel(model).graph;
  graph.format = format;
  return graph;
}

function modelFormat(nodes: readonly OnnxNode[]): ModelFormat {
  if (nodes.some((node) => QOPERATOR_OPS.has(node.opType))) return 'onnx-qoperator';
  if (nodes.some((node) => QDQ_MARKERS.has(node.opType))) return 'onnx-qdq';
  return 'onnx';
}
