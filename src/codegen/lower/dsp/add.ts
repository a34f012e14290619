/**
 * ADD / SUB on the DSP path, as the standalone te_add_s8 kernel and as the epilogue of a convolution it was fused
 * into. Each input's rescaling, multiplyByQuantizedMultiplierSmallerThanOne((q + offset) << 20, m, shift), depends
 * only on the int8 value q: a 256-entry int32 table per input, computed here with the reference's own fixed-point
 * functions, so the kernel does two loads and one requantization per element and stays bit-exact by construction.
 */
import { NodeError } from '../../../errors.js';
import type { ElementwiseBinaryNode, Graph } from '../../../ir/types.js';
import { multiplyByQuantizedMultiplierSmallerThanOne } from '../../../quant/fixedpoint.js';
import { addParams, type AddParams, type ConvParams } from '../../../quant/params.js';
import type { ConstantArray } from '../../kernel-call.js';
import { dspOutputStage, type DspOutputStage } from './output-stage.js';

export interface AddTables {
  /** Table of input `port` (0 or 1): entry q + 128 is that input's rescaled value; Sub negates input 1's. */
  tables: [Int32Array, Int32Array];
  stage: DspOutputStage['view'];
}

/** The ADD parameters, or a NodeError where the kernels cannot run them (as the portable lowering decides). */
export function checkedAddParams(graph: Graph, node: ElementwiseBinaryNode): AddParams {
  const p = addParams(graph, node);
  for (const shift of [p.input1Shift, p.input2Shift, p.outputShift]) {
    if (shift > 0) throw new NodeError(node.name, node.op, `a rescaling multiplier is above one (shift ${shift}): scales too far apart`);
  }
  return p;
}

export function addTables(p: AddParams, subtract: boolean): AddTables {
  const table = (offset: number, multiplier: number, shift: number, sign: number) =>
    Int32Array.from({ length: 256 }, (_, i) => sign * multiplyByQuantizedMultiplierSmallerThanOne((i - 128 + offset) * 2 ** p.leftShift, multiplier, shift));
  const tables: [Int32Array, Int32Array] = [
    table(p.input1Offset, p.input1Multiplier, p.input1Shift, 1),
    table(p.input2Offset, p.input2Multiplier, p.input2Shift, subtract ? -1 : 1),
  ];
  const largest = (t: Int32Array) => t.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const output: ConvParams = {
    inputOffset: 0,
    weightOffsets: new Int32Array(1),
    outputOffset: p.outputOffset,
    multipliers: Int32Array.of(p.outputMultiplier),
    shifts: Int32Array.of(p.outputShift),
    clamp: p.clamp,
    bias: null,
    int32Output: false,
    outputChannels: 1,
  };
  return { tables, stage: dspOutputStage(output, [largest(tables[0]) + largest(tables[1])]).view };
}

export function addTableConstants(tables: AddTables, roles: [string, string], what: [string, string]): ConstantArray[] {
  return tables.tables.map((values, i) => ({
    role: roles[i]!,
    ctype: 'int32_t' as const,
    values,
    describe: `${what[i]} of the Add, rescaled to the common scale (entry q + 128)`,
  }));
}
