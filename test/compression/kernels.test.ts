/**
 * The compression kernels and placements on hand-built IR graphs, each graph one compiled host program compared with
 * the reference interpreter on seeded random inputs (the host harness also checks that every layer writes only its
 * outputs — for a channel slice, the span of its interleaved rows — and its scratch):
 * - zero-copy concatenation with every producer that can write a channel slice, contiguous blocks at unaligned
 *   offsets, and the cases that must keep a copy;
 * - C.ReLU chains in their variants (order, requantizing Concat, scalar / per-channel / first-operand scale, separate
 *   activation, into a zero-copy concatenation, as a graph output);
 * - sparse weights: grouped, pointwise, fully connected with gaps longer than a delta, factorized, asymmetric weights;
 * - factorized kx1 / 1xk convolutions with strides, dilations, padding, groups and asymmetric weights.
 */
import { describe, expect, it } from 'vitest';
import { compileHostProgram, type HostOptions } from '../../src/build/host.js';
import { generateLibrary, type GeneratedLibrary, type GenerateOptions } from '../../src/codegen/index.js';
import { encodeSparse } from '../../src/codegen/lower/sparse.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { findInPlaceConcats } from '../../src/passes/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { randomInputs } from '../passes/support/check.js';
import { IrBuilder, q, type ConvOptions } from '../passes/support/ir-builder.js';

const HASH = '0'.repeat(16);

async function expectHostMatchesReference(graph: Graph, options: Partial<GenerateOptions> & { host?: HostOptions } = {}): Promise<GeneratedLibrary> {
  const library = generateLibrary(graph, { modelHash: HASH, ...options });
  const program = await compileHostProgram(graph, library, options.host ?? {});
  try {
    const records = [1, 2, 3].map((seed) => randomInputs(graph, seed));
    const outputs = await program.run(records);
    records.forEach((inputs, r) => {
      const expected = runReference(graph, inputs).outputs.map((o) => Array.from(o as ArrayLike<number>, Number));
      expect(outputs[r]!.map((o: TensorData) => Array.from(o as ArrayLike<number>, Number)), `record ${r}`).toEqual(expected);
    });
  } finally {
    await program.dispose();
  }
  return library;
}

