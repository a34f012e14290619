/**
 * Add, Sub, Mul -> te_add_s8 / te_sub_s8 / te_mul_s8 with numpy broadcasting resolved at compile time into a loop
 * nest with constant strides (a same-shape operation is one flat loop).
 */
import { NodeError } from '../../errors.js';
import type { ElementwiseBinaryNode, Graph } from '../../ir/types.js';
import { addParams, mulParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';
import { broadcastStrides } from '../../ir/graph.js';
import { loopView, mergeAxes } from './loops.js';

export function lowerElementwise(graph: Graph, node: ElementwiseBinaryNode): KernelCall {
  const a = inputTensor(graph, node, 0);
  const b = inputTensor(graph, node, 1);
  const output = outputTensor(graph, node);
  for (const [tensor, port] of [[a, 'input 0'], [b, 'input 1'], [output, 'output']] as const) requireDtype(node, tensor, port, 'int8');
  const outShape = output.shape;
  for (const shape of [a.shape, b.shape]) {
    if (shape.length > outShape.length || shape.some((d, i) => d !== 1 && d !== outShape[outShape.length - shape.length + i])) {
      throw new NodeError(node.name, node.op, `input shape [${shape}] does not broadcast to the output shape [${outShape}]`);
    }
  }
  const loops = loopView(mergeAxes(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]), ['strideA', 'strideB']);
  const name = node.op === 'Add' ? 'te_add_s8' : node.op === 'Sub' ? 'te_sub_s8' : 'te_mul_s8';
  const common = { inputs: [node.inputs[0]!, node.inputs[1]!], outputs: [node.outputs[0]!], constants: [] };
  if (node.op === 'Mul') {
    const p = mulParams(graph, node);
    return { ...common, template: 'te_mul_s8', name, params: { loops, ...p, min: p.clamp.min, max: p.clamp.max } };
  }
  const p = addParams(graph, node);
  for (const shift of [p.input1Shift, p.input2Shift, p.outputShift]) {
    // The kernels use MultiplyByQuantizedMultiplierSmallerThanOneExp, defined for multipliers below one only.
    if (shift > 0) throw new NodeError(node.name, node.op, `a rescaling multiplier is above one (shift ${shift}): scales too far apart`);
  }
  return {
    ...common,
    template: 'te_add_s8',
    name,
    params: {
      loops,
      subtract: node.op === 'Sub',
      ...p,
      input1RightShift: -p.input1Shift,
      input2RightShift: -p.input2Shift,
      outputRightShift: -p.outputShift,
      min: p.clamp.min,
      max: p.clamp.max,
    },
  };
}
