/**
 * CONCATENATION along one axis. Inputs quantized like the output are copied; others are requantized with
 * MultiplyByQuantizedMultiplier(x - Z_in) + Z_out (the int8 QUANTIZE arithmetic), clamped to int8.
 */
import { NodeError } from '../../errors.js';
import type { ConcatNode, Graph, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../../quant/fixedpoint.js';
import { concatParams } from '../../quant/params.js';
import { allocateOutput, inputTensor, outputTensor, required, type KernelInputs } from './common.js';

export function concat(graph: Graph, node: ConcatNode, inputs: KernelInputs): TensorData[] {
  const p = concatParams(graph, node);
  const outShape = outputTensor(graph, node).shape;
  const output = allocateOutput(graph, node) as Int8Array;
  const outer = outShape.slice(0, p.axis).reduce((a, b) => a * b, 1);
  const inner = outShape.slice(p.axis + 1).reduce((a, b) => a * b, 1);
  const outRow = outShape[p.axis]! * inner;
  let axisOffset = 0;
  node.inputs.forEach((_, port) => {
    const x = required(node, inputs, port, `input ${port}`) as Int8Array;
    const chunk = inputTensor(graph, node, port).shape[p.axis]! * inner;
    if (chunk * outer !== x.length) {
      throw new NodeError(node.name, node.op, `input ${port} does not fit the output shape [${outShape.join(', ')}] along axis ${p.axis}`);
    }
    const r = p.inputs[port];
    for (let o = 0; o < outer; o++) {
      const src = o * chunk;
      const dst = o * outRow + axisOffset;
      if (!r) {
        output.set(x.subarray(src, src + chunk), dst);
        continue;
      }
      for (let i = 0; i < chunk; i++) {
        const v = multiplyByQuantizedMultiplier(x[src + i]! - r.inputZeroPoint, r.multiplier, r.shift) + r.outputZeroPoint;
        output[dst + i] = v < -128 ? -128 : v > 127 ? 127 : v;
      }
    }
    axisOffset += chunk;
  });
  if (axisOffset !== outRow) throw new NodeError(node.name, node.op, `inputs fill ${axisOffset / inner} of ${outShape[p.axis]} output rows`);
  return [output];
}
