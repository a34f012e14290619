/**
 * The compression techniques of issue 6 on models the tests build (test/compression/models.ts): for each, the QDQ model
 * goes through importOnnx -> optimizeGraph -> generated C on the host, and
 * - the C is bit-exact with the reference interpreter on the imported (unoptimized) graph;
 * - every layer is within 1 LSB of onnxruntime given the same input (models cut at every activation, oracle.ts);
 * - end to end, the int8 logits are within 1 LSB of onnxruntime's on every sample. Every layer rounds the same real
 *   value two ways (TFLite's Q31 requantization, onnxruntime's float32) and a pooled feature now and then ends 1 LSB
 *   (rarely 2) apart; the classifier head (models.ts's centroidHead) spreads its weights so that one LSB of a pooled
 *   feature moves a logit by a fraction of an LSB. Reported: the pooled features' and the logits' largest difference,
 *   the head's gain (logit LSB per LSB of pooled feature: the largest single weight, and summed over the features);
 * - top-1 agrees with the float model run in onnxruntime on every one of the random inputs (seeded samples of the
 *   models' 10-class input distribution, models.ts). Reported: the float model's accuracy on their classes and its
 *   smallest top-1 margin, in LSB of the int8 logits;
 * - the technique's own promise holds: no copy for concatenations, one kernel for C.ReLU, fewer MACs for pruning,
 *   fewer weight bytes for sparsity, no im2col for factorized kernels.
 * One host program per model (plus one for each "with and without" comparison that needs run-time outputs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compileHostProgram } from '../../src/build/host.js';
import { generateLibrary, type GeneratedLibrary, type GenerateOptions } from '../../src/codegen/index.js';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import type { Conv2DNode, Graph, TensorData } from '../../src/ir/types.js';
import { optimizeGraph, type OptimizeOptions, type OptimizeResult } from '../../src/passes/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { buildModel, MODEL_SPECS, randomSample, type TechniqueModel } from './models.js';
import { argmax, layerwiseDifferences, runActivation, runLogits } from './oracle.js';

const SAMPLES = 64;
/** Samples for the layer-by-layer oracle (one onnxruntime run and one reference run with intermediates each). */
const LAYER_SAMPLES = 8;
const HASH = '0'.repeat(16);

type ModelKey = keyof typeof MODEL_SPECS;

interface Evaluation {
  model: TechniqueModel;
  graph: Graph;
  optimized: OptimizeResult;
  library: GeneratedLibrary;
  inputs: Float32Array[];
  /** int8 logits of the generated C, per sample. */
  host: number[][];
  reference: number[][];
  layerwise: Map<string, number>;
  endToEnd: { max: number; withinOne: number };
  /** Pooled features, end to end: the largest difference from onnxruntime's. */
  pooled: { max: number };
  /** Logit LSB per LSB of a pooled feature: the largest single weight's, and the largest sum over a class's features. */
  headGain: { feature: number; summed: number };
  top1: { agreement: number; classes: number; accuracy: number; smallestMargin: number; disagreements: { sample: number; margin: number }[] };
}

const summary: string[] = [];
afterAll(() => {
  if (summary.length > 0) console.log(`compression techniques (${SAMPLES} random inputs each):\n${summary.join('\n')}`);
});

function ints(data: TensorData): number[] {
  return Array.from(data as ArrayLike<number>, Number);
}

async function hostOutputs(graph: Graph, library: GeneratedLibrary, inputs: Float32Array[]): Promise<number[][]> {
  const program = await compileHostProgram(graph, library);
  try {
    return (await program.run(inputs.map((input) => [input]))).map((outputs) => ints(outputs[0]!));
  } finally {
    await program.dispose();
  }
}

