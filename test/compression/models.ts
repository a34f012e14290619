/**
 * The per-technique test models of the compression work (issue 6), built here with the ONNX test builder:
 * seeded random float weights, then a QDQ model quantized the way a framework exporter does it — per-channel symmetric
 * int8 weights, int32 bias at S_in * S_w, asymmetric int8 activations whose ranges come from running the float model
 * in onnxruntime on calibration inputs. Concat inputs, MaxPool and Pad share their output's quantization (as
 * TFLite's converter makes them), so a concat copies bytes unchanged and can be done in place.
 *
 * Every network is a body on a [1, C, H, W] float input, then GlobalAveragePool -> Flatten -> Gemm with 10 classes;
 * the QDQ model's output is the int8 logits (QuantizeLinear output), the float model's the float logits, so top-1
 * agreement is the argmax of each. The models are classifiers of a seeded 10-class input distribution (randomSample):
 * the body keeps its random weights, the Gemm head is the nearest class centroid of the calibration samples' pooled
 * features (centroidHead), so the float model's decisions have margins, as a trained model's have on its data. (With
 * a random head every input is a near tie between a few classes and top-1 agreement measures rounding noise, not the
 * quantized model.)
 *
 * A body is written once against `Net`, which emits the float network (mode 'float', every activation a probe
 * output for calibration) or the QDQ network (mode 'qdq', every activation behind QuantizeLinear ->
 * DequantizeLinear). Weights are drawn in call order from one seeded stream, so both modes get the same numbers.
 */
import ort from 'onnxruntime-node';
import { OnnxGraphBuilder, seededFloats } from '../support/onnx-builder.js';

export interface TechniqueModel {
  name: string;
  /** QDQ ONNX: float input 'input' [1, C, H, W], int8 output 'logits' [1, 10]. */
  qdq: Uint8Array;
  /** The float network the QDQ model quantizes: float output 'logits' [1, 10]. */
  float: Uint8Array;
  inputShape: number[];
  classes: number;
  /** Every quantized activation of the QDQ model: its QuantizeLinear output is `${id}_q`, its NCHW shape. */
  activations: { id: string; shape: number[] }[];
  /** The activation id of the pooled features the classifier head reads. */
  pooled: string;
}

export const CLASSES = 10;
/** Inputs are clamped to [-INPUT_RANGE, INPUT_RANGE] (the input's quantization range). */
export const INPUT_RANGE = 1;

export interface Activation {
  /** Float tensor name in the model being built. */
  name: string;
  /** Identity of the activation across both modes: its quantization parameters are looked up by it. */
  id: string;
  /** NCHW. */
  shape: number[];
}

export interface Head {
  /** [classes, depth], row-major. */
  weights: number[];
  bias: number[];
}

interface Range {
  min: number;
  max: number;
}

interface Quant {
  scale: number;
  zeroPoint: number;
}

export interface ConvOptions {
  out: number;
  kernel?: [number, number];
  stride?: number;
  /** [top, left, bottom, right]; default: 'same' for stride 1 (kernel and dilation aware), else 0. */
  pads?: [number, number, number, number];
  dilation?: [number, number];
  groups?: number;
  relu?: boolean;
  /** Output channels whose weights and bias are all zero (structured pruning left in the model). */
  prunedChannels?: number[];
  /** Fraction of weights set to zero at random (unstructured sparsity). */
  sparsity?: number;
}

type Mode = 'float' | 'qdq';

/** A network under construction, in one of the two modes. */
export class Net {
  readonly b: OnnxGraphBuilder;
  /** float mode: every activation, to be made a graph output for calibration. */
  readonly probes: Activation[] = [];
  /** Pairs of activations that must share quantization parameters (union-found before the QDQ build). */
  readonly ties: [string, string][] = [];
  /** Every activation made (both modes), in order. */
  readonly activationList: Activation[] = [];
  /** The globally pooled features the classifier reads (set by classifier()). */
  pooled: Activation | undefined;
  private activations = 0;
  private weightSeed: number;

  constructor(
    readonly mode: Mode,
    name: string,
    seed: number,
    private readonly quants: ReadonlyMap<string, Quant> = new Map(),
    /** The classifier's weights [classes, depth] and bias; default: seeded random. */
    private readonly head?: Head,
  ) {
    this.b = new OnnxGraphBuilder(name, 13);
    this.weightSeed = seed * 7919;
  }

  input(shape: number[]): Activation {
    const name = this.b.input('input', 'float', shape);
    if (this.mode === 'float') return { name, id: 'input', shape };
    const q = this.quantOf('input');
    return { name: this.b.dequantize(this.b.quantize(name, q.scale, q.zeroPoint), q.scale, q.zeroPoint), id: 'input', shape };
  }

