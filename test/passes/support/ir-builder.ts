/**
 * Hand-built IR graphs for the pass tests: tensors get their shapes from src/ir/shapes.ts, weights and biases are
 * seeded pseudo-random (reproducible), and every tensor can be given explicitly where a test needs it.
 */
import { outputShape } from '../../../src/ir/shapes.js';
import type { Clamp, DataType, Graph, GraphIO, Node, Padding2D, Quantization, Tensor, TensorData } from '../../../src/ir/types.js';

export const FULL: Clamp = { min: -128, max: 127 };
export const NO_PADDING: Padding2D = { top: 0, bottom: 0, left: 0, right: 0 };
export const samePadding = (p: number): Padding2D => ({ top: p, bottom: p, left: p, right: p });

export function q(scale: number | number[], zeroPoint: number | number[] = 0, axis = 0): Quantization {
  const scales = (Array.isArray(scale) ? scale : [scale]).map(Math.fround);
  const zeroPoints = Array.isArray(zeroPoint) ? zeroPoint : scales.map(() => zeroPoint);
  return { scale: scales, zeroPoint: zeroPoints, axis };
}

/** A 32-bit LCG: the same numbers on every run. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  int8(count: number, lo = -128, hi = 127): Int8Array {
    return Int8Array.from({ length: count }, () => this.int(lo, hi));
  }
  int32(count: number, lo: number, hi: number): Int32Array {
    return Int32Array.from({ length: count }, () => this.int(lo, hi));
  }
}

export interface WeightedOptions {
  name?: string;
  /** Output quantization (default scale 0.05, zero point -10). */
  quant?: Quantization;
  clamp?: Clamp;
  /** Explicit weights / bias data (default: seeded random int8 in [-127, 127], int32 in [-3000, 3000]). */
  weights?: Int8Array;
  bias?: Int32Array | null;
  /** Per-channel weight scales (default: per channel, 0.002 + 0.0005 * (c % 5)). */
  weightScales?: number[];
}

export interface ConvOptions extends WeightedOptions {
  kernel?: [number, number];
  stride?: [number, number];
  dilation?: [number, number];
  padding?: Padding2D;
  groups?: number;
}

export class IrBuilder {
  readonly tensors = new Map<string, Tensor>();
  readonly nodes: Node[] = [];
  private readonly inputs: GraphIO[] = [];
  private readonly outputs: GraphIO[] = [];
  readonly random: Random;
  private counter = 0;

  constructor(
    readonly name = 'passes_test',
    seed = 1,
  ) {
    this.random = new Random(seed);
  }

  tensor(name: string, shape: number[], dtype: DataType, quant?: Quantization, data?: TensorData): string {
    this.tensors.set(name, { name, shape, dtype, ...(quant ? { quant } : {}), ...(data ? { data } : {}) });
    return name;
  }

  input(name: string, shape: number[], quant: Quantization = q(0.05, -3), dtype: DataType = 'int8'): string {
    this.tensor(name, shape, dtype, dtype === 'float32' ? undefined : quant);
    this.inputs.push({ tensor: name, externalDtype: dtype, name });
    return name;
  }

  output(tensor: string, name = tensor): void {
    this.outputs.push({ tensor, externalDtype: this.tensors.get(tensor)!.dtype, name });
  }

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  quantOf(tensor: string): Quantization {
    return this.tensors.get(tensor)!.quant!;
  }

  shapeOf(tensor: string): number[] {
    return this.tensors.get(tensor)!.shape;
  }

  /** Append `node` (outputs filled in): its output tensor takes the shape shapes.ts derives. */
  add(node: Omit<Node, 'outputs'> & { outputs?: string[] }, output: { quant?: Quantization; dtype?: DataType; name?: string } = {}): string {
    const name = output.name ?? `${node.name}_out`;
    const full = { ...node, outputs: [name] } as Node;
    const shape = outputShape(full, full.inputs.map((input) => (input ? this.tensors.get(input)!.shape : undefined)));
    this.tensor(name, shape, output.dtype ?? 'int8', output.quant);
    this.nodes.push(full);
    return name;
  }

  conv(x: string, outChannels: number, options: ConvOptions = {}): string {
    const name = options.name ?? this.fresh('conv');
    const [kh, kw] = options.kernel ?? [1, 1];
    const groups = options.groups ?? 1;
    const inChannels = this.shapeOf(x)[3]!;
    const shape = [outChannels, kh, kw, inChannels / groups];
    const [w, b] = this.weightedConstants(name, x, shape, 0, outChannels, options);
    return this.add(
      {
        op: 'Conv2D',
        name,
        inputs: b ? [x, w, b] : [x, w],
        attrs: { stride: options.stride ?? [1, 1], dilation: options.dilation ?? [1, 1], padding: options.padding ?? NO_PADDING, groups, clamp: options.clamp ?? FULL },
      },
      { quant: options.quant ?? q(0.05, -10) },
    );
  }

