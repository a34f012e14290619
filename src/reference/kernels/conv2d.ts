/**
 * CONV_2D (reference_integer_ops::ConvPerChannel): NHWC input, OHWI weights, grouped.
 * acc = bias[c] + sum over valid taps of (w + weightOffset[c]) * (x + inputOffset); padding taps are skipped, which
 * is the same as padding with the input zero point. The accumulator wraps in int32 as the C kernel's does.
 */
import { NodeError } from '../../errors.js';
import type { Conv2DNode, Graph, TensorData } from '../../ir/types.js';
import { multiplyByQuantizedMultiplier } from '../../quant/fixedpoint.js';
import { convParams, type ConvParams } from '../../quant/params.js';
import { allocateOutput, inputTensor, nhwc, numbers, outputTensor, required, type KernelInputs } from './common.js';

export function conv2d(graph: Graph, node: Conv2DNode, inputs: KernelInputs): TensorData[] {
  const p = convParams(graph, node);
  const [batches, inH, inW, inC] = nhwc(node, inputTensor(graph, node, 0));
  const [outC, kH, kW, kC] = nhwc(node, inputTensor(graph, node, 1));
  const [, outH, outW, outDepth] = nhwc(node, outputTensor(graph, node));
  if (outDepth !== outC || inC % kC !== 0 || outC % (inC / kC) !== 0 || inC / kC !== node.attrs.groups) {
    throw new NodeError(
      node.name,
      node.op,
      `input depth ${inC}, weights [${outC}, ${kH}, ${kW}, ${kC}], ${node.attrs.groups} group(s) and output depth ${outDepth} do not match`,
    );
  }
  const x = numbers(required(node, inputs, 0, 'input'));
  const w = numbers(required(node, inputs, 1, 'weights'));
  const output = allocateOutput(graph, node) as Int8Array | Int32Array;
  const filtersPerGroup = outC / (inC / kC);
  const [strideH, strideW] = node.attrs.stride;
  const [dilationH, dilationW] = node.attrs.dilation;
  const { top, left } = node.attrs.padding;
  const inputOffset = p.inputOffset;

  // A shuffle folded into the store order (fold-channel-shuffle): filter oc lands at channel positions[oc].
  const positions = node.attrs.outputPositions;
  let o = 0;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const inY0 = oy * strideH - top;
      for (let ox = 0; ox < outW; ox++) {
        const inX0 = ox * strideW - left;
        for (let oc = 0; oc < outC; oc++) {
          const channelBase = Math.floor(oc / filtersPerGroup) * kC;
          const weightOffset = p.weightOffsets[oc]!;
          let acc = 0;
          for (let ky = 0; ky < kH; ky++) {
            const inY = inY0 + dilationH * ky;
            if (inY < 0 || inY >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const inX = inX0 + dilationW * kx;
              if (inX < 0 || inX >= inW) continue;
              const xBase = ((b * inH + inY) * inW + inX) * inC + channelBase;
              const wBase = ((oc * kH + ky) * kW + kx) * kC;
              for (let ic = 0; ic < kC; ic++) {
                acc = (acc + (w[wBase + ic]! + weightOffset) * (x[xBase + ic]! + inputOffset)) | 0;
              }
            }
          }
          output[positions ? o + positions[oc]! : o + oc] = finishAccumulator(p, oc, acc);
        }
        o += outC;
      }
    }
  }
  return [output];
}

/** Bias, requantization, output offset and clamp of one accumulator (the raw sum for an int32 output). */
export function finishAccumulator(p: ConvParams, channel: number, acc: number): number {
  if (p.bias) acc = (acc + p.bias[channel]!) | 0;
  if (p.int32Output) return acc;
  const v = multiplyByQuantizedMultiplier(acc, p.multipliers[channel]!, p.shifts[channel]!) + p.outputOffset;
  return v < p.clamp.min ? p.clamp.min : v > p.clamp.max ? p.clamp.max : v;
}