function layer(library: GeneratedLibrary, name: string) {
  const found = library.layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer '${name}'`);
  return found;
}

/** Weights with `zeros` of them (a fraction) equal to `zeroPoint`, seeded. */
function sparseWeights(b: IrBuilder, count: number, zeros: number, zeroPoint = 0): Int8Array {
  return Int8Array.from({ length: count }, () => (b.random.int(0, 999) < zeros * 1000 ? zeroPoint : b.random.int(-127, 127)));
}

describe('zero-copy concatenation', () => {
  it('every producer kind writes its channel slice in place (odd channel counts), bit-exact, arena not larger', async () => {
    const b = new IrBuilder('concat_slices', 11);
    const x = b.input('x', [1, 6, 6, 8]);
    const part = q(0.06, 5);
    const same = { top: 1, bottom: 1, left: 1, right: 1 };
    const producers: string[] = [];
    producers.push(b.conv(x, 5, { name: 'im2col', kernel: [3, 3], padding: same, quant: part }));
    producers.push(b.conv(x, 3, { name: 'pointwise', quant: part }));
    producers.push(b.conv(x, 4, { name: 'one_axis', kernel: [3, 1], dilation: [2, 1], padding: { top: 2, bottom: 2, left: 0, right: 0 }, quant: part }));
    producers.push(b.depthwise(x, { name: 'depthwise', padding: same, quant: part }));
    producers.push(b.pool('MaxPool2D', b.conv(x, 6, { quant: part }), [3, 3], { name: 'max_pool', stride: [1, 1], padding: same }));
    producers.push(b.pool('AveragePool2D', b.conv(x, 2, { quant: part }), [2, 2], { name: 'average_pool', stride: [1, 1], padding: { top: 0, bottom: 1, left: 0, right: 1 } }));
    producers.push(b.unary('Relu', b.conv(x, 7, { quant: q(0.04, -20) }), part, 'relu_table'));
    producers.push(b.conv(x, 6, { name: 'sparse', kernel: [3, 3], padding: same, quant: part, weights: sparseWeights(b, 6 * 9 * 8, 0.9) }));
    const c = b.conv(x, 4, { quant: q(0.05, 0) });
    const doubled = b.concat([c, b.unary('Neg', c, q(0.05, 0))], 3, q(0.05, 0));
    producers.push(b.binary('Mul', doubled, b.tensor('crelu_scale', [8], 'int8', q(0.02, 0), Int8Array.from([10, 20, 30, 40, 50, 60, 70, 80])), part, { min: 5, max: 127 }, 'crelu_mul'));
    const cat = b.concat(producers, 3, part, 'slices');
    b.output(b.conv(cat, 4, { name: 'reader' }));
    const graph = b.build();
    expect(findInPlaceConcats(graph).has('slices')).toBe(true);

    const library = await expectHostMatchesReference(graph, { host: { sanitize: true } });
    expect(layer(library, 'slices').function).toBeNull();
    expect(layer(library, 'crelu_mul').kernel).toBe('te_crelu_s8');
    expect(layer(library, 'sparse').weights?.format).toBe('sparse-delta8');
    const total = 5 + 3 + 4 + 8 + 6 + 2 + 7 + 6 + 8;
    const source = library.files.get('tinyedge_concat_slices.c')!;
    expect(source.match(new RegExp(`OUT_PIXEL_STRIDE = ${total}\\b`, 'g'))).toHaveLength(8);
    expect(source).toMatch(new RegExp(`into a slice of ${total} channels`));
    const copying = generateLibrary(graph, { modelHash: HASH, zeroCopyConcat: false });
    expect(library.plan.arenaBytes).toBeLessThan(copying.plan.arenaBytes);
    const slices = library.plan.tensors.filter((t) => t.sliceOf?.tensor === 'slices_out');
    expect(slices).toHaveLength(9);
    expect(slices.map((t) => t.sliceOf!.byteOffset)).toEqual([0, 5, 8, 12, 20, 26, 28, 35, 41]);
  });

  it('contiguous blocks (axes before the concatenation axis of size 1) at unaligned offsets, and the cases that keep a copy', async () => {
    const b = new IrBuilder('concat_blocks', 12);
    const v = b.input('v', [1, 20]);
    const block = q(0.07, -2);
    const fc = b.concat([b.fullyConnected(v, 5, { quant: block }), b.fullyConnected(v, 7, { quant: block }), b.fullyConnected(v, 3, { quant: block })], 1, block, 'fc_blocks');
    b.output(b.fullyConnected(fc, 4));
    const image = b.input('image', [1, 4, 4, 3]);
    const rows = b.concat([b.conv(image, 3, { kernel: [2, 1], quant: block }), b.conv(image, 3, { kernel: [3, 1], quant: block })], 1, block, 'row_blocks');
    b.output(b.conv(rows, 2));
    // Its output is a graph output (a caller buffer): copied.
    b.output(b.concat([b.conv(image, 2, { quant: block }), b.conv(image, 3, { quant: block })], 3, block, 'into_caller'));
    // One input is a graph input: copied.
    b.output(b.conv(b.concat([image, b.conv(image, 3, { quant: b.quantOf(image) })], 3, b.quantOf(image), 'with_input'), 2));
    // A Concat of a Concat: the inner one in place, the outer one copies.
    const inner = b.concat([b.conv(image, 2, { quant: block }), b.conv(image, 2, { quant: block })], 3, block, 'inner');
    b.output(b.conv(b.concat([inner, b.conv(image, 3, { quant: block })], 3, block, 'outer'), 2));
    const graph = b.build();

    const library = await expectHostMatchesReference(graph);
    expect(layer(library, 'fc_blocks').function).toBeNull();
    expect(layer(library, 'row_blocks').function).toBeNull();
    expect(layer(library, 'inner').function).toBeNull();
    for (const copied of ['into_caller', 'with_input', 'outer']) expect(layer(library, copied).kernel, copied).toBe('te_concat_int8');
    const offsets = (within: string) => library.plan.tensors.filter((t) => t.sliceOf?.tensor === within).map((t) => t.sliceOf!.byteOffset);
    expect(offsets('fc_blocks_out')).toEqual([0, 5, 12]);
    expect(offsets('row_blocks_out')).toEqual([0, 3 * 4 * 3]);
    expect(library.plan.arenaBytes).toBeLessThanOrEqual(generateLibrary(graph, { modelHash: HASH, zeroCopyConcat: false }).plan.arenaBytes);
  });
});

describe('C.ReLU', () => {
  it('fuses every variant into one kernel, bit-exact', async () => {
    const b = new IrBuilder('crelu_variants', 13);
    const x = b.input('x', [1, 5, 5, 6], q(0.04, 3));
    // Concat(Neg(x), x) -> Relu, the Neg's output quantized unlike the Concat's (the Concat requantizes it).
    const a = b.concat([b.unary('Neg', x, q(0.05, -7)), x], 3, q(0.045, 2), 'a_concat');
    b.output(b.unary('Relu', a, q(0.03, -128), 'a_relu'));
    // Concat(x, Neg(x)) -> Mul by a scalar -> Relu6.
    const bc = b.concat([x, b.unary('Neg', x)], 3, q(0.04, 3), 'b_concat');
    const bm = b.binary('Mul', bc, b.tensor('b_scalar', [1], 'int8', q(0.01, 0), Int8Array.from([90])), q(0.05, -1), { min: -128, max: 127 }, 'b_mul');
    b.output(b.unary('Relu6', bm, q(6 / 255, -128), 'b_relu6'));
    // Scale as the first operand, ReLU as the Mul's clamp, written into a zero-copy concatenation.
    const cc = b.concat([x, b.unary('Neg', x)], 3, q(0.04, 3), 'c_concat');
    const scale = b.tensor('c_scale', [1, 1, 1, 12], 'int8', q(0.02, 4), Int8Array.from([10, -20, 30, 40, 127, -128, 0, 4, 5, 60, 70, 80]));
    const cm = b.binary('Mul', scale, cc, q(0.06, -100), { min: -100, max: 127 }, 'c_mul');
    const joined = b.concat([cm, b.conv(x, 3, { quant: q(0.06, -100) })], 3, q(0.06, -100), 'c_joined');
    b.output(b.conv(joined, 2));
    // No scale, no activation; and a chain whose result is a graph output.
    b.output(b.conv(b.concat([x, b.unary('Neg', x)], 3, q(0.04, 3), 'd_concat'), 2));
    const ec = b.concat([x, b.unary('Neg', x)], 3, q(0.04, 3), 'e_concat');
    b.output(b.binary('Mul', ec, b.tensor('e_scale', [12], 'int8', q(0.03, 0), Int8Array.from({ length: 12 }, (_, i) => 10 * i - 50)), q(0.05, 0), { min: 0, max: 127 }, 'e_mul'));
    const graph = b.build();

    const library = await expectHostMatchesReference(graph);
    const fused = library.layers.filter((l) => l.kernel === 'te_crelu_s8').map((l) => l.name);
    expect(fused).toEqual(['a_relu', 'b_relu6', 'c_mul', 'd_concat', 'e_mul']);
    for (const name of ['a_concat', 'b_concat', 'b_mul', 'c_concat', 'e_concat']) expect(layer(library, name).function, name).toBeNull();
    expect(layer(library, 'c_joined').function).toBeNull();
    // One scale for all channels (or none): two tables; per-channel scales: the Mul's arithmetic per channel.
    const source = library.files.get('tinyedge_crelu_variants.c')!;
    const mode = (name: string) => new RegExp(`layer ${layer(library, name).index}: C\\.ReLU .* in one pass, (per-channel scales|by two tables)`).exec(source)?.[1];
    expect(['a_relu', 'b_relu6', 'c_mul', 'd_concat', 'e_mul'].map(mode)).toEqual(['by two tables', 'by two tables', 'per-channel scales', 'by two tables', 'per-channel scales']);
    // The intermediate tensors of a fused chain take no memory.
    const planned = new Set(library.plan.tensors.map((t) => t.name));
    for (const name of ['a_concat_out', 'b_concat_out', 'b_mul_out', 'c_concat_out']) expect(planned.has(name), name).toBe(false);
  });
});

describe('sparse weights', () => {
  it('encodes per channel with deltas, bridging gaps longer than 255 with zero entries', () => {
    const row = new Array<number>(700).fill(0);
    row[3] = 5;
    row[600] = -7;
    const encoding = encodeSparse([...row, ...new Array<number>(700).fill(2)], 700, (c) => (c === 1 ? 2 : 0))!;
    expect(Array.from(encoding.counts)).toEqual([4, 0]);
    expect(Array.from(encoding.deltas)).toEqual([3, 255, 255, 87]);
    expect(Array.from(encoding.values)).toEqual([5, 0, 0, -7]);
    expect(encoding.zeros).toBe(698 + 700);
  });

  it('sparse kernels (grouped, pointwise, fully connected, factorized, asymmetric weights) are bit-exact; dense stays dense', async () => {
    const b = new IrBuilder('sparse_layers', 14);
    const x = b.input('x', [1, 7, 7, 8]);
    const same = { top: 1, bottom: 1, left: 1, right: 1 };
    const conv = (name: string, out: number, options: ConvOptions, zeros: number, zeroPoint = 0) => {
      const [kh, kw] = options.kernel ?? [1, 1];
      const count = out * kh * kw * (8 / (options.groups ?? 1));
      const weightScales = Array.from({ length: out }, () => 0.003);
      const quantized = zeroPoint === 0 ? {} : { weightScales };
      const built = b.conv(x, out, { name, ...options, ...quantized, weights: sparseWeights(b, count, zeros, zeroPoint) });
      if (zeroPoint !== 0) b.tensors.set(`${name}_w`, { ...b.tensors.get(`${name}_w`)!, quant: q(weightScales, weightScales.map(() => zeroPoint)) });
      b.output(built);
    };
    conv('grouped', 8, { kernel: [3, 3], padding: same, groups: 2, stride: [2, 2] }, 0.85);
    conv('pointwise', 16, {}, 0.8);
    conv('one_axis', 6, { kernel: [1, 3], padding: { top: 0, bottom: 0, left: 2, right: 2 }, dilation: [1, 2] }, 0.9);
    conv('asymmetric', 6, { kernel: [3, 3], padding: same }, 0.8, 9);
    conv('dense', 6, { kernel: [3, 3], padding: same }, 0.3);
    const v = b.input('v', [1, 1200]);
    b.output(b.fullyConnected(v, 6, { name: 'long_rows', weights: sparseWeights(b, 6 * 1200, 0.995) }));
    const graph = b.build();

    const library = await expectHostMatchesReference(graph);
    for (const name of ['grouped', 'pointwise', 'one_axis', 'asymmetric', 'long_rows']) expect(layer(library, name).weights?.format, name).toBe('sparse-delta8');
    expect(layer(library, 'dense').weights?.format).toBe('dense');
    expect(layer(library, 'long_rows').kernel).toBe('te_fully_connected_sparse_s8');
    expect(layer(library, 'pointwise').kernel).toBe('te_conv2d_1x1_sparse_s8');
    // The format is chosen only where it saves at least a quarter of the bytes (a count per channel weighs on tiny rows).
    for (const name of ['grouped', 'pointwise', 'one_axis', 'asymmetric', 'long_rows']) {
      const w = layer(library, name).weights!;
      expect(w.bytes, name).toBeLessThanOrEqual(0.75 * w.denseBytes);
    }
    expect(library.constantBytes).toBeLessThan(generateLibrary(graph, { modelHash: HASH, sparseWeights: false }).constantBytes);
  });
});

describe('factorized convolutions', () => {
  it('kx1 and 1xk kernels and strided 1x1s read their taps in place, bit-exact', async () => {
    const b = new IrBuilder('one_axis', 15);
    const x = b.input('x', [1, 9, 8, 6]);
    const cases: [string, ConvOptions][] = [
      ['k5x1_stride2', { kernel: [5, 1], stride: [2, 1], padding: { top: 2, bottom: 1, left: 0, right: 0 } }],
      ['k1x3_dilation3', { kernel: [1, 3], dilation: [1, 3], padding: { top: 0, bottom: 0, left: 3, right: 3 } }],
      ['k3x1_groups3', { kernel: [3, 1], groups: 3, padding: { top: 1, bottom: 1, left: 1, right: 0 } }],
      ['k1x1_stride2_padded', { stride: [2, 2], padding: { top: 1, bottom: 0, left: 0, right: 1 } }],
    ];
    for (const [name, options] of cases) b.output(b.conv(x, 6, { name, ...options }));
    b.tensors.set('k1x3_dilation3_w', { ...b.tensors.get('k1x3_dilation3_w')!, quant: q(new Array<number>(6).fill(0.004), [3, -2, 0, 7, 1, -9]) });
    const graph = b.build();

    const library = await expectHostMatchesReference(graph, { sparseWeights: false });
    for (const [name] of cases) {
      expect(layer(library, name).kernel, name).toBe('te_conv2d_1d_s8');
      expect(layer(library, name).scratchBytes, name).toBe(name === 'k3x1_groups3' ? 2 : 6);
    }
  });
});
