/**
 * FullyConnected on the DSP path -> dsp/te_fully_connected_s8 (symmetric int8 weights, int8 output): each input
 * row is widened to int16 once into scratch, then 4 output channels per step share every input word.
 *
 * Each weight is read once per input row, so widening it in the loop (two SXTB16 per word, half an instruction per
 * multiply-accumulate) could never be amortized: the weights are stored already widened, in the lanes the widened
 * input holds. Per group of 4 inputs and 4 channels: one double-word load of input, four of weights, eight SMLADs
 * (0.8 instructions per MAC instead of 1.3), for twice the flash of these weights.
 */
import { elementCount, tensorOf } from '../../../ir/graph.js';
import type { FullyConnectedNode, Graph } from '../../../ir/types.js';
import { fullyConnectedParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';
import { foldInputOffsetIntoBias, symmetricWeights } from '../common.js';
import { blockView, interleaveWidenedRows, unrolledGroups, widenedRow } from './matmul.js';
import { accumulatorBounds, dspOutputStage } from './output-stage.js';

const BLOCK_ROWS = 4;
/** Groups of 4 inputs per loop iteration. */
const UNROLL = 4;

export function dspFullyConnectedApplies(graph: Graph, node: FullyConnectedNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  if (input.dtype !== 'int8' || weights.dtype !== 'int8' || output.dtype !== 'int8' || !weights.data || weights.shape.length !== 2) return false;
  const [outC, depth] = weights.shape as [number, number];
  const inputCount = elementCount(input.shape);
  if (inputCount % depth !== 0 || elementCount(output.shape) !== (inputCount / depth) * outC) return false;
  return symmetricWeights(fullyConnectedParams(graph, node));
}

export function lowerFullyConnectedDsp(graph: Graph, node: FullyConnectedNode): KernelCall {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const weightData = weights.data as Int8Array;
  const [outC, depth] = weights.shape as [number, number];
  const kGroups = Math.ceil(depth / 4);
  const rows = Array.from({ length: outC }, (_, c) => {
    const bytes = new Int8Array(kGroups * 4);
    bytes.set(weightData.subarray(c * depth, (c + 1) * depth));
    return widenedRow(bytes);
  });
  const params = fullyConnectedParams(graph, node);
  const bias = foldInputOffsetIntoBias(node, params, weightData, depth);
  const stage = dspOutputStage(params, accumulatorBounds(bias, outC, depth, (c, k) => weightData[c * depth + k]!));
  const rest = outC % BLOCK_ROWS;
  const streamed = (rowCount: number) => ({ ...blockView(rowCount, 1, 2), wideWeights: true, weightWords: 2 * rowCount });
  return {
    template: 'dsp/te_fully_connected_s8',
    name: 'te_fully_connected_s8_dsp',
    params: {
      batches: elementCount(input.shape) / depth,
      depth,
      outC,
      kGroups,
      ...unrolledGroups(kGroups, UNROLL),
      fullWords: Math.floor(depth / 4),
      tailBytes: depth % 4,
      tailOffset: Math.floor(depth / 4) * 4,
      quads: Math.floor(outC / BLOCK_ROWS),
      quad: streamed(BLOCK_ROWS),
      rest: rest > 0 ? streamed(rest) : false,
      stage: stage.view,
      residual: false,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    scratch: { bytes: kGroups * 8, purpose: 'the input row widened to int16' },
    constants: [
      {
        role: 'weights',
        ctype: 'int32_t',
        values: interleaveWidenedRows(rows, BLOCK_ROWS),
        describe: `weights [${weights.shape}] widened to int16 pairs (w0, w2), (w1, w3) per group of 4, rows zero-padded to whole groups, interleaved by 4 rows`,
      },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stage.constants,
    ],
  };
}
