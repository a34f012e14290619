/**
 * AVERAGE_POOL_2D and MAX_POOL_2D (reference_integer_ops::AveragePool / MaxPool), int8 NHWC, in the input's
 * quantized domain. The average counts only the taps inside the image and rounds half away from zero with C's
 * truncating division: (sum +- count/2) / count.
 */
import type { Graph, Pool2DNode, TensorData } from '../../ir/types.js';
import { poolParams } from '../../quant/params.js';
import { allocateInt8Output, inputTensor, nhwc, numbers, outputTensor, required, type KernelInputs } from './common.js';
import { NodeError } from '../../errors.js';

export function pool2d(graph: Graph, node: Pool2DNode, inputs: KernelInputs): TensorData[] {
  const { clamp } = poolParams(graph, node);
  const [batches, inH, inW, depth] = nhwc(node, inputTensor(graph, node, 0));
  const [, outH, outW, outDepth] = nhwc(node, outputTensor(graph, node));
  if (outDepth !== depth) throw new NodeError(node.name, node.op, `input depth ${depth} and output depth ${outDepth} differ`);
  const x = numbers(required(node, inputs, 0, 'input'));
  const output = allocateInt8Output(graph, node);
  const [filterH, filterW] = node.attrs.filter;
  const [strideH, strideW] = node.attrs.stride;
  const { top, left } = node.attrs.padding;
  const average = node.op === 'AveragePool2D';

  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const inY0 = oy * strideH - top;
      const yStart = Math.max(0, -inY0);
      const yEnd = Math.min(filterH, inH - inY0);
      for (let ox = 0; ox < outW; ox++) {
        const inX0 = ox * strideW - left;
        const xStart = Math.max(0, -inX0);
        const xEnd = Math.min(filterW, inW - inX0);
        const count = Math.max(0, yEnd - yStart) * Math.max(0, xEnd - xStart);
        if (count === 0) throw new NodeError(node.name, node.op, `output (${oy}, ${ox}) has no input taps`);
        for (let c = 0; c < depth; c++) {
          let acc = average ? 0 : -128;
          for (let fy = yStart; fy < yEnd; fy++) {
            const rowBase = ((b * inH + inY0 + fy) * inW + inX0) * depth + c;
            for (let fx = xStart; fx < xEnd; fx++) {
              const v = x[rowBase + fx * depth]!;
              if (average) acc += v;
              else if (v > acc) acc = v;
            }
          }
          if (average) acc = Math.trunc(acc > 0 ? (acc + Math.trunc(count / 2)) / count : (acc - Math.trunc(count / 2)) / count);
          output[((b * outH + oy) * outW + ox) * depth + c] = acc < clamp.min ? clamp.min : acc > clamp.max ? clamp.max : acc;
        }
      }
    }
  }
  return [output];
}