async function evaluate(key: ModelKey, options: { passes?: OptimizeOptions; codegen?: Partial<GenerateOptions> } = {}): Promise<Evaluation> {
  const model = await buildModel(MODEL_SPECS[key]);
  const graph = importOnnx(model.qdq, `${model.name}.onnx`);
  expect(graph.unsupported).toEqual([]);
  const optimized = optimizeGraph(graph, options.passes);
  const library = generateLibrary(optimized.graph, { modelHash: HASH, ...options.codegen });
  const samples = Array.from({ length: SAMPLES }, (_, s) => randomSample(model.inputShape, s));
  const inputs = samples.map((sample) => sample.input);
  const host = await hostOutputs(optimized.graph, library, inputs);
  const runs = inputs.map((input) => runReference(graph, [input], { keepIntermediates: true }));
  const reference = runs.map((run) => ints(run.outputs[0]!));
  const layerwise = await layerwiseDifferences(model, graph, inputs.slice(0, LAYER_SAMPLES), (input) => runReference(graph, [input], { keepIntermediates: true }).intermediates!);
  const quantized = await runLogits(model.qdq, inputs, model.inputShape);
  const float = await runLogits(model.float, inputs, model.inputShape, {});
  const diffs = quantized.flatMap((logits, s) => logits.map((v, k) => Math.abs(v - reference[s]![k]!)));
  const predicted = float.map(argmax);
  // The pooled features end to end ([1, C, 1, 1]: the same order in both layouts), and the head that reads them.
  const theirPooled = await runActivation(model, model.pooled, inputs);
  const pooledDiffs = runs.map((run, s) => ints(run.intermediates!.get(`${model.pooled}_q`)!).map((v, c) => Math.abs(v - theirPooled[s]![c]!)));
  const gains = headGains(graph);
  const logitQuant = graph.tensors.get(graph.outputs[0]!.tensor)!.quant!;
  const floatMargin = (logits: number[]) => {
    const [best, second] = [...logits].sort((a, b) => b - a);
    return (best! - second!) / logitQuant.scale[0]!;
  };
  const evaluation: Evaluation = {
    model,
    graph,
    optimized,
    library,
    inputs,
    host,
    reference,
    layerwise,
    endToEnd: { max: Math.max(...diffs), withinOne: diffs.filter((d) => d <= 1).length / diffs.length },
    pooled: { max: Math.max(...pooledDiffs.flat()) },
    headGain: { feature: Math.max(...gains.flat()), summed: Math.max(...gains.map((row) => row.reduce((a, b) => a + b, 0))) },
    top1: {
      agreement: host.filter((logits, s) => argmax(logits) === predicted[s]).length / SAMPLES,
      classes: new Set(predicted).size,
      accuracy: predicted.filter((k, s) => k === samples[s]!.label).length / SAMPLES,
      smallestMargin: Math.min(...float.map(floatMargin)),
      disagreements: host.flatMap((logits, s) => (argmax(logits) === predicted[s] ? [] : [{ sample: s, margin: floatMargin(float[s]!) }])),
    },
  };
  summary.push(
    `  ${model.name.padEnd(26)} layers within 1 LSB of onnxruntime: ${[...layerwise.values()].every((d) => d <= 1) ? 'all' : 'NO'} (${layerwise.size} activations); ` +
      `end to end vs onnxruntime: pooled features max ${evaluation.pooled.max} LSB, logits max ${evaluation.endToEnd.max} LSB (${(100 * evaluation.endToEnd.withinOne).toFixed(1)} % within 1; ` +
      `head gain ${evaluation.headGain.feature.toFixed(2)} logit LSB per pooled LSB at most, ${evaluation.headGain.summed.toFixed(1)} summed); ` +
      `top-1 vs float: ${(100 * evaluation.top1.agreement).toFixed(1)} % (${evaluation.top1.classes} classes; float model right on ${(100 * evaluation.top1.accuracy).toFixed(1)} %, ` +
      `smallest float margin ${evaluation.top1.smallestMargin.toFixed(1)} LSB` +
      `${evaluation.top1.disagreements.map((d) => `; sample ${d.sample} differs at a float margin of ${d.margin.toFixed(1)} LSB`).join('')}); ` +
      `arena ${library.plan.arenaBytes} B, constants ${library.constantBytes} B`,
  );
  return evaluation;
}

/**
 * The classifier's sensitivity to its input: per class k and pooled feature c, |w_kc| S_w,k S_pool / S_logit (the
 * logit LSB that one LSB of feature c moves). The graph's one FullyConnected is the head.
 */