  conv(x: Activation, options: ConvOptions): Activation {
    const [kh, kw] = options.kernel ?? [1, 1];
    const stride = options.stride ?? 1;
    const groups = options.groups ?? 1;
    const [dh, dw] = options.dilation ?? [1, 1];
    const inC = x.shape[1]!;
    const pads = options.pads ?? (stride === 1 ? samePads(kh, kw, dh, dw) : [0, 0, 0, 0]);
    const fanIn = (inC / groups) * kh * kw;
    const perChannel = (inC / groups) * kh * kw;
    const limit = Math.sqrt(6 / fanIn);
    const weights = this.draw(options.out * perChannel, -limit, limit);
    const bias = this.draw(options.out, -0.2, 0.2);
    if (options.sparsity) {
      const keep = this.draw(weights.length, 0, 1);
      weights.forEach((_, i) => {
        if (keep[i]! < options.sparsity!) weights[i] = 0;
      });
    }
    for (const c of options.prunedChannels ?? []) {
      weights.fill(0, c * perChannel, (c + 1) * perChannel);
      bias[c] = 0;
    }
    const w = this.weightInitializer(weights, [options.out, inC / groups, kh, kw], 'w');
    const bName = this.biasInitializer(bias, x, w.scales);
    const [outH, outW] = [
      Math.floor((x.shape[2]! + pads[0] + pads[2] - dh * (kh - 1) - 1) / stride) + 1,
      Math.floor((x.shape[3]! + pads[1] + pads[3] - dw * (kw - 1) - 1) / stride) + 1,
    ];
    const id = this.nextId();
    let y = this.b.node(
      'Conv',
      [x.name, w.name, bName],
      [this.opOutput(id, !options.relu)],
      { kernel_shape: [kh, kw], strides: [stride, stride], pads, dilations: [dh, dw], group: groups },
      { name: `conv_${id}` },
    );
    if (options.relu) y = this.b.node('Relu', [y], [this.opOutput(id, true)], {}, { name: `relu_${id}` });
    return this.activation(y, id, [1, options.out, outH, outW]);
  }

  add(a: Activation, b: Activation, relu = false): Activation {
    const id = this.nextId();
    let y = this.b.node('Add', [a.name, b.name], [this.opOutput(id, !relu)], {}, { name: `add_${id}` });
    if (relu) y = this.b.node('Relu', [y], [this.opOutput(id, true)], {}, { name: `relu_${id}` });
    return this.activation(y, id, a.shape);
  }

  relu(x: Activation): Activation {
    const id = this.nextId();
    return this.activation(this.b.node('Relu', [x.name], [this.opOutput(id, true)], {}, { name: `relu_${id}` }), id, x.shape);
  }

  neg(x: Activation): Activation {
    const id = this.nextId();
    return this.activation(this.b.node('Neg', [x.name], [this.opOutput(id, true)], {}, { name: `neg_${id}` }), id, x.shape);
  }

  /** Concat on the channel axis; inputs and output share quantization. */
  concat(xs: Activation[]): Activation {
    const id = this.nextId();
    for (const x of xs) this.ties.push([x.id, id]);
    const channels = xs.reduce((sum, x) => sum + x.shape[1]!, 0);
    const y = this.b.node('Concat', xs.map((x) => x.name), [this.opOutput(id, true)], { axis: 1 }, { name: `concat_${id}` });
    return this.activation(y, id, [1, channels, x0(xs).shape[2]!, x0(xs).shape[3]!]);
  }

  /** x * scale[c] (a per-channel constant, int8 per-tensor symmetric in the QDQ model), optionally followed by Relu. */
  channelScale(x: Activation, scales: number[], relu: boolean): Activation {
    const shape = [1, scales.length, 1, 1];
    let constant: string;
    if (this.mode === 'float') constant = this.b.initializer(this.b.fresh('scale'), 'float', shape, scales);
    else {
      const s = Math.max(...scales.map(Math.abs)) / 127;
      constant = this.b.quantizedInitializer(this.b.fresh('scale_q'), 'int8', shape, scales.map((v) => Math.round(v / s)), s, 0);
    }
    const id = this.nextId();
    let y = this.b.node('Mul', [x.name, constant], [this.opOutput(id, !relu)], {}, { name: `mul_${id}` });
    if (relu) y = this.b.node('Relu', [y], [this.opOutput(id, true)], {}, { name: `relu_${id}` });
    return this.activation(y, id, x.shape);
  }

