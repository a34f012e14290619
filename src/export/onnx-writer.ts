/** Building an ONNX ModelProto: unique names, initializers, nodes with typed attributes, encoding with onnx-proto. */
import { onnx, OnnxDataType, type TensorProto } from '../frontend/onnx/proto.js';

export type AttributeValue = { int: number } | { ints: number[] } | { float: number } | { string: string };

export interface ValueInfo {
  name: string;
  dataType: number;
  shape: readonly number[];
}

type TypedArray = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export class OnnxWriter {
  private readonly nodes: ReturnType<typeof onnx.NodeProto.create>[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly cachedInitializers = new Map<string, string>();

  /** Reserve a name exactly (graph inputs and outputs); false if it is taken. */
  reserve(name: string): boolean {
    if (this.names.has(name)) return false;
    this.names.add(name);
    return true;
  }

  /** A unique tensor name based on `base`. */
  fresh(base: string): string {
    let name = base || 'tensor';
    for (let n = 1; this.names.has(name); n++) name = `${base}_${n}`;
    this.names.add(name);
    return name;
  }

  initializer(base: string, dataType: number, dims: readonly number[], data: TypedArray): string {
    const name = this.fresh(base);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push(onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: bytes }));
    return name;
  }

  /** A small initializer shared by every use with the same contents (scales, zero points, shapes). */
  sharedInitializer(base: string, dataType: number, dims: readonly number[], data: TypedArray): string {
    const key = `${dataType}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
    const cached = this.cachedInitializers.get(key);
    if (cached) return cached;
    const name = this.initializer(base, dataType, dims, data);
    this.cachedInitializers.set(key, name);
    return name;
  }

  floatScalar(base: string, value: number): string {
    return this.sharedInitializer(base, OnnxDataType.FLOAT, [], Float32Array.of(value));
  }

  int64s(base: string, values: readonly number[]): string {
    return this.sharedInitializer(base, OnnxDataType.INT64, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** Append a node; `outputs` are used as given (already unique). */
  node(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue> = {}): void {
    let unique = name || opType;
    for (let n = 1; this.nodeNames.has(unique); n++) unique = `${name || opType}_${n}`;
    this.nodeNames.add(unique);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: unique,
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
  }

  encode(graphName: string, inputs: ValueInfo[], outputs: ValueInfo[], opset: number, producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opset })],
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(info: ValueInfo) {
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: info.dataType,
        shape: onnx.TensorShapeProto.create({ dim: info.shape.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
      }),
    }),
  });
}

function attribute(name: string, value: AttributeValue) {
  const { AttributeType } = onnx.AttributeProto;
  if ('int' in value) return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value.int });
  if ('ints' in value) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value.ints });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) });
}
