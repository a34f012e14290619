/**
 * Conv2D -> te_conv2d_1x1_s8 (pointwise: every output pixel is a matrix-vector product of one input pixel),
 * te_conv2d_1d_s8 (a kx1 or 1xk kernel — ERFNet's factorized convolutions — or a padded 1x1: the taps lie
 * along one axis and are read in place, no im2col copy; padding taps read a row of input zero points) or
 * te_conv2d_s8 (any kernel, stride, dilation, padding, groups: gathers each output pixel's receptive field into an
 * im2col scratch buffer, padding taps filled with the input zero point, then one dot product per output channel; a
 * 1x1 kernel without padding — grouped or strided — reads its group's slice of the input pixel in place instead).
 *
 * A store order (Conv2D attrs.outputPositions, a channel shuffle folded by fold-channel-shuffle) is taken by
 * te_conv2d_s8 only: filter g * OUT_C_GROUP + t goes to channel g * GROUP_STEP + t * CHANNEL_STEP, two compile-time
 * constants when the positions have that form (a shuffle after a grouped convolution does: CHANNEL_STEP = the shuffle's
 * group count), else to a table of positions. The store address is computed from loop counters either way, so the
 * shuffle costs no instruction of its own.
 */
import { NodeError } from '../../errors.js';
import type { Conv2DNode, Graph } from '../../ir/types.js';
import { convParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { foldInputOffsetIntoBias, outputStage, plainBias, symmetricWeights, weightedOperands } from './common.js';

export function lowerConv2D(graph: Graph, node: Conv2DNode): KernelCall {
  const { input, weights, output, weightData } = weightedOperands(graph, node, { input: 4, weights: 4, output: 4 });

  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const [outC, kH, kW, inCGroup] = weights.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const { stride, dilation, padding } = node.attrs;
  // The group count follows from the shapes, as in the reference (attrs.groups says the same for valid graphs).
  const groups = inC / inCGroup;
  if (!Number.isInteger(groups) || outC % groups !== 0 || output.shape[3] !== outC) {
    throw new NodeError(node.name, node.op, `shapes [${input.shape}] * [${weights.shape}] -> [${output.shape}] do not form a grouped convolution`);
  }

  const params = convParams(graph, node);
  const stage = outputStage(params);
  const patch = kH * kW * inCGroup;
  const folded = symmetricWeights(params);
  const bias = folded ? foldInputOffsetIntoBias(node, params, weightData as Int8Array, patch) : plainBias(node, params, patch);
  const unpadded = padding.top === 0 && padding.bottom === 0 && padding.left === 0 && padding.right === 0;
  const positions = node.attrs.outputPositions;
  const pointwise =
    !positions && kH === 1 && kW === 1 && groups === 1 && stride[0] === 1 && stride[1] === 1 && unpadded && outH === inH && outW === inW;
  // A 1x1 without padding that is not pointwise (grouped or strided) reads its input pixel in place in te_conv2d_s8.
  const directColumn = !pointwise && kH === 1 && kW === 1 && unpadded;
  const oneAxis = !positions && !pointwise && !directColumn && (kH === 1 || kW === 1);
  const template = pointwise ? 'te_conv2d_1x1_s8' : oneAxis ? 'te_conv2d_1d_s8' : 'te_conv2d_s8';
  const order = storeOrder(positions, groups, outC / groups);

  return {
    template,
    name: template,
    params: {
      batches, inH, inW, inC, outH, outW, outC, kH, kW,
      strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
      padTop: padding.top, padLeft: padding.left,
      groups, inCGroup, outCGroup: outC / groups,
      directColumn, groupStep: order.groupStep, channelStep: order.channelStep, positionTable: order.table !== null,
      storeOrder: order.describe,
      taps: kH * kW, tapDy: kH > 1 ? dilation[0] : 0, tapDx: kW > 1 ? dilation[1] : 0,
      inputZeroPoint: -params.inputOffset,
      inputOffset: params.inputOffset,
      foldedBias: folded,
      uniformWeightOffset: params.weightOffsets.every((o) => o === params.weightOffsets[0]),
      weightOffset: params.weightOffsets[0] ?? 0,
      outputType: stage.params.int32Output ? 'int32_t' : 'int8_t',
      ...stage.params,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    ...(pointwise || directColumn ? {} : { scratch: oneAxis ? { bytes: inCGroup, purpose: 'zero-point row' } : { bytes: patch, purpose: 'im2col' } }),
    constants: [
      { role: 'weights', ctype: 'int8_t', values: weightData as Int8Array, describe: `weights [${weights.shape}] (OHWI)` },
      {
        role: 'bias',
        ctype: 'int32_t',
        values: bias,
        describe: folded ? 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' : 'bias',
      },
      ...(folded || params.weightOffsets.every((o) => o === params.weightOffsets[0])
        ? []
        : [{ role: 'weightOffsets', ctype: 'int32_t' as const, values: params.weightOffsets, describe: '-Z_w per output channel' }]),
      ...stage.constants,
      ...(order.table ? [{ role: 'outputPositions', ctype: 'uint16_t' as const, values: order.table, describe: 'output channel of each filter (a folded channel shuffle)' }] : []),
    ],
  };
}

interface StoreOrder {
  groupStep: number;
  channelStep: number;
  /** Positions that are not g * groupStep + t * channelStep: one per filter. */
  table: Uint16Array | null;
  /** For the layer comment; empty in filter order. */
  describe: string;
}

/** How te_conv2d_s8 addresses filter g * perGroup + t's output channel. */
function storeOrder(positions: readonly number[] | undefined, groups: number, perGroup: number): StoreOrder {
  if (!positions) return { groupStep: perGroup, channelStep: 1, table: null, describe: '' };
  const groupStep = groups > 1 ? positions[perGroup]! - positions[0]! : perGroup;
  const channelStep = perGroup > 1 ? positions[1]! - positions[0]! : 1;
  const affine = positions.every((p, o) => p === Math.floor(o / perGroup) * groupStep + (o % perGroup) * channelStep);
  if (affine) return { groupStep, channelStep, table: null, describe: `channel shuffle folded into the store order (group step ${groupStep}, channel step ${channelStep})` };
  return { groupStep: perGroup, channelStep: 1, table: Uint16Array.from(positions), describe: 'channel permutation folded into the store order (a table of positions)' };
}