  maxPool(x: Activation, kernel: number, stride: number): Activation {
    const id = this.nextId();
    this.ties.push([x.id, id]);
    const y = this.b.node('MaxPool', [x.name], [this.opOutput(id, true)], { kernel_shape: [kernel, kernel], strides: [stride, stride] }, { name: `maxpool_${id}` });
    const size = (d: number) => Math.floor((d - kernel) / stride) + 1;
    return this.activation(y, id, [1, x.shape[1]!, size(x.shape[2]!), size(x.shape[3]!)]);
  }

  /** Average pooling (padding excluded from the count); shares its input's quantization, as TFLite's pooling requires. */
  avgPool(x: Activation, kernel: number, stride: number, pad: number): Activation {
    const id = this.nextId();
    this.ties.push([x.id, id]);
    const y = this.b.node(
      'AveragePool',
      [x.name],
      [this.opOutput(id, true)],
      { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], count_include_pad: 0 },
      { name: `avgpool_${id}` },
    );
    const size = (d: number) => Math.floor((d + 2 * pad - kernel) / stride) + 1;
    return this.activation(y, id, [1, x.shape[1]!, size(x.shape[2]!), size(x.shape[3]!)]);
  }

  /** Zero channels appended (ENet's shortcut that widens to the main branch's channels). */
  padChannels(x: Activation, extra: number): Activation {
    const id = this.nextId();
    this.ties.push([x.id, id]);
    const pads = this.b.initializer(this.b.fresh('pads'), 'int64', [8], [0, 0, 0, 0, 0, extra, 0, 0]);
    const y = this.b.node('Pad', [x.name, pads], [this.opOutput(id, true)], { mode: 'constant' }, { name: `pad_${id}` });
    return this.activation(y, id, [1, x.shape[1]! + extra, x.shape[2]!, x.shape[3]!]);
  }

  /** ShuffleNet's channel shuffle, in NCHW: Reshape [N, g, C/g, H, W] -> Transpose -> Reshape back. Pure movement. */
  shuffle(x: Activation, groups: number): Activation {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const split = this.b.node('Reshape', [x.name, this.b.initializer(this.b.fresh('split_shape'), 'int64', [5], [n, groups, c / groups, h, w])], [this.b.fresh('shuffle_split')], {}, { name: this.b.fresh('shuffle_split') });
    const swapped = this.b.node('Transpose', [split], [this.b.fresh('shuffle_swap')], { perm: [0, 2, 1, 3, 4] }, { name: this.b.fresh('shuffle_swap') });
    const merged = this.b.node('Reshape', [swapped, this.b.initializer(this.b.fresh('merge_shape'), 'int64', [4], [n, c, h, w])], [this.b.fresh('shuffle_merge')], {}, { name: this.b.fresh('shuffle_merge') });
    return { name: merged, id: x.id, shape: x.shape };
  }

  /** GlobalAveragePool -> Flatten -> Gemm: the logits, the model's output. */
  classifier(x: Activation, classes: number): void {
    const gapId = this.nextId();
    const pooled = this.activation(this.b.node('GlobalAveragePool', [x.name], [this.opOutput(gapId, true)], {}, { name: `gap_${gapId}` }), gapId, [1, x.shape[1]!, 1, 1]);
    const flat = this.b.node('Flatten', [pooled.name], [this.b.fresh('flat')], { axis: 1 }, { name: 'flatten' });
    const depth = x.shape[1]!;
    const limit = Math.sqrt(6 / depth);
    this.pooled = pooled;
    const w = this.weightInitializer(this.head?.weights ?? this.draw(classes * depth, -limit, limit), [classes, depth], 'fc_w');
    const bias = this.biasInitializer(this.head?.bias ?? this.draw(classes, -0.2, 0.2), pooled, w.scales);
    const id = 'logits';
    const y = this.b.node('Gemm', [flat, w.name, bias], [this.mode === 'float' ? 'logits' : 'logits_f'], { transB: 1 }, { name: 'fc' });
    if (this.mode === 'float') {
      this.probes.push({ name: y, id, shape: [1, classes] });
      this.b.output('logits', 'float', [1, classes]);
    } else {
      const q = this.quantOf(id);
      this.b.quantize(y, q.scale, q.zeroPoint, 'int8', { output: 'logits', name: 'logits_quantize' });
      this.b.output('logits', 'int8', [1, classes]);
    }
  }

  /** The model, with every probe as an extra output in float mode (for calibration) when asked. */
  build(withProbes = false): Uint8Array {
    if (withProbes) for (const p of this.probes) if (p.name !== 'logits') this.b.output(p.name, 'float', p.shape);
    return this.b.build();
  }

  private nextId(): string {
    return `a${this.activations++}`;
  }

  /** Name of an op's float output: the activation itself in float mode, the tensor QuantizeLinear reads in QDQ mode. */
  private opOutput(id: string, last: boolean): string {
    const base = this.mode === 'float' ? id : `${id}_f`;
    return last ? base : this.b.fresh(`${base}_pre`);
  }

  private activation(floatName: string, id: string, shape: number[]): Activation {
    this.activationList.push({ name: floatName, id, shape });
    if (this.mode === 'float') {
      const a = { name: floatName, id, shape };
      this.probes.push(a);
      return a;
    }
    const q = this.quantOf(id);
    return { name: this.b.dequantize(this.b.quantize(floatName, q.scale, q.zeroPoint, 'int8', { name: `q_${id}`, output: `${id}_q` }), q.scale, q.zeroPoint, 'int8', { output: id }), id, shape };
  }

  quantOf(id: string): Quant {
    const q = this.quants.get(id);
    if (!q) throw new Error(`no calibration for activation '${id}'`);
    return q;
  }

  private draw(count: number, lo: number, hi: number): number[] {
    return seededFloats(count, lo, hi, this.weightSeed++);
  }

  /** Float weights, or per-output-channel symmetric int8 (axis 0) behind DequantizeLinear. */
  private weightInitializer(values: number[], dims: number[], prefix: string): { name: string; scales: number[] } {
    const channels = dims[0]!;
    const per = values.length / channels;
    if (this.mode === 'float') return { name: this.b.initializer(this.b.fresh(prefix), 'float', dims, values), scales: [] };
    const scales = Array.from({ length: channels }, (_, c) => {
      const max = Math.max(...values.slice(c * per, (c + 1) * per).map(Math.abs));
      return Math.fround(max > 0 ? max / 127 : 1 / 127);
    });
    const q = values.map((v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[Math.floor(i / per)]!))));
    return { name: this.b.quantizedInitializer(this.b.fresh(`${prefix}_q`), 'int8', dims, q, scales, scales.map(() => 0), 0), scales };
  }

  /** Float bias, or int32 at S_in * S_w[c]. */
  private biasInitializer(values: number[], input: Activation, weightScales: number[]): string {
    if (this.mode === 'float') return this.b.initializer(this.b.fresh('bias'), 'float', [values.length], values);
    const inputScale = this.quantOf(input.id).scale;
    const scales = weightScales.map((s) => Math.fround(inputScale * s));
    return this.b.quantizedInitializer(this.b.fresh('bias_q'), 'int32', [values.length], values.map((v, c) => Math.round(v / scales[c]!)), scales, scales.map(() => 0), 0);
  }
}

