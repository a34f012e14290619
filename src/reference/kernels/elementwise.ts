/**
 * ADD, SUB, MUL on int8 with numpy-style broadcasting.
 * ADD / SUB (reference_integer_ops::AddFunc, reference_ops::BroadcastQuantSubSlow): both inputs offset, shifted left
 * by 20 bits and rescaled to a common scale, summed (or subtracted), rescaled to the output.
 * MUL (reference_integer_ops::MulElementwise): the product of the offset inputs requantized.
 */
import { NodeError } from '../../errors.js';
import type { ElementwiseBinaryNode, Graph, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierSmallerThanOne } from '../../quant/fixedpoint.js';
import { addParams, mulParams } from '../../quant/params.js';
import { broadcastStrides } from '../../ir/graph.js';
import { allocateInt8Output, inputTensor, numbers, outputTensor, required, type KernelInputs } from './common.js';

export function elementwiseBinary(graph: Graph, node: ElementwiseBinaryNode, inputs: KernelInputs): TensorData[] {
  const a = numbers(required(node, inputs, 0, 'input 0'));
  const b = numbers(required(node, inputs, 1, 'input 1'));
  const output = allocateInt8Output(graph, node);
  const f = binaryFunction(graph, node);
  broadcast(graph, node, (i, ia, ib) => {
    output[i] = f(a[ia]!, b[ib]!);
  });
  return [output];
}

function binaryFunction(graph: Graph, node: ElementwiseBinaryNode): (x: number, y: number) => number {
  if (node.op === 'Mul') {
    const p = mulParams(graph, node);
    return (x, y) => {
      const v = p.outputOffset + multiplyByQuantizedMultiplier((p.input1Offset + x) * (p.input2Offset + y), p.multiplier, p.shift);
      return v < p.clamp.min ? p.clamp.min : v > p.clamp.max ? p.clamp.max : v;
    };
  }
  const p = addParams(graph, node);
  const sign = node.op === 'Sub' ? -1 : 1;
  const shift = 2 ** p.leftShift;
  return (x, y) => {
    const scaled1 = multiplyByQuantizedMultiplierSmallerThanOne((p.input1Offset + x) * shift, p.input1Multiplier, p.input1Shift);
    const scaled2 = multiplyByQuantizedMultiplierSmallerThanOne((p.input2Offset + y) * shift, p.input2Multiplier, p.input2Shift);
    const raw = (scaled1 + sign * scaled2) | 0;
    const v = multiplyByQuantizedMultiplierSmallerThanOne(raw, p.outputMultiplier, p.outputShift) + p.outputOffset;
    return v < p.clamp.min ? p.clamp.min : v > p.clamp.max ? p.clamp.max : v;
  };
}

/** Calls visit(outputIndex, index into input 0, index into input 1) for every output element, in row-major order. */
function broadcast(graph: Graph, node: ElementwiseBinaryNode, visit: (i: number, ia: number, ib: number) => void): void {
  const shapeA = inputTensor(graph, node, 0).shape;
  const shapeB = inputTensor(graph, node, 1).shape;
  const outShape = outputTensor(graph, node).shape;
  const rank = outShape.length;
  for (const shape of [shapeA, shapeB]) {
    if (shape.length > rank || shape.some((d, i) => d !== 1 && d !== outShape[rank - shape.length + i])) {
      throw new NodeError(node.name, node.op, `input shape [${shape.join(', ')}] does not broadcast to the output shape [${outShape.join(', ')}]`);
    }
  }
  const stridesA = broadcastStrides(shapeA, outShape);
  const stridesB = broadcastStrides(shapeB, outShape);
  const total = outShape.reduce((x, y) => x * y, 1);
  if (rank === 0) {
    if (total === 1) visit(0, 0, 0);
    return;
  }
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < total; i++) {
    visit(i, ia, ib);
    // Odometer step over the output index, moving both input offsets along.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      ia += stridesA[axis]!;
      ib += stridesB[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      ia -= stridesA[axis]! * outShape[axis]!;
      ib -= stridesB[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
}