function headGains(graph: Graph): number[][] {
  const heads = graph.nodes.filter((n) => n.op === 'FullyConnected');
  expect(heads).toHaveLength(1);
  const head = heads[0]!;
  const weights = graph.tensors.get(head.inputs[1]!)!;
  const pooledScale = graph.tensors.get(head.inputs[0]!)!.quant!.scale[0]!;
  const logitScale = graph.tensors.get(head.outputs[0]!)!.quant!.scale[0]!;
  const [classes, depth] = weights.shape as [number, number];
  const values = weights.data as Int8Array;
  return Array.from({ length: classes }, (_, k) => {
    const scale = weights.quant!.scale.length === 1 ? weights.quant!.scale[0]! : weights.quant!.scale[k]!;
    return Array.from({ length: depth }, (_, c) => (Math.abs(values[k * depth + c]!) * scale * pooledScale) / logitScale);
  });
}

/** What every technique must satisfy. */
function expectCorrect(e: Evaluation): void {
  expect(e.host, 'generated C == reference interpreter, bit for bit').toEqual(e.reference);
  expect(e.layerwise.size).toBeGreaterThan(2);
  for (const [id, diff] of e.layerwise) expect(diff, `activation ${id}: onnxruntime vs reference given the same input`).toBeLessThanOrEqual(1);
  expect(e.endToEnd.max, 'end to end: every logit of every sample within 1 LSB of onnxruntime\'s').toBeLessThanOrEqual(1);
  expect(e.top1.classes, 'the float model predicts several classes on these inputs').toBeGreaterThanOrEqual(5);
  expect(e.top1.disagreements, 'top-1 agrees with the float model on every sample').toEqual([]);
}

function layersOf(e: Evaluation, op: string) {
  return e.library.layers.filter((l) => l.op === op);
}

function arenaWith(e: Evaluation, options: Partial<GenerateOptions>): number {
  return generateLibrary(e.optimized.graph, { modelHash: HASH, ...options }).plan.arenaBytes;
}