function x0(xs: Activation[]): Activation {
  return xs[0]!;
}

function samePads(kh: number, kw: number, dh: number, dw: number): [number, number, number, number] {
  const ph = (dh * (kh - 1)) / 2;
  const pw = (dw * (kw - 1)) / 2;
  return [Math.floor(ph), Math.floor(pw), Math.ceil(ph), Math.ceil(pw)];
}

// ---------------------------------------------------------------------------------------------------------------
// Building a model: float network -> calibration in onnxruntime -> QDQ network

export type Body = (net: Net, x: Activation) => Activation;

export interface ModelSpec {
  name: string;
  inputShape: number[];
  body: Body;
  seed: number;
}

/**
 * The inputs: a classification task, so that the float model is a classifier whose decisions mean something. Sample
 * `seed` belongs to a seeded random class; it is that class's prototype — a level per channel plus a smooth spatial
 * wave (what a convolution body turns into different pooled features) — with a per-sample jitter of the levels and
 * pixel noise, clamped to [-INPUT_RANGE, INPUT_RANGE]. Prototypes depend only on the input shape, not on the model.
 */
export function randomSample(shape: readonly number[], seed: number): { input: Float32Array; label: number } {
  const [, channels, height, width] = shape as [number, number, number, number];
  const label = Math.floor(seededFloats(2, 0, CLASSES, mixed(400_009 + seed))[1]!);
  const prototype = classPrototype(shape, label);
  const jitter = seededFloats(channels, -0.05, 0.05, mixed(200_003 + seed));
  const noise = seededFloats(channels * height * width, -0.15, 0.15, mixed(100_003 + seed));
  const input = Float32Array.from(noise, (v, i) => {
    const value = prototype[i]! + jitter[Math.floor(i / (height * width))]! + v;
    return Math.fround(Math.max(-INPUT_RANGE, Math.min(INPUT_RANGE, value)));
  });
  return { input, label };
}

