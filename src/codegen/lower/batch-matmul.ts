/**
 * BatchMatMul -> te_batch_matmul_s8: [..., M, K] x [..., K, N] with numpy broadcasting of the batch axes resolved
 * into constant strides; requantized per tensor, or the raw int32 accumulator (ONNX MatMulInteger).
 */
import { NodeError } from '../../errors.js';
import type { BatchMatMulNode, Graph } from '../../ir/types.js';
import { batchMatMulParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';
import { broadcastStrides } from '../../ir/graph.js';
import { loopView, mergeAxes } from './loops.js';

export function lowerBatchMatMul(graph: Graph, node: BatchMatMulNode): KernelCall {
  const lhs = inputTensor(graph, node, 0);
  const rhs = inputTensor(graph, node, 1);
  const output = outputTensor(graph, node);
  requireDtype(node, lhs, 'lhs', 'int8');
  requireDtype(node, rhs, 'rhs', 'int8');
  requireDtype(node, output, 'output', 'int8', 'int32');
  const [l, r, o] = [lhs.shape, rhs.shape, output.shape];
  if (l.length < 2 || r.length < 2 || o.length < 2) throw new NodeError(node.name, node.op, 'operands and output must have at least 2 dimensions');
  const m = l[l.length - 2]!;
  const k = l[l.length - 1]!;
  const n = r[r.length - 1]!;
  if (r[r.length - 2] !== k || o[o.length - 2] !== m || o[o.length - 1] !== n) {
    throw new NodeError(node.name, node.op, `shapes [${l}] x [${r}] -> [${o}] do not multiply`);
  }
  if (k * 255 * 255 > 2147483647) throw new NodeError(node.name, node.op, `its int32 accumulator can overflow (depth ${k})`);
  const batchShape = o.slice(0, -2);
  const lhsStrides = broadcastStrides(l.slice(0, -2), batchShape).map((s) => s * m * k);
  const rhsStrides = broadcastStrides(r.slice(0, -2), batchShape).map((s) => s * k * n);
  const p = batchMatMulParams(graph, node);
  return {
    template: 'te_batch_matmul_s8',
    name: 'te_batch_matmul_s8',
    params: {
      loops: loopView(mergeAxes(batchShape, [lhsStrides, rhsStrides]), ['strideLhs', 'strideRhs']),
      m, k, n,
      outputType: p.int32Output ? 'int32_t' : 'int8_t',
      ...p,
      min: p.clamp.min,
      max: p.clamp.max,
    },
    inputs: [node.inputs[0]!, node.inputs[1]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}
