/**
 * A float ONNX model as the quantizer reads and rewrites it: nodes in topological order with unique names and plain
 * attributes, every constant (initializers, Constant nodes) decoded, the graph's own inputs and outputs. The original
 * ModelProto stays beside it, because the written model keeps its input / output declarations and metadata.
 */
import { ModelError } from '../errors.js';
import { decodeModel, topologicalOrder } from '../frontend/onnx/model.js';
import { int64ToNumber, onnx, OnnxDataType, onnxDataTypeName, type AttributeProto, type ModelProto, type ValueInfoProto } from '../frontend/onnx/proto.js';
import { decodeTensorProto, TensorDecodeError, type OnnxTensorValue } from '../frontend/onnx/tensor-proto.js';

export type AttributeValue =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { string: string }
  | { tensor: OnnxTensorValue }
  /** Graphs, sparse tensors, type protos: no op the quantizer handles has them. */
  | { other: string };

export interface FloatNode {
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  /** Tensor names; an absent optional input is ''. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface GraphValue {
  name: string;
  /** The declaration as the model has it (kept as is in the quantized model). */
  info: ValueInfoProto;
  dataType: number;
  /** undefined: no shape declared; a dimension is undefined when symbolic. */
  shape?: (number | undefined)[];
}

/** Ops that make a model quantized already: tinyedge imports those directly. */
const QUANTIZED_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'ConvInteger', 'MatMulInteger', 'QGemm', 'QAttention']);

/** Before opset 7, Add / Mul / Gemm broadcast only with a `broadcast` attribute; those exporters are long gone. */
const MIN_OPSET = 7;

export class FloatModel {
  readonly name: string;
  readonly opset: number;
  nodes: FloatNode[];
  readonly constants = new Map<string, OnnxTensorValue>();
  /** Graph inputs that are not constants, in model order. */
  readonly inputs: GraphValue[] = [];
  readonly outputs: GraphValue[];
  private readonly names = new Set<string>();