/** A seed scattered over 32 bits (the LCG's first outputs for neighbouring seeds are far from independent). */
function mixed(seed: number): number {
  return Math.imul(seed, 2654435761) >>> 0;
}

/** One sample's input (see randomSample). */
export function randomInput(shape: readonly number[], seed: number): Float32Array {
  return randomSample(shape, seed).input;
}

/**
 * The classes' channel levels for a channel count: CLASSES vectors spread apart (greedy farthest point among seeded
 * candidates in [-0.9, 0.9]^channels). Levels drawn independently per class put two classes of a 3-channel input
 * within 0.2 of each other now and then, and the float model then sits at near ties between them on many inputs.
 */
const spreadCache = new Map<number, number[][]>();
function spreadLevels(channels: number): number[][] {
  const cached = spreadCache.get(channels);
  if (cached) return cached;
  const pool = Array.from({ length: 400 }, (_, i) => seededFloats(channels, -0.9, 0.9, mixed(700_001 + 31 * i + channels)));
  const chosen = [pool[0]!];
  const dist = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + (v - b[i]!) ** 2, 0);
  while (chosen.length < CLASSES) {
    let best = pool[0]!, bestDistance = -1;
    for (const c of pool) {
      const d = Math.min(...chosen.map((x) => dist(x, c)));
      if (d > bestDistance) [best, bestDistance] = [c, d];
    }
    chosen.push(best);
  }
  spreadCache.set(channels, chosen);
  return chosen;
}

function classPrototype(shape: readonly number[], label: number): Float32Array {
  const [, channels, height, width] = shape as [number, number, number, number];
  const seed = mixed(500_029 + 97 * label + channels * height);
  const levels = spreadLevels(channels)[label]!;
  const [fy, fx, phase] = seededFloats(3, 0, 1, seed + 1);
  const amplitudes = seededFloats(channels, -0.5, 0.5, seed + 2);
  const prototype = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const wave = Math.cos(2 * Math.PI * (Math.round(1 + 2 * fy!) * (y / height) + Math.round(1 + 2 * fx!) * (x / width) + phase!));
        prototype[(c * height + y) * width + x] = levels[c]! + amplitudes[c]! * wave;
      }
    }
  }
  return prototype;
}

/** Calibration samples: seeds apart from every test input's. */
const CALIBRATION_SAMPLES = 200;
const CALIBRATION_SEED = 10_000;

/**
 * The model as a user would have it: the float network is the body (seeded random weights) and a linear classifier
 * head from labelled calibration samples (centroidHead), then post-training quantization: every activation's
 * range is its min/max over the calibration samples in onnxruntime (the logits' range too, so they use the int8
 * range). The calibration samples are seeds no test input uses.
 */
export async function buildModel(spec: ModelSpec): Promise<TechniqueModel> {
  const floatNet = (quants?: Map<string, Quant>, head?: Head) => {
    const net = new Net(quants ? 'qdq' : 'float', spec.name, spec.seed, quants, head);
    net.classifier(spec.body(net, net.input(spec.inputShape)), CLASSES);
    return net;
  };
  const samples = Array.from({ length: CALIBRATION_SAMPLES }, (_, s) => randomSample(spec.inputShape, CALIBRATION_SEED + s));
  const labels = samples.map((s) => s.label);
  const headless = floatNet();
  const features = (await calibrate(headless.build(true), headless, spec.inputShape, samples)).pooled;
  const head = centroidHead(features, labels);
  const float = floatNet(undefined, head);
  const { ranges } = await calibrate(float.build(true), float, spec.inputShape, samples);
  const qdq = floatNet(quantsFromRanges(ranges, float.ties), head);
  return {
    name: spec.name,
    qdq: qdq.build(),
    float: floatNet(undefined, head).build(),
    inputShape: spec.inputShape,
    classes: CLASSES,
    activations: qdq.activationList.map(({ id, shape }) => ({ id, shape })),
    pooled: qdq.pooled!.id,
  };
}

/**
 * The classifier head: nearest class centroid of the pooled features, as a linear layer. With d_k the mean feature
 * vector of class k minus the mean of all (float model, labelled calibration samples), the logits are
 * d_k . (f - mean) - |d_k|^2 / 2 (the largest for the nearest centroid). Why this head and not a least-squares fit:
 * the int8 model's logits must be within 1 LSB of onnxruntime's end to end, and the two round a pooled feature
 * differently now and then (1 LSB on a few of them); a logit moves by |w_kc| S_w S_pool / S_logit per LSB of feature c,
 * so that sum must stay under 1 LSB. A fitted head separates classes with large weights on a few features (measured:
 * 3-9 logit LSB per feature LSB); the centroid head spreads its weights over every feature the classes differ in
 * (measured: at most 0.86 logit LSB per feature LSB on one feature, 2-5 summed over all), and its margins come
 * from the whole distance between class centroids, so they stay many LSB while one feature's LSB moves a logit by a
 * fraction of one.
 */