  depthwise(x: string, options: ConvOptions & { multiplier?: number } = {}): string {
    const name = options.name ?? this.fresh('dw');
    const [kh, kw] = options.kernel ?? [3, 3];
    const multiplier = options.multiplier ?? 1;
    const channels = this.shapeOf(x)[3]! * multiplier;
    const [w, b] = this.weightedConstants(name, x, [1, kh, kw, channels], 3, channels, options);
    return this.add(
      {
        op: 'DepthwiseConv2D',
        name,
        inputs: b ? [x, w, b] : [x, w],
        attrs: { stride: options.stride ?? [1, 1], dilation: options.dilation ?? [1, 1], padding: options.padding ?? NO_PADDING, depthMultiplier: multiplier, clamp: options.clamp ?? FULL },
      },
      { quant: options.quant ?? q(0.05, -10) },
    );
  }

  fullyConnected(x: string, outChannels: number, options: WeightedOptions & { depth?: number } = {}): string {
    const name = options.name ?? this.fresh('fc');
    const shape = this.shapeOf(x);
    const depth = options.depth ?? shape.reduce((a, b) => a * b, 1);
    const [w, b] = this.weightedConstants(name, x, [outChannels, depth], 0, outChannels, options);
    return this.add(
      { op: 'FullyConnected', name, inputs: b ? [x, w, b] : [x, w], attrs: { clamp: options.clamp ?? FULL, keepNumDims: false } },
      { quant: options.quant ?? q(0.05, -10) },
    );
  }

  private weightedConstants(name: string, x: string, shape: number[], axis: number, channels: number, options: WeightedOptions): [string, string | null] {
    const count = shape.reduce((a, b) => a * b, 1);
    const scales = options.weightScales ?? Array.from({ length: channels }, (_, c) => 0.002 + 0.0005 * (c % 5));
    const w = this.tensor(`${name}_w`, shape, 'int8', q(scales, 0, axis), options.weights ?? this.random.int8(count, -127, 127));
    if (options.bias === null) return [w, null];
    const inputScale = this.quantOf(x).scale[0]!;
    const biasData = options.bias ?? this.random.int32(channels, -3000, 3000);
    const b = this.tensor(`${name}_b`, [channels], 'int32', q(scales.map((s) => inputScale * s), 0), biasData);
    return [w, b];
  }

  unary(op: 'Relu' | 'Relu6' | 'Neg' | 'Logistic' | 'Tanh' | 'HardSwish', x: string, quant: Quantization = this.quantOf(x), name = this.fresh(op.toLowerCase())): string {
    return this.add({ op, name, inputs: [x], attrs: {} }, { quant });
  }

  quantize(x: string, quant: Quantization, clamp: Clamp = FULL, name = this.fresh('quantize')): string {
    return this.add({ op: 'Quantize', name, inputs: [x], attrs: { clamp, rounding: 'half-away' } }, { quant });
  }

  reshape(x: string, shape: number[], name = this.fresh('reshape')): string {
    return this.add({ op: 'Reshape', name, inputs: [x], attrs: { shape } }, { quant: this.quantOf(x) });
  }

  transpose(x: string, perm: number[], name = this.fresh('transpose')): string {
    return this.add({ op: 'Transpose', name, inputs: [x], attrs: { perm } }, { quant: this.quantOf(x) });
  }

  pad(x: string, before: number[], after: number[], value = this.quantOf(x).zeroPoint[0]!, name = this.fresh('pad')): string {
    return this.add({ op: 'Pad', name, inputs: [x], attrs: { before, after, value } }, { quant: this.quantOf(x) });
  }

  pool(op: 'AveragePool2D' | 'MaxPool2D', x: string, filter: [number, number], options: { stride?: [number, number]; padding?: Padding2D; clamp?: Clamp; name?: string } = {}): string {
    const name = options.name ?? this.fresh(op === 'MaxPool2D' ? 'maxpool' : 'avgpool');
    return this.add(
      { op, name, inputs: [x], attrs: { filter, stride: options.stride ?? filter, padding: options.padding ?? NO_PADDING, clamp: options.clamp ?? FULL } },
      { quant: this.quantOf(x) },
    );
  }

  binary(op: 'Add' | 'Sub' | 'Mul', a: string, b: string, quant: Quantization = q(0.08, 2), clamp: Clamp = FULL, name = this.fresh(op.toLowerCase())): string {
    return this.add({ op, name, inputs: [a, b], attrs: { clamp } }, { quant });
  }

  concat(inputs: string[], axis: number, quant: Quantization = this.quantOf(inputs[0]!), name = this.fresh('concat')): string {
    return this.add({ op: 'Concat', name, inputs, attrs: { axis } }, { quant });
  }

  mean(x: string, axes: number[], keepDims = true, name = this.fresh('mean')): string {
    return this.add({ op: 'Mean', name, inputs: [x], attrs: { axes, keepDims } }, { quant: this.quantOf(x) });
  }

  softmax(x: string, name = this.fresh('softmax')): string {
    return this.add({ op: 'Softmax', name, inputs: [x], attrs: { beta: 1 } }, { quant: q(1 / 256, -128) });
  }

  build(): Graph {
    return { name: this.name, format: 'tflite', tensors: new Map(this.tensors), nodes: [...this.nodes], inputs: [...this.inputs], outputs: [...this.outputs], unsupported: [] };
  }
}