  private constructor(
    readonly file: string,
    readonly proto: ModelProto,
  ) {
    const graph = proto.graph!;
    this.name = graph.name || 'model';
    this.opset = int64ToNumber((proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
    for (const initializer of graph.initializer ?? []) {
      const name = initializer.name ?? '';
      this.constants.set(name, decodeConstant(file, name, () => decodeTensorProto(initializer)));
    }
    for (const info of graph.input ?? []) {
      if (!this.constants.has(info.name ?? '')) this.inputs.push(graphValue(info));
    }
    this.outputs = (graph.output ?? []).map(graphValue);
    const nodes: FloatNode[] = [];
    const nodeNames = new Set<string>();
    for (const proto of graph.node ?? []) {
      const opType = proto.opType ?? '';
      let name = proto.name || opType;
      for (let n = 1; nodeNames.has(name); n++) name = `${proto.name || opType}_${n}`;
      nodeNames.add(name);
      const attributes = new Map((proto.attribute ?? []).map((a) => [a.name ?? '', attributeValue(file, a)] as const));
      const domain = proto.domain === 'ai.onnx' ? '' : (proto.domain ?? '');
      nodes.push({ name, opType, domain, inputs: [...(proto.input ?? [])], outputs: [...(proto.output ?? [])], attributes });
    }
    this.nodes = [];
    for (const node of topologicalOrder(nodes, [...this.constants.keys(), ...this.inputs.map((i) => i.name)], file)) {
      if (node.opType === 'Constant' && node.domain === '') this.constants.set(node.outputs[0]!, constantNodeValue(file, node));
      else this.nodes.push(node);
    }
    for (const name of [...this.constants.keys(), ...this.inputs.map((i) => i.name), ...this.outputs.map((o) => o.name)]) this.names.add(name);
    for (const node of nodes) for (const name of [...node.inputs, ...node.outputs]) this.names.add(name);
  }

  /** Decodes `bytes` and checks that they are a float model the quantizer can start from (ModelError otherwise). */
  static decode(bytes: Uint8Array, file: string): FloatModel {
    const model = new FloatModel(file, decodeModel(bytes, file));
    model.checkFloat();
    return model;
  }

  consumers(tensor: string): FloatNode[] {
    return this.nodes.filter((node) => node.inputs.includes(tensor));
  }

  producer(tensor: string): FloatNode | undefined {
    return this.nodes.find((node) => node.outputs.includes(tensor));
  }

  isGraphOutput(tensor: string): boolean {
    return this.outputs.some((output) => output.name === tensor);
  }

  isGraphInput(tensor: string): boolean {
    return this.inputs.some((input) => input.name === tensor);
  }

  constant(name: string): OnnxTensorValue | undefined {
    return name ? this.constants.get(name) : undefined;
  }

  /** A tensor name not used anywhere in the model, based on `base`. */
  fresh(base: string): string {
    let name = base;
    for (let n = 1; this.names.has(name); n++) name = `${base}_${n}`;
    this.names.add(name);
    return name;
  }

  /** Adds a float32 constant under a fresh name based on `base`. */
  addConstant(base: string, dims: readonly number[], data: OnnxTensorValue['data'], dataType: number = OnnxDataType.FLOAT): string {
    const name = this.fresh(base);
    this.constants.set(name, { name, dataType, dims: [...dims], data });
    return name;
  }

  /** Every reader of `from` reads `to` instead. */
  redirect(from: string, to: string): void {
    for (const node of this.nodes) node.inputs = node.inputs.map((input) => (input === from ? to : input));
  }

  remove(node: FloatNode): void {
    this.nodes = this.nodes.filter((other) => other !== node);
  }

  private checkFloat(): void {
    const fail = (detail: string): never => {
      throw new ModelError(this.file, `is not a float model: ${detail}`);
    };
    const quantized = this.nodes.find((node) => QUANTIZED_OPS.has(node.opType) || node.opType.startsWith('QLinear'));
    if (quantized) fail(`it is already quantized (node '${quantized.name}' is ${quantized.opType}); tinyedge reads quantized models directly`);
    if (this.opset !== 0 && this.opset < MIN_OPSET) {
      throw new ModelError(this.file, `uses ONNX opset ${this.opset}; tinyedge quantize reads float models of opset ${MIN_OPSET} and later`);
    }
    if (this.inputs.length === 0) fail('it has no run-time inputs');
    for (const value of [...this.inputs, ...this.outputs]) {
      const kind = this.isGraphInput(value.name) ? 'input' : 'output';
      if (value.dataType !== OnnxDataType.FLOAT) fail(`${kind} '${value.name}' is ${onnxDataTypeName(value.dataType)}; tinyedge quantize takes float32 inputs and outputs`);
    }
    for (const constant of this.constants.values()) {
      if (constant.dataType === OnnxDataType.FLOAT16 || constant.dataType === OnnxDataType.BFLOAT16 || constant.dataType === OnnxDataType.DOUBLE) {
        fail(`constant '${constant.name}' is ${onnxDataTypeName(constant.dataType)}; tinyedge quantize takes float32 weights`);
      }
    }
  }
}

export function intAttribute(node: FloatNode, name: string, fallback: number): number {
  const value = node.attributes.get(name);
  return value && 'int' in value ? value.int : fallback;
}

export function floatAttribute(node: FloatNode, name: string, fallback: number): number {
  const value = node.attributes.get(name);
  return value && 'float' in value ? value.float : fallback;
}

export function intsAttribute(node: FloatNode, name: string): number[] | undefined {
  const value = node.attributes.get(name);
  return value && 'ints' in value ? value.ints : undefined;
}

export function stringAttribute(node: FloatNode, name: string, fallback: string): string {
  const value = node.attributes.get(name);
  return value && 'string' in value ? value.string : fallback;
}

/** The values of a constant as plain numbers (int64 included: shapes and axes are far below 2^53). */
export function constantNumbers(constant: OnnxTensorValue): number[] {
  return Array.from(constant.data as ArrayLike<number | bigint>, Number);
}

function graphValue(info: ValueInfoProto): GraphValue {
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  const value: GraphValue = { name: info.name ?? '', info, dataType: tensorType?.elemType ?? OnnxDataType.UNDEFINED };
  if (tensorType?.shape) {
    value.shape = (dims ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam ? int64ToNumber(d.dimValue) : undefined));
  }
  return value;
}

function attributeValue(file: string, attribute: AttributeProto): AttributeValue {
  const { AttributeType } = onnx.AttributeProto;
  switch (attribute.type) {
    case AttributeType.INT:
      return { int: int64ToNumber(attribute.i) };
    case AttributeType.INTS:
      return { ints: (attribute.ints ?? []).map(int64ToNumber) };
    case AttributeType.FLOAT:
      return { float: attribute.f ?? 0 };
    case AttributeType.FLOATS:
      return { floats: [...(attribute.floats ?? [])] };
    case AttributeType.STRING:
      return { string: new TextDecoder().decode(attribute.s ?? new Uint8Array()) };
    case AttributeType.TENSOR:
      return { tensor: decodeConstant(file, attribute.name ?? '', () => decodeTensorProto(attribute.t!)) };
    default:
      return untypedAttribute(attribute);
  }
}

/** Old exporters leave `type` unset: the field that is present tells the type. */
function untypedAttribute(attribute: AttributeProto): AttributeValue {
  if ((attribute.ints ?? []).length > 0) return { ints: attribute.ints!.map(int64ToNumber) };
  if ((attribute.floats ?? []).length > 0) return { floats: [...attribute.floats!] };
  if (attribute.s && attribute.s.length > 0) return { string: new TextDecoder().decode(attribute.s) };
  if (attribute.f) return { float: attribute.f };
  if (attribute.i !== null && attribute.i !== undefined && int64ToNumber(attribute.i) !== 0) return { int: int64ToNumber(attribute.i) };
  if (attribute.type) return { other: onnx.AttributeProto.AttributeType[attribute.type] ?? String(attribute.type) };
  return { int: 0 };
}

function decodeConstant(file: string, name: string, decode: () => OnnxTensorValue): OnnxTensorValue {
  try {
    return decode();
  } catch (error) {
    if (error instanceof TensorDecodeError) throw new ModelError(file, `constant '${name}': ${error.message}`);
    throw error;
  }
}

function constantNodeValue(file: string, node: FloatNode): OnnxTensorValue {
  const name = node.outputs[0]!;
  const value = node.attributes.get('value') ?? node.attributes.get('value_float') ?? node.attributes.get('value_floats');
  const ints = node.attributes.get('value_int') ?? node.attributes.get('value_ints');
  if (value && 'tensor' in value) return { ...value.tensor, name };
  if (value && 'float' in value) return { name, dataType: OnnxDataType.FLOAT, dims: [], data: Float32Array.of(value.float) };
  if (value && 'floats' in value) return { name, dataType: OnnxDataType.FLOAT, dims: [value.floats.length], data: Float32Array.from(value.floats) };
  if (ints && 'int' in ints) return { name, dataType: OnnxDataType.INT64, dims: [], data: BigInt64Array.of(BigInt(ints.int)) };
  if (ints && 'ints' in ints) return { name, dataType: OnnxDataType.INT64, dims: [ints.ints.length], data: BigInt64Array.from(ints.ints.map(BigInt)) };
  throw new ModelError(file, `Constant node '${node.name}' has no value tinyedge reads (value, value_float(s), value_int(s))`);
}

