/**
 * DEPTHWISE_CONV_2D (reference_integer_ops::DepthwiseConvPerChannel): weights [1, kh, kw, Cin * M], output channel
 * c * M + m reads input channel c. Same accumulation and output stage as CONV_2D.
 */
import { NodeError } from '../../errors.js';
import type { DepthwiseConv2DNode, Graph, TensorData } from '../../ir/types.js';
import { convParams } from '../../quant/params.js';
import { allocateOutput, inputTensor, nhwc, numbers, outputTensor, required, type KernelInputs } from './common.js';
import { finishAccumulator } from './conv2d.js';

export function depthwiseConv2d(graph: Graph, node: DepthwiseConv2DNode, inputs: KernelInputs): TensorData[] {
  const p = convParams(graph, node);
  const [batches, inH, inW, inC] = nhwc(node, inputTensor(graph, node, 0));
  const [one, kH, kW, outC] = nhwc(node, inputTensor(graph, node, 1));
  const [, outH, outW, outDepth] = nhwc(node, outputTensor(graph, node));
  const multiplier = node.attrs.depthMultiplier;
  if (one !== 1 || outC !== inC * multiplier || outDepth !== outC) {
    throw new NodeError(
      node.name,
      node.op,
      `input depth ${inC} x multiplier ${multiplier}, weights [${one}, ${kH}, ${kW}, ${outC}] and output depth ${outDepth} do not match`,
    );
  }
  const x = numbers(required(node, inputs, 0, 'input'));
  const w = numbers(required(node, inputs, 1, 'weights'));
  const output = allocateOutput(graph, node) as Int8Array | Int32Array;
  const [strideH, strideW] = node.attrs.stride;
  const [dilationH, dilationW] = node.attrs.dilation;
  const { top, left } = node.attrs.padding;
  const inputOffset = p.inputOffset;
  const weightOffsets = p.weightOffsets;
  // One output pixel's accumulators; Int32Array stores wrap like the C int32 accumulator.
  const acc = new Int32Array(outC);

  let o = 0;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const inY0 = oy * strideH - top;
      for (let ox = 0; ox < outW; ox++) {
        const inX0 = ox * strideW - left;
        acc.fill(0);
        for (let ky = 0; ky < kH; ky++) {
          const inY = inY0 + dilationH * ky;
          if (inY < 0 || inY >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const inX = inX0 + dilationW * kx;
            if (inX < 0 || inX >= inW) continue;
            const xBase = ((b * inH + inY) * inW + inX) * inC;
            const wBase = (ky * kW + kx) * outC;
            for (let ic = 0; ic < inC; ic++) {
              const xv = x[xBase + ic]! + inputOffset;
              for (let m = 0; m < multiplier; m++) {
                const oc = ic * multiplier + m;
                acc[oc] = acc[oc]! + (w[wBase + oc]! + weightOffsets[oc]!) * xv;
              }
            }
          }
        }
        for (let oc = 0; oc < outC; oc++) output[o++] = finishAccumulator(p, oc, acc[oc]!);
      }
    }
  }
  return [output];
}
