/**
 * BATCH_MATMUL (reference_ops::BatchMatMul int8): lhs [..., M, K] x rhs [..., K, N] -> [..., M, N], batch axes
 * broadcast numpy-style; acc = sum (lhs + lhsOffset) * (rhs + rhsOffset), requantized per tensor (or the raw int32
 * accumulator for ONNX MatMulInteger).
 */
import { NodeError } from '../../errors.js';
import { stridesOf } from '../../ir/graph.js';
import type { BatchMatMulNode, Graph, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../../quant/fixedpoint.js';
import { batchMatMulParams } from '../../quant/params.js';
import { broadcastStrides } from '../../ir/graph.js';
import { allocateOutput, inputTensor, numbers, outputTensor, required, type KernelInputs } from './common.js';

export function batchMatMul(graph: Graph, node: BatchMatMulNode, inputs: KernelInputs): TensorData[] {
  const p = batchMatMulParams(graph, node);
  const lhsShape = inputTensor(graph, node, 0).shape;
  const rhsShape = inputTensor(graph, node, 1).shape;
  const outShape = outputTensor(graph, node).shape;
  if (lhsShape.length < 2 || rhsShape.length < 2 || outShape.length < 2) {
    throw new NodeError(node.name, node.op, 'operands and output must have at least 2 dimensions');
  }
  const m = lhsShape[lhsShape.length - 2]!;
  const k = lhsShape[lhsShape.length - 1]!;
  const n = rhsShape[rhsShape.length - 1]!;
  if (rhsShape[rhsShape.length - 2] !== k || outShape[outShape.length - 2] !== m || outShape[outShape.length - 1] !== n) {
    throw new NodeError(node.name, node.op, `shapes [${lhsShape}] x [${rhsShape}] -> [${outShape}] do not multiply`);
  }
  const lhs = numbers(required(node, inputs, 0, 'lhs'));
  const rhs = numbers(required(node, inputs, 1, 'rhs'));
  const output = allocateOutput(graph, node) as Int8Array | Int32Array;

  const batchShape = outShape.slice(0, -2);
  const batchCount = batchShape.reduce((a, b) => a * b, 1);
  const lhsBatchStrides = broadcastStrides(lhsShape.slice(0, -2), batchShape);
  const rhsBatchStrides = broadcastStrides(rhsShape.slice(0, -2), batchShape);
  const batchStrides = stridesOf(batchShape);
  const { lhsOffset, rhsOffset } = p;

  for (let batch = 0; batch < batchCount; batch++) {
    let lhsBatch = 0;
    let rhsBatch = 0;
    for (let axis = 0; axis < batchShape.length; axis++) {
      const index = Math.floor(batch / batchStrides[axis]!) % batchShape[axis]!;
      lhsBatch += index * lhsBatchStrides[axis]!;
      rhsBatch += index * rhsBatchStrides[axis]!;
    }
    const lhsBase = lhsBatch * m * k;
    const rhsBase = rhsBatch * k * n;
    const outBase = batch * m * n;
    for (let row = 0; row < m; row++) {
      for (let col = 0; col < n; col++) {
        let acc = 0;
        for (let d = 0; d < k; d++) {
          acc = (acc + (lhs[lhsBase + row * k + d]! + lhsOffset) * (rhs[rhsBase + d * n + col]! + rhsOffset)) | 0;
        }
        if (p.int32Output) {
          output[outBase + row * n + col] = acc;
        } else {
          const v = multiplyByQuantizedMultiplier(acc, p.multiplier, p.shift) + p.outputOffset;
          output[outBase + row * n + col] = v < p.clamp.min ? p.clamp.min : v > p.clamp.max ? p.clamp.max : v;
        }
      }
    }
  }
  return [output];
}