function centroidHead(features: number[][], labels: number[]): Head {
  const n = features.length;
  const depth = features[0]!.length;
  const mean = new Array<number>(depth).fill(0);
  for (const f of features) f.forEach((v, i) => (mean[i]! += v / n));
  const rows = Array.from({ length: CLASSES }, (_, k) => {
    const members = features.filter((_, s) => labels[s] === k);
    return mean.map((m, i) => members.reduce((sum, f) => sum + f[i]!, 0) / Math.max(members.length, 1) - m);
  });
  return { weights: rows.flat(), bias: rows.map((d) => -dot(d, mean) - dot(d, d) / 2) };
}

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, v, i) => sum + v * b[i]!, 0);
}

/** Min/max of every probe over the calibration samples (the input's range is the known input range), and the pooled features. */
async function calibrate(model: Uint8Array, net: Net, inputShape: number[], samples: { input: Float32Array }[]): Promise<{ ranges: Map<string, Range>; pooled: number[][] }> {
  const session = await ort.InferenceSession.create(model);
  const ranges = new Map<string, Range>([['input', { min: -INPUT_RANGE, max: INPUT_RANGE }]]);
  const pooled: number[][] = [];
  for (const { input } of samples) {
    const results = await session.run({ input: new ort.Tensor('float32', input, inputShape) });
    pooled.push(Array.from(results[net.pooled!.name]!.data as Float32Array));
    for (const probe of net.probes) {
      const data = results[probe.name]!.data as Float32Array;
      const range = ranges.get(probe.id) ?? { min: 0, max: 0 };
      for (const v of data) {
        if (v < range.min) range.min = v;
        if (v > range.max) range.max = v;
      }
      ranges.set(probe.id, range);
    }
  }
  await session.release();
  return { ranges, pooled };
}

/** Asymmetric int8 parameters per activation; tied activations share the union of their ranges. */
function quantsFromRanges(ranges: Map<string, Range>, ties: readonly [string, string][]): Map<string, Quant> {
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    const p = parent.get(id) ?? id;
    if (p === id) return id;
    const root = find(p);
    parent.set(id, root);
    return root;
  };
  for (const [a, b] of ties) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  }
  const unions = new Map<string, Range>();
  for (const [id, range] of ranges) {
    const root = find(id);
    const u = unions.get(root) ?? { min: 0, max: 0 };
    unions.set(root, { min: Math.min(u.min, range.min), max: Math.max(u.max, range.max) });
  }
  const quants = new Map<string, Quant>();
  for (const id of ranges.keys()) {
    const { min, max } = unions.get(find(id))!;
    const scale = Math.fround(Math.max(max - min, 1e-6) / 255);
    const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - min / scale)));
    quants.set(id, { scale, zeroPoint });
  }
  return quants;
}

// ---------------------------------------------------------------------------------------------------------------
// The techniques

/** Grouped convolutions with 2, 4 and 8 groups (8 = depthwise-like grouping of 16 channels into pairs). */
const grouped: Body = (net, x) => {
  let y = net.conv(x, { out: 16, kernel: [3, 3], relu: true });
  y = net.conv(y, { out: 16, kernel: [3, 3], groups: 2, relu: true });
  y = net.conv(y, { out: 32, kernel: [1, 1], groups: 4, relu: true });
  return net.conv(y, { out: 32, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], groups: 8, relu: true });
};

/** MobileNet v1 blocks: depthwise 3x3 -> pointwise 1x1, once with stride 2. */
const depthwiseSeparable: Body = (net, x) => {
  let y = net.conv(x, { out: 16, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], relu: true });
  y = net.conv(y, { out: 16, kernel: [3, 3], groups: 16, relu: true });
  y = net.conv(y, { out: 32, relu: true });
  y = net.conv(y, { out: 32, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], groups: 32, relu: true });
  return net.conv(y, { out: 32, relu: true });
};

/**
 * ShuffleNet v2's stride-2 unit (two branches concatenated, then the channel shuffle), followed by a pointwise
 * convolution that reads the shuffled channels. `wideBranchFirst`: the node order computes the branch with the wide
 * full-resolution 1x1 first (a memory-aware schedule); otherwise the order of the reference implementation's
 * `cat((branch1(x), branch2(x)))`, the depthwise branch first.
 */
