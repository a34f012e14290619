/**
 * FloatOp: the float-domain ONNX ops of ONNX test graphs (DynamicQuantizeLinear and its expanded form), run with
 * the ONNX frontend's own float32 semantics (src/frontend/onnx/float-ops.ts).
 */
import { NodeError } from '../../errors.js';
import { runFloatOp } from '../../frontend/onnx/float-ops.js';
import type { FloatOpNode, Graph, TensorData } from '../../ir/types.js';
import { inputTensor, type KernelInputs } from './common.js';

export function floatOp(graph: Graph, node: FloatOpNode, inputs: KernelInputs): TensorData[] {
  const values = inputs.map((data, port) => (data ? { data, shape: inputTensor(graph, node, port).shape } : undefined));
  try {
    return runFloatOp(node, values).map((v) => v.data);
  } catch (error) {
    if (error instanceof NodeError) throw error;
    throw new NodeError(node.name, `FloatOp ${node.attrs.onnxOp}`, error instanceof Error ? error.message : String(error));
  }
}
