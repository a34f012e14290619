/**
 * Randomized op-level tests: hundreds of small seeded layers (every op family, shapes, strides, paddings,
 * dilations, groups, depth multipliers, zero points, per-tensor and per-channel quantization, broadcasting), many
 * per compiled program, the host C output compared bit for bit with the reference interpreter.
 */
import { describe, expect, it } from 'vitest';
import { compileHostProgram } from '../../src/build/host.js';
import { generateLibrary } from '../../src/codegen/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { LAYER_KINDS, mergeLayers, randomLayer, type Layer, type LayerKind } from './support/layers.js';
import { firstDifference } from './support/compare.js';

const LAYERS_PER_KIND = 12;

function layersFor(kinds: readonly LayerKind[], perKind: number, firstSeed: number): { layer: Layer; seed: number; kind: LayerKind }[] {
  const layers: { layer: Layer; seed: number; kind: LayerKind }[] = [];
  kinds.forEach((kind, k) => {
    for (let i = 0; i < perKind; i++) {
      const seed = firstSeed + k * 1000 + i;
      layers.push({ layer: randomLayer(kind, seed, `l${layers.length}`), seed, kind });
    }
  });
  return layers;
}

async function checkBatch(name: string, entries: { layer: Layer; seed: number; kind: LayerKind }[], sanitize: boolean): Promise<void> {
  const { graph, inputs } = mergeLayers(name, entries.map((e) => e.layer));
  const expected = runReference(graph, inputs).outputs;
  const library = generateLibrary(graph, { modelHash: '0123456789abcdef' });
  const program = await compileHostProgram(graph, library, { sanitize });
  try {
    const [actual] = await program.run([inputs]);
    const failures: string[] = [];
    let output = 0;
    for (const entry of entries) {
      for (const _ of entry.layer.outputs) {
        const difference = firstDifference(actual![output]!, expected[output]!, 'C');
        if (difference) failures.push(`${entry.kind} seed ${entry.seed} (${entry.layer.describe}): ${difference}`);
        output++;
      }
    }
    expect(failures).toEqual([]);
  } finally {
    await program.dispose();
  }
}

/** The variants the random batches must contain, so a change to the generator cannot quietly stop testing one. */
function variantsCovered(layers: readonly Layer[]): Set<string> {
  const { graph } = mergeLayers('coverage', layers);
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    const output = graph.tensors.get(node.outputs[0]!)!;
    if (output.dtype === 'int32') seen.add(`${node.op} int32 output`);
    if (node.op === 'Conv2D' || node.op === 'DepthwiseConv2D' || node.op === 'FullyConnected') {
      const weights = graph.tensors.get(node.inputs[1]!)!;
      seen.add(`${node.op} ${weights.quant!.scale.length > 1 ? 'per-channel' : 'per-tensor'}`);
      if (weights.quant!.zeroPoint.some((z) => z !== 0)) seen.add(`${node.op} weight zero points`);
      if (node.op !== 'FullyConnected') {
        const { dilation, padding, stride } = node.attrs;
        if (dilation[0] > 1 || dilation[1] > 1) seen.add(`${node.op} dilation`);
        if (stride[0] > 1 || stride[1] > 1) seen.add(`${node.op} stride`);
        if (padding.top !== padding.bottom || padding.left !== padding.right) seen.add(`${node.op} asymmetric padding`);
      }
      if (node.op === 'Conv2D' && graph.tensors.get(node.inputs[0]!)!.shape[3] !== graph.tensors.get(node.inputs[1]!)!.shape[3]) seen.add('grouped Conv2D');
      if (node.op === 'DepthwiseConv2D' && node.attrs.depthMultiplier > 1) seen.add('DepthwiseConv2D multiplier');
    }
    if ((node.op === 'Add' || node.op === 'Sub' || node.op === 'Mul') && node.inputs.some((i) => graph.tensors.get(i)!.data)) seen.add(`${node.op} constant operand`);
    if (node.op === 'Quantize') seen.add(`Quantize ${graph.tensors.get(node.inputs[0]!)!.dtype} -> ${output.dtype} ${node.attrs.rounding}`);
  }
  return seen;
}

describe('generated C vs the reference interpreter, random layers', () => {
  const half = Math.ceil(LAYER_KINDS.length / 2);

  it('the random batches cover every variant that matters', () => {
    const layers = [...layersFor(LAYER_KINDS, LAYERS_PER_KIND, 1), ...layersFor(LAYER_KINDS, 4, 50_000)].map((e) => e.layer);
    const seen = variantsCovered(layers);
    const expected = [
      'Conv2D int32 output', 'DepthwiseConv2D int32 output', 'FullyConnected int32 output', 'BatchMatMul int32 output',
      'Conv2D per-channel', 'Conv2D per-tensor', 'DepthwiseConv2D per-channel', 'DepthwiseConv2D per-tensor',
      'FullyConnected per-channel', 'FullyConnected per-tensor', 'Conv2D weight zero points', 'DepthwiseConv2D weight zero points',
      'FullyConnected weight zero points', 'Conv2D dilation', 'DepthwiseConv2D dilation', 'Conv2D stride', 'DepthwiseConv2D stride',
      'Conv2D asymmetric padding', 'DepthwiseConv2D asymmetric padding', 'grouped Conv2D', 'DepthwiseConv2D multiplier',
      'Add constant operand', 'Sub constant operand', 'Mul constant operand',
      'Quantize int8 -> int8 half-away', 'Quantize float32 -> int8 half-even', 'Quantize float32 -> int8 half-away',
      'Quantize float32 -> uint8 half-even', 'Quantize float32 -> int16 half-away',
    ];
    expect(expected.filter((v) => !seen.has(v))).toEqual([]);
  });

  it(`matches bit for bit: ${LAYERS_PER_KIND} layers of each of the first ${half} kinds in one program`, async () => {
    await checkBatch('random_a', layersFor(LAYER_KINDS.slice(0, half), LAYERS_PER_KIND, 1), false);
  });

  it(`matches bit for bit: ${LAYERS_PER_KIND} layers of each of the other kinds in one program`, async () => {
    await checkBatch('random_b', layersFor(LAYER_KINDS.slice(half), LAYERS_PER_KIND, 1), false);
  });

  it('runs clean under AddressSanitizer and UBSan (4 layers of every kind)', async () => {
    await checkBatch('random_sanitized', layersFor(LAYER_KINDS, 4, 50_000), true);
  });
});