function shuffleUnit(wideBranchFirst: boolean): Body {
  return (net, x) => {
    const stem = net.conv(x, { out: 16, kernel: [3, 3], relu: true });
    const branch1 = () => net.conv(net.conv(stem, { out: 16, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], groups: 16 }), { out: 16, relu: true });
    const branch2 = () =>
      net.conv(net.conv(net.conv(stem, { out: 16, relu: true }), { out: 16, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], groups: 16 }), { out: 16, relu: true });
    let left: Activation, right: Activation;
    if (wideBranchFirst) {
      right = branch2();
      left = branch1();
    } else {
      left = branch1();
      right = branch2();
    }
    const shuffled = net.shuffle(net.concat([left, right]), 2);
    return net.conv(shuffled, { out: 32, relu: true });
  };
}

/**
 * ShuffleNet v1 (3 groups): a stride-1 unit — 1x1 grouped conv + ReLU -> channel shuffle -> 3x3 depthwise -> 1x1
 * grouped conv, residual Add, ReLU — then a stride-2 unit whose 3x3 depthwise has stride 2 and whose shortcut is a
 * 3x3/2 average pool, concatenated with the branch. The unit's final ReLU (after Add, after Concat) is the paper's;
 * after the Concat it is applied to the branch alone, the same values (the pooled shortcut of a ReLU output is
 * already non-negative), which lets the branch write its slice of the concatenation. `shuffle: false` is the same
 * network without the two shuffles: the baseline of "the shuffle costs nothing".
 */
function shuffleNetV1(shuffle: boolean): Body {
  const groups = 3;
  return (net, x) => {
    const stem = net.conv(x, { out: 24, kernel: [3, 3], relu: true });
    const branch = (input: Activation, out: number, stride: number, relu: boolean) => {
      const squeezed = net.conv(input, { out: 12, groups, relu: true });
      const mixed = shuffle ? net.shuffle(squeezed, groups) : squeezed;
      const spatial = net.conv(mixed, { out: 12, kernel: [3, 3], stride, pads: [1, 1, 1, 1], groups: 12 });
      return net.conv(spatial, { out, groups, relu });
    };
    const unit1 = net.add(branch(stem, 24, 1, false), stem, true);
    return net.concat([net.avgPool(unit1, 3, 2, 1), branch(unit1, 24, 2, true)]);
  };
}

/** ERFNet's non-bottleneck-1D: 3x1 -> 1x3 -> 3x1 (dilated) -> 1x3 (dilated), residual Add, ReLU. */
const factorized: Body = (net, x) => {
  const stem = net.conv(x, { out: 16, kernel: [3, 3], relu: true });
  let y = net.conv(stem, { out: 16, kernel: [3, 1], relu: true });
  y = net.conv(y, { out: 16, kernel: [1, 3], relu: true });
  y = net.conv(y, { out: 16, kernel: [3, 1], dilation: [2, 1], relu: true });
  y = net.conv(y, { out: 16, kernel: [1, 3], dilation: [1, 2] });
  return net.add(y, stem, true);
};

/**
 * 1x1 bottlenecks with residual Adds: ResNet's identity bottleneck, ResNet's projection shortcut (strided 1x1), and
 * ENet's downsampling bottleneck (MaxPool shortcut widened with zero channels).
 */
const bottleneck: Body = (net, x) => {
  const stem = net.conv(x, { out: 16, kernel: [3, 3], relu: true });
  // ResNet identity bottleneck 16 -> 4 -> 4 -> 16.
  let y = net.conv(stem, { out: 4, relu: true });
  y = net.conv(y, { out: 4, kernel: [3, 3], relu: true });
  y = net.conv(y, { out: 16 });
  const identity = net.add(y, stem, true);
  // ENet downsampling: main 2x2/2 -> 3x3 -> 1x1 to 24 channels; shortcut MaxPool 2x2/2 + 8 zero channels.
  let main = net.conv(identity, { out: 6, kernel: [2, 2], stride: 2, relu: true });
  main = net.conv(main, { out: 6, kernel: [3, 3], relu: true });
  main = net.conv(main, { out: 24 });
  const shortcut = net.padChannels(net.maxPool(identity, 2, 2), 8);
  const enet = net.add(main, shortcut, true);
  // ResNet projection: main 1x1/2 -> 3x3 -> 1x1 to 32; shortcut 1x1/2 to 32.
  let proj = net.conv(enet, { out: 8, stride: 2, relu: true });
  proj = net.conv(proj, { out: 8, kernel: [3, 3], relu: true });
  proj = net.conv(proj, { out: 32 });
  return net.add(proj, net.conv(enet, { out: 32, stride: 2 }), true);
};