describe('compression techniques on QDQ models built by the tests', () => {
  it('grouped convolution (2, 4 and 8 groups)', async () => {
    const e = await evaluate('grouped');
    expectCorrect(e);
    const groups = e.optimized.graph.nodes.filter((n): n is Conv2DNode => n.op === 'Conv2D').map((n) => n.attrs.groups);
    expect(groups).toEqual([1, 2, 4, 8]);
  });

  it('depthwise-separable blocks (MobileNet)', async () => {
    const e = await evaluate('depthwiseSeparable');
    expectCorrect(e);
    expect(layersOf(e, 'DepthwiseConv2D').map((l) => l.kernel)).toEqual(['te_depthwise_conv2d_s8', 'te_depthwise_conv2d_s8']);
    expect(layersOf(e, 'Conv2D').filter((l) => l.kernel === 'te_conv2d_1x1_s8')).toHaveLength(2);
  });

  it('channel shuffle and stride-2 concat (ShuffleNet v2): no shuffle, no concat copy, no larger arena', async () => {
    const e = await evaluate('shuffle');
    expectCorrect(e);
    // The only Transpose left is the input's NCHW -> NHWC; the shuffle's Reshape/Transpose/Reshape are gone.
    expect(e.optimized.graph.nodes.filter((n) => n.op === 'Transpose' || n.op === 'Reshape').map((n) => n.op)).toEqual(['Transpose', 'Reshape']);
    expect(e.graph.nodes.some((n) => n.op === 'Transpose' && n.attrs.perm.length === 5), 'the imported graph has the shuffle').toBe(true);
    expect(layersOf(e, 'Concat').map((l) => l.function)).toEqual([null]);
    expect(e.library.files.get('tinyedge_shuffle_unit.c')).not.toMatch(/te_concat/);
    const copying = arenaWith(e, { zeroCopyConcat: false });
    summary.push(`    shuffle unit: arena ${e.library.plan.arenaBytes} B with the concat in place, ${copying} B copying it`);
    expect(e.library.plan.arenaBytes).toBeLessThanOrEqual(copying);
  });

  it('ShuffleNet v2 in the exporter\'s branch order: the concat stays partly in place, the arena no larger', async () => {
    const e = await evaluate('shuffleExportOrder');
    expectCorrect(e);
    const [concat] = layersOf(e, 'Concat');
    // The first branch's slice would hold the whole output through the second branch's wide 1x1: it is copied.
    expect(concat!.function).not.toBeNull();
    expect(e.library.files.get('tinyedge_shuffle_unit_export_order.c')).toMatch(/Concat of 1 inputs \(and 1 more that their producers wrote in place\)/);
    const copying = arenaWith(e, { zeroCopyConcat: false });
    summary.push(`    shuffle unit, exporter order: arena ${e.library.plan.arenaBytes} B (one input in place), ${copying} B copying both`);
    expect(e.library.plan.arenaBytes).toBeLessThanOrEqual(copying);
  });

  it('ShuffleNet v1 (grouped 1x1 -> shuffle -> depthwise -> grouped 1x1; residual Add and stride-2 Concat): the shuffles folded into the grouped convolutions\' store order, the arena no larger than without shuffles', async () => {
    const e = await evaluate('shuffleNetV1');
    expectCorrect(e);
    expect(e.graph.nodes.filter((n) => n.op === 'Transpose' && n.attrs.perm.length === 5), 'the imported graph has both shuffles').toHaveLength(2);
    // Left: the input's NCHW -> NHWC and the flatten.
    expect(e.optimized.graph.nodes.filter((n) => n.op === 'Transpose' || n.op === 'Reshape').map((n) => n.op)).toEqual(['Transpose', 'Reshape']);
    const stored = e.optimized.graph.nodes.filter((n): n is Conv2DNode => n.op === 'Conv2D' && n.attrs.outputPositions !== undefined);
    expect(stored.map((n) => n.attrs.groups)).toEqual([3, 3]);
    const source = e.library.files.get('tinyedge_shufflenet_v1.c')!;
    expect(source.match(/channel shuffle folded into the store order \(group step 1, channel step 3\)/g)).toHaveLength(2);
    expect(layersOf(e, 'Concat').map((l) => l.function), 'the stride-2 concat written in place').toEqual([null]);
    // The same network without the shuffles (same weights, same calibration draw): the shuffle adds no byte.
    const twin = await buildModel(MODEL_SPECS.shuffleNetV1Unshuffled);
    const twinGraph = optimizeGraph(importOnnx(twin.qdq, `${twin.name}.onnx`)).graph;
    const twinArena = generateLibrary(twinGraph, { modelHash: HASH }).plan.arenaBytes;
    summary.push(`    ShuffleNet v1: arena ${e.library.plan.arenaBytes} B with both shuffles folded, ${twinArena} B for the same network without shuffles`);
    expect(e.library.plan.arenaBytes).toBeLessThanOrEqual(twinArena);
    expect(twinGraph.nodes.map((n) => n.op)).toEqual(e.optimized.graph.nodes.map((n) => n.op));
  });

  it('factorized 3x1 / 1x3 convolutions with dilation (ERFNet non-bottleneck-1D) read their taps in place', async () => {
    const e = await evaluate('factorized');
    expectCorrect(e);
    const factorized = layersOf(e, 'Conv2D').filter((l) => l.kernel === 'te_conv2d_1d_s8');
    expect(factorized).toHaveLength(4);
    // Scratch: one row of input zero points for the padding taps, not a receptive field.
    for (const layer of factorized) expect(layer.scratchBytes).toBe(16);
    const source = e.library.files.get('tinyedge_factorized_1d.c')!;
    expect(source).toMatch(/Conv2D 3x1 \(taps along one axis, read in place\), stride 1x1, dilation 2x1/);
    expect(source).toMatch(/Conv2D 1x3 \(taps along one axis, read in place\), stride 1x1, dilation 1x2/);
  });

  it('bottlenecks with residual Add: ResNet identity and projection, ENet MaxPool + zero channels', async () => {
    const e = await evaluate('bottleneck');
    expectCorrect(e);
    const ops = e.optimized.graph.nodes.map((n) => n.op);
    expect(ops.filter((op) => op === 'Add')).toHaveLength(3);
    expect(ops).toContain('MaxPool2D');
    expect(ops).toContain('Pad');
  });

  it('C.ReLU: Neg, Concat, per-channel scale and ReLU in one kernel', async () => {
    const e = await evaluate('crelu');
    expectCorrect(e);
    expect(e.library.layers.filter((l) => l.kernel === 'te_crelu_s8')).toHaveLength(1);
    for (const op of ['Neg', 'Concat']) expect(layersOf(e, op).map((l) => l.function)).toEqual([null]);
    const unfused = arenaWith(e, { fuseCRelu: false });
    summary.push(`    C.ReLU: arena ${e.library.plan.arenaBytes} B fused, ${unfused} B as Neg + Concat + Mul`);
    expect(e.library.plan.arenaBytes).toBeLessThanOrEqual(unfused);
  });

  it('SqueezeNet fire modules: the expand branches write into their slices of the concatenation', async () => {
    const e = await evaluate('fire');
    expectCorrect(e);
    expect(layersOf(e, 'Concat').map((l) => l.function)).toEqual([null, null]);
    const copying = arenaWith(e, { zeroCopyConcat: false });
    summary.push(`    fire modules: arena ${e.library.plan.arenaBytes} B with the concatenations in place, ${copying} B copying them`);
    expect(e.library.plan.arenaBytes).toBeLessThan(copying);
  });

  it('structured pruning: half of the pointwise channels removed, <= 60 % of the MACs, identical outputs', async () => {
    const e = await evaluate('pruned');
    expectCorrect(e);
    const pruning = e.optimized.pruning!;
    summary.push(
      `    pruning: MACs ${pruning.macsBefore} -> ${pruning.macsAfter} (${((100 * pruning.macsAfter) / pruning.macsBefore).toFixed(1)} %), ` +
        `parameter bytes ${pruning.paramBytesBefore} -> ${pruning.paramBytesAfter}`,
    );
    expect(pruning.macsAfter).toBeLessThanOrEqual(0.6 * pruning.macsBefore);
    const unpruned = optimizeGraph(e.graph, { skip: ['remove-pruned-channels'] }).graph;
    const library = generateLibrary(unpruned, { modelHash: HASH });
    expect(await hostOutputs(unpruned, library, e.inputs)).toEqual(e.host);
  });

  it('unstructured sparsity (80 % zero weights): sparse storage <= 50 % of the dense bytes, identical outputs', async () => {
    const e = await evaluate('sparse');
    expectCorrect(e);
    const sparse = e.library.layers.filter((l) => l.weights?.format === 'sparse-delta8');
    expect(sparse).toHaveLength(3);
    const stored = sparse.reduce((sum, l) => sum + l.weights!.bytes, 0);
    const dense = sparse.reduce((sum, l) => sum + l.weights!.denseBytes, 0);
    const denseLibrary = generateLibrary(e.optimized.graph, { modelHash: HASH, sparseWeights: false });
    // Multiply-accumulates: every weight once per output pixel; the sparse kernel does only the non-zero ones.
    const pixels = (index: number) => e.optimized.graph.tensors.get(e.optimized.graph.nodes[index]!.outputs[0]!)!.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const denseMacs = sparse.reduce((sum, l) => sum + l.weights!.denseBytes * pixels(l.index), 0);
    const sparseMacs = sparse.reduce((sum, l) => sum + Math.round(l.weights!.denseBytes * (1 - l.weights!.sparsity)) * pixels(l.index), 0);
    summary.push(
      `    sparsity: multiply-accumulates of the sparse layers ${sparseMacs} instead of ${denseMacs} (${((100 * sparseMacs) / denseMacs).toFixed(1)} %)`,
    );
    summary.push(
      `    sparsity: weights of the sparse layers ${stored} B stored vs ${dense} B dense (${((100 * stored) / dense).toFixed(1)} %); ` +
        `all constants ${e.library.constantBytes} B vs ${denseLibrary.constantBytes} B; per layer ${sparse.map((l) => `${(100 * l.weights!.sparsity).toFixed(0)} % zero: ${l.weights!.bytes}/${l.weights!.denseBytes} B`).join(', ')}`,
    );
    expect(stored).toBeLessThanOrEqual(0.5 * dense);
    expect(await hostOutputs(e.optimized.graph, denseLibrary, e.inputs)).toEqual(e.host);
  });
});
