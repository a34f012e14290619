/**
 * FullyConnected on the DSP path -> dsp/te_fully_connected_s8 (symmetric int8 weights, int8 output): 4 output
 * channels per step share every input word, read straight from the int8 input.
 *
 * Each weight is read once per input row, so widening it in the loop (two SXTB16 per word, half an instruction per
 * multiply-accumulate) could never be amortized: the weights are stored already widened, per group of 4 inputs the
 * int16 pairs (w0, w2) and (w1, w3). The input word of a group is loaded once per block of 4 rows and widened there
 * into (x0, x2) and (x1, x3) by SXTB16 and SXTB16 ROR 8, the lanes the weights hold: two instructions per 16
 * multiply-accumulates, where widening the whole input row into arena scratch first cost that scratch (2 bytes per
 * input) for barely fewer instructions. Per group and block: one load of input, two SXTB16, four double-word loads
 * of weights, eight SMLADs.
 *
 * Code size: layers of one form (requantization form, clamp, the depth's tail bytes, whether there are blocks of 4
 * output channels and channels left over after them) share one function (dsp/te_fully_connected_s8_shared) taking
 * the shapes, the constant arrays and the requantization numbers as arguments; each layer's function only calls it.
 */
import { elementCount, tensorOf } from '../../../ir/graph.js';
import type { FullyConnectedNode, Graph } from '../../../ir/types.js';
import { fullyConnectedParams } from '../../../quant/params.js';
import type { KernelCall, SharedFunction } from '../../kernel-call.js';
import { foldInputOffsetIntoBias, symmetricWeights } from '../common.js';
import { interleaveWidenedRows, widenedRow } from './matmul.js';
import { accumulatorBounds, dspOutputStage, type DspOutputStage } from './output-stage.js';

const BLOCK_ROWS = 4;
/** Groups of 4 inputs per iteration of the unrolled group loop. */
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

/** What makes two fully connected layers run the same code: everything else is an argument. */
export interface FullyConnectedForm {
  requantization: 'fast' | 'wide' | 'exact';
  perChannel: boolean;
  /** The clamp is narrower than int8's range (SSAT alone does not do it). */
  clamp: boolean;
  /** Inputs past the last whole group of 4 (0 to 3). */
  tailBytes: number;
  /** Output channels past the last whole block of 4, taken one at a time. */
  rowTail: boolean;
  /** At least one whole block of 4 output channels (without, the function has no block loop). */
  blocks: boolean;
}

export function fullyConnectedForm(stage: DspOutputStage['view'], depth: number, outC: number): FullyConnectedForm {
  if (stage.doubled) throw new Error('the fully connected kernel accumulates acc, not 2 * acc');
  const requantization = stage.fast ? 'fast' : stage.wide ? 'wide' : 'exact';
  return { requantization, perChannel: stage.perChannel, clamp: requantization === 'exact' || !stage.fullRange, tailBytes: depth % 4, rowTail: outC % BLOCK_ROWS !== 0, blocks: outC >= BLOCK_ROWS };
}

/** The C name of a form's shared function, e.g. te_fc_s8_dsp_fast_clamp_t3_rows (_narrow: no block of 4 rows). */
export function formKey(form: FullyConnectedForm): string {
  return [
    'te_fc_s8_dsp',
    form.requantization,
    ...(form.perChannel ? ['per_channel'] : []),
    ...(form.clamp ? ['clamp'] : []),
    `t${form.tailBytes}`,
    ...(form.rowTail ? ['rows'] : []),
    ...(form.blocks ? [] : ['narrow']),
  ].join('_');
}

/**
 * The shared template's view of a block of R rows: accumulator r; per group of 4 inputs, `steps` of them unrolled
 * (the loop advances its pointers once per iteration), step s reads its input word at `inputOffset` and row r's
 * two weight words at `byteOffset` (literals: LDRD's immediate offset).
 */
function blockView(rowCount: number, steps: number) {
  const rows = Array.from({ length: rowCount }, (_, r) => ({ r }));
  return {
    rows,
    unroll: steps > 1,
    unrolled: Array.from({ length: steps }, (_, s) => ({
      inputOffset: 4 * s,
      rows: rows.map(({ r }) => ({ r, byteOffset: 8 * (s * rowCount + r) })),
    })),
    single: { inputOffset: 0, rows: rows.map(({ r }) => ({ r, byteOffset: 8 * r })) },
    groupWords: 2 * rowCount,
    unrolledWords: 2 * rowCount * steps,
    tail: { rows: rows.map(({ r }) => ({ r, byteOffset: 8 * r })) },
  };
}

export function sharedFullyConnected(form: FullyConnectedForm): SharedFunction {
  return {
    template: 'dsp/te_fully_connected_s8_shared',
    key: formKey(form),
    params: {
      ...form,
      fast: form.requantization === 'fast',
      wide: form.requantization === 'wide',
      exact: form.requantization === 'exact',
      tailBytes2: form.tailBytes >= 2,
      tailBytes3: form.tailBytes >= 3,
      unrollCount: UNROLL,
      block: blockView(BLOCK_ROWS, UNROLL),
      // The rows left over run group by group: they are at most 3 rows of a layer, unrolling them costs code.
      single: blockView(1, 1),
    },
  };
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
  const form = fullyConnectedForm(stage.view, depth, outC);
  const blocked = outC - (outC % BLOCK_ROWS);
  const fullWords = Math.floor(depth / 4);
  return {
    template: 'dsp/te_fully_connected_s8',
    name: 'te_fully_connected_s8_dsp',
    params: {
      key: formKey(form),
      form,
      batches: elementCount(input.shape) / depth,
      depth,
      outC,
      kGroups,
      fullWords,
      tailBytes: form.tailBytes,
      rest: form.rowTail,
      // The unrolled group loop's leftover groups (run by the shared function's single-group loop).
      remainder: new Array<null>(fullWords % UNROLL).fill(null),
      stage: stage.view,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    shared: [sharedFullyConnected(form)],
    constants: [
      {
        role: 'weights',
        ctype: 'int32_t',
        // Blocks of 4 rows interleaved, then the rows left over one after the other (blocks of 1).
        values: Int32Array.from([...interleaveWidenedRows(rows.slice(0, blocked), BLOCK_ROWS), ...rows.slice(blocked).flatMap((row) => [...row])]),
        describe: `weights [${weights.shape}] widened to int16 pairs (w0, w2), (w1, w3) per group of 4, rows zero-padded to whole groups, interleaved by 4 rows`,
      },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stage.constants,
    ],
  };
}