/** C.ReLU: Concat(x, -x) -> per-channel scale -> ReLU, then a convolution reading the doubled channels. */
const crelu: Body = (net, x) => {
  const stem = net.conv(x, { out: 8, kernel: [3, 3] });
  const doubled = net.concat([stem, net.neg(stem)]);
  const scales = Array.from({ length: 16 }, (_, c) => 0.5 + (c % 5) * 0.25);
  const activated = net.channelScale(doubled, scales, true);
  return net.conv(activated, { out: 16, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], relu: true });
};

/** SqueezeNet fire modules: squeeze 1x1 -> expand 1x1 and expand 3x3 -> Concat (twice, the second after a MaxPool). */
const fire: Body = (net, x) => {
  const fireModule = (input: Activation, squeeze: number, expand: number): Activation => {
    const s = net.conv(input, { out: squeeze, relu: true });
    return net.concat([net.conv(s, { out: expand, relu: true }), net.conv(s, { out: expand, kernel: [3, 3], relu: true })]);
  };
  const stem = net.conv(x, { out: 16, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], relu: true });
  // Squeeze 6, not 4: four random ReLU channels carry about one dimension of the input's class (measured: the class
  // centroids of the pooled features on a line, singular values 6.7 vs 0.4), so a linear head cannot separate ten.
  const f1 = fireModule(stem, 6, 16);
  return fireModule(net.maxPool(f1, 2, 2), 8, 16);
};

/** MobileNet-like pointwise layers with half of their output channels pruned to zero (weights and bias). */
const prunedBody: Body = (net, x) => {
  const half = (channels: number) => Array.from({ length: channels / 2 }, (_, i) => 2 * i + 1);
  let y = net.conv(x, { out: 8, kernel: [3, 3], relu: true });
  y = net.conv(y, { out: 64, relu: true, prunedChannels: half(64) });
  y = net.conv(y, { out: 64, kernel: [3, 3], groups: 64, relu: true });
  y = net.conv(y, { out: 64, relu: true, prunedChannels: half(64) });
  y = net.conv(y, { out: 64, kernel: [3, 3], groups: 64, relu: true });
  return net.conv(y, { out: 32, relu: true });
};

/** Convolutions with 80 % of their weights zero (magnitude-free random unstructured pruning). */
const sparseBody: Body = (net, x) => {
  const sparsity = 0.8;
  let y = net.conv(x, { out: 16, kernel: [3, 3], relu: true });
  y = net.conv(y, { out: 32, kernel: [3, 3], relu: true, sparsity });
  y = net.conv(y, { out: 32, relu: true, sparsity });
  return net.conv(y, { out: 48, kernel: [3, 3], stride: 2, pads: [1, 1, 1, 1], relu: true, sparsity });
};

export const MODEL_SPECS = {
  grouped: { name: 'grouped_conv', inputShape: [1, 4, 12, 12], body: grouped, seed: 1 },
  depthwiseSeparable: { name: 'depthwise_separable', inputShape: [1, 3, 16, 16], body: depthwiseSeparable, seed: 2 },
  shuffle: { name: 'shuffle_unit', inputShape: [1, 4, 12, 12], body: shuffleUnit(true), seed: 3 },
  shuffleExportOrder: { name: 'shuffle_unit_export_order', inputShape: [1, 4, 12, 12], body: shuffleUnit(false), seed: 3 },
  shuffleNetV1: { name: 'shufflenet_v1', inputShape: [1, 4, 10, 10], body: shuffleNetV1(true), seed: 10 },
  shuffleNetV1Unshuffled: { name: 'shufflenet_v1_unshuffled', inputShape: [1, 4, 10, 10], body: shuffleNetV1(false), seed: 10 },
  factorized: { name: 'factorized_1d', inputShape: [1, 4, 12, 12], body: factorized, seed: 4 },
  bottleneck: { name: 'bottleneck', inputShape: [1, 4, 14, 14], body: bottleneck, seed: 5 },
  crelu: { name: 'crelu', inputShape: [1, 3, 12, 12], body: crelu, seed: 6 },
  fire: { name: 'fire_module', inputShape: [1, 3, 16, 16], body: fire, seed: 7 },
  pruned: { name: 'pruned_pointwise', inputShape: [1, 4, 10, 10], body: prunedBody, seed: 8 },
  sparse: { name: 'sparse_80', inputShape: [1, 4, 12, 12], body: sparseBody, seed: 9 },
} satisfies Record<string, ModelSpec>;
