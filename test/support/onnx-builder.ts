/**
 * A small ONNX model builder for tests: inputs, initializers, nodes with typed attributes, outputs -> ModelProto
 * bytes (onnx-proto encode). QDQ helpers add QuantizeLinear / DequantizeLinear with their parameter initializers.
 */
import { onnx, OnnxDataType } from '../../src/frontend/onnx/proto.js';

export type ElementType = 'float' | 'uint8' | 'int8' | 'int32' | 'int64' | 'float16' | 'int16';

const dataTypes: Record<ElementType, number> = {
  float: OnnxDataType.FLOAT,
  uint8: OnnxDataType.UINT8,
  int8: OnnxDataType.INT8,
  int32: OnnxDataType.INT32,
  int64: OnnxDataType.INT64,
  float16: OnnxDataType.FLOAT16,
  int16: OnnxDataType.INT16,
};

/** A float attribute (a plain number is an int attribute). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export class FloatsAttr {
  constructor(readonly values: number[]) {}
}
export const float = (value: number): FloatAttr => new FloatAttr(value);
export const floats = (values: number[]): FloatsAttr => new FloatsAttr(values);

export type AttributeValue = number | number[] | string | FloatAttr | FloatsAttr;

export interface NodeOptions {
  name?: string;
  domain?: string;
}

export class OnnxGraphBuilder {
  private readonly inputs: ReturnType<typeof onnx.ValueInfoProto.create>[] = [];
  private readonly outputs: ReturnType<typeof onnx.ValueInfoProto.create>[] = [];
  private readonly initializers: ReturnType<typeof onnx.TensorProto.create>[] = [];
  private readonly nodes: ReturnType<typeof onnx.NodeProto.create>[] = [];
  private readonly domains = new Set<string>();
  private counter = 0;

  constructor(
    readonly name = 'test_graph',
    private readonly opset = 13,
  ) {}

  input(name: string, type: ElementType, shape: (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElementType, shape: (number | string)[]): string {
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  initializer(name: string, type: ElementType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>): string {
    this.initializers.push(tensor(name, type, dims, values));
    return name;
  }

  /** A unique tensor name with this prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}, options: NodeOptions = {}): string {
    if (options.domain) this.domains.add(options.domain);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: outputs,
        name: options.name ?? '',
        domain: options.domain ?? '',
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return outputs[0]!;
  }

  /** QuantizeLinear(x) with per-tensor or per-axis parameters; returns the quantized tensor's name. */
  quantize(x: string, scale: number | number[], zeroPoint: number | number[], type: 'int8' | 'uint8' = 'int8', options: { axis?: number; output?: string; name?: string } = {}): string {
    const [scaleName, zeroPointName] = this.quantParams(x, scale, zeroPoint, type);
    const output = options.output ?? this.fresh(`${x}_q`);
    return this.node('QuantizeLinear', [x, scaleName, zeroPointName], [output], options.axis !== undefined ? { axis: options.axis } : {}, { name: options.name ?? this.fresh('Quantize') });
  }

  /** DequantizeLinear(q); returns the float tensor's name. */
  dequantize(q: string, scale: number | number[], zeroPoint: number | number[], type: 'int8' | 'uint8' | 'int32' = 'int8', options: { axis?: number; output?: string; name?: string } = {}): string {
    const [scaleName, zeroPointName] = this.quantParams(q, scale, zeroPoint, type);
    const output = options.output ?? this.fresh(`${q}_dq`);
    return this.node('DequantizeLinear', [q, scaleName, zeroPointName], [output], options.axis !== undefined ? { axis: options.axis } : {}, { name: options.name ?? this.fresh('Dequantize') });
  }

  /** An integer initializer behind a DequantizeLinear (QDQ weights / bias); returns the float tensor's name. */
  quantizedInitializer(name: string, type: 'int8' | 'uint8' | 'int32', dims: number[], values: ArrayLike<number>, scale: number | number[], zeroPoint: number | number[], axis?: number): string {
    this.initializer(name, type, dims, values);
    return this.dequantize(name, scale, zeroPoint, type, axis !== undefined ? { axis } : {});
  }

  build(): Uint8Array {
    const opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: this.opset })];
    for (const domain of this.domains) opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version: 1 }));
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'tinyedge-test',
      opsetImport,
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private quantParams(base: string, scale: number | number[], zeroPoint: number | number[], type: 'int8' | 'uint8' | 'int32'): [string, string] {
    const scales = Array.isArray(scale) ? scale : [scale];
    const zeroPoints = Array.isArray(zeroPoint) ? zeroPoint : [zeroPoint];
    const dims = Array.isArray(scale) ? [scales.length] : [];
    const scaleName = this.initializer(this.fresh(`${base}_scale`), 'float', dims, scales);
    const zeroPointName = this.initializer(this.fresh(`${base}_zero_point`), type, dims, zeroPoints);
    return [scaleName, zeroPointName];
  }
}

function valueInfo(name: string, type: ElementType, shape: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: dataTypes[type],
        shape: onnx.TensorShapeProto.create({
          dim: shape.map((d) => (typeof d === 'number' ? onnx.TensorShapeProto.Dimension.create({ dimValue: d }) : onnx.TensorShapeProto.Dimension.create({ dimParam: d }))),
        }),
      }),
    }),
  });
}

export function tensor(name: string, type: ElementType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>) {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`initializer '${name}': ${values.length} values for shape [${dims.join(', ')}]`);
  let data: ArrayBufferView;
  switch (type) {
    case 'float':
      data = Float32Array.from(values as ArrayLike<number>);
      break;
    case 'uint8':
      data = Uint8Array.from(values as ArrayLike<number>);
      break;
    case 'int8':
      data = Int8Array.from(values as ArrayLike<number>);
      break;
    case 'int16':
    case 'float16':
      data = Int16Array.from(values as ArrayLike<number>);
      break;
    case 'int32':
      data = Int32Array.from(values as ArrayLike<number>);
      break;
    case 'int64':
      data = BigInt64Array.from(Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v)));
      break;
  }
  return onnx.TensorProto.create({ name, dataType: dataTypes[type], dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
}

function attribute(name: string, value: AttributeValue) {
  const { AttributeType } = onnx.AttributeProto;
  if (value instanceof FloatAttr) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.value });
  if (value instanceof FloatsAttr) return onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: value.values });
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
}

/** Deterministic pseudo-random integers in [lo, hi] (a linear congruential generator; tests need no real randomness). */
export function seededIntegers(count: number, lo: number, hi: number, seed = 1): number[] {
  let state = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(lo + (state % (hi - lo + 1)));
  }
  return out;
}

/** Deterministic pseudo-random floats in [lo, hi). */
export function seededFloats(count: number, lo: number, hi: number, seed = 1): number[] {
  return seededIntegers(count, 0, 1_000_000, seed).map((v) => Math.fround(lo + ((hi - lo) * v) / 1_000_001));
}
