/**
 * QUANTIZE and DEQUANTIZE.
 * float32 -> integer: round(x / S) + Z with the division in float32 and the node's rounding (TFLite: half away from
 * zero; ONNX QuantizeLinear: half to even), clamped. integer -> integer (reference_ops::Requantize):
 * MultiplyByQuantizedMultiplier(x - Z_in) + Z_out, clamped. Dequantize: float32(S * (q - Z)).
 */
import { NodeError } from '../../errors.js';
import type { DequantizeNode, Graph, QuantizeNode, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier, roundHalfAway, roundHalfEven } from '../../quant/fixedpoint.js';
import { axisQuantizeParams, dequantizeParams, quantizeParams, type AxisQuantizeParams } from '../../quant/params.js';
import { integerRange } from '../../ir/graph.js';
import { allocateOutput, numbers, outputTensor, required, type KernelInputs } from './common.js';

export function quantize(graph: Graph, node: QuantizeNode, inputs: KernelInputs): TensorData[] {
  const x = numbers(required(node, inputs, 0, 'input'));
  const outDtype = outputTensor(graph, node).dtype;
  const range = integerRange(outDtype);
  if (!range || outDtype === 'int32' || outDtype === 'int64') {
    throw new NodeError(node.name, node.op, `cannot quantize to ${outDtype}`);
  }
  const perAxis = axisQuantizeParams(graph, node);
  if (perAxis) return [quantizePerAxis(graph, node, x, perAxis, range)];
  const p = quantizeParams(graph, node);
  const min = Math.max(range.min, p.clamp.min);
  const max = Math.min(range.max, p.clamp.max);
  const output = allocateOutput(graph, node) as Int8Array | Uint8Array | Int16Array;
  if (p.kind === 'float') {
    const round = p.rounding === 'half-even' ? roundHalfEven : roundHalfAway;
    for (let i = 0; i < x.length; i++) {
      const v = round(Math.fround(x[i]! / p.scale)) + p.zeroPoint;
      output[i] = v < min ? min : v > max ? max : v;
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = multiplyByQuantizedMultiplier(x[i]! - p.inputZeroPoint, p.multiplier, p.shift) + p.outputZeroPoint;
      output[i] = v < min ? min : v > max ? max : v;
    }
  }
  return [output];
}

export function dequantize(graph: Graph, node: DequantizeNode, inputs: KernelInputs): TensorData[] {
  const x = numbers(required(node, inputs, 0, 'input'));
  const output = new Float32Array(x.length);
  const perAxis = axisQuantizeParams(graph, node);
  if (perAxis) {
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / perAxis.stride) % perAxis.length;
      output[i] = perAxis.scales[c]! * (x[i]! - perAxis.zeroPoints[c]!);
    }
    return [output];
  }
  const { scale, zeroPoint } = dequantizeParams(graph, node);
  for (let i = 0; i < x.length; i++) output[i] = scale * (x[i]! - zeroPoint);
  return [output];
}

/** ONNX QuantizeLinear with an axis: float32 division by the element's own scale, then its rounding and zero point. */
function quantizePerAxis(graph: Graph, node: QuantizeNode, x: ArrayLike<number>, p: AxisQuantizeParams, range: { min: number; max: number }): TensorData {
  const min = Math.max(range.min, node.attrs.clamp.min);
  const max = Math.min(range.max, node.attrs.clamp.max);
  const round = node.attrs.rounding === 'half-even' ? roundHalfEven : roundHalfAway;
  const output = allocateOutput(graph, node) as Int8Array | Uint8Array | Int16Array;
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / p.stride) % p.length;
    const v = round(Math.fround(x[i]! / p.scales[c]!)) + p.zeroPoints[c]!;
    output[i] = v < min ? min : v > max ? max : v;
  }
  return output;
}
