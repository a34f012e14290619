/**
 * A read-only view of a decoded ONNX model, shaped for conversion: nodes in topological order with unique names,
 * every constant (initializers, Constant nodes, inputs that have an initializer) in one map, declared types, and who
 * produces / consumes each tensor.
 */
import path from 'node:path';
import { ModelError, NodeError } from '../../errors.js';
import { Attributes } from './attributes.js';
import { int64ToNumber, onnx, OnnxDataType, type GraphProto, type ModelProto, type ValueInfoProto } from './proto.js';
import { decodeTensorProto, TensorDecodeError, type OnnxTensorValue } from './tensor-proto.js';

export interface OnnxNode {
  /** Unique: the model's node name, or a generated one when empty or repeated. */
  name: string;
  opType: string;
  /** '' for the default ONNX domain ('ai.onnx' is normalised to ''). */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Attributes;
}

export interface DeclaredType {
  dataType: number;
  /** undefined when the model gives no shape; a dimension is undefined when symbolic. */
  shape?: (number | undefined)[];
}

export class OnnxModel {
  readonly name: string;
  readonly nodes: OnnxNode[];
  readonly constants = new Map<string, OnnxTensorValue>();
  /** Graph inputs that are not constants, in model order. */
  readonly inputs: { name: string; type: DeclaredType }[] = [];
  readonly outputs: { name: string; type: DeclaredType }[] = [];
  readonly declared = new Map<string, DeclaredType>();
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  private readonly opsets = new Map<string, number>();
  private readonly graphOutputNames = new Set<string>();

  constructor(
    readonly file: string,
    model: ModelProto,
  ) {
    const graph = model.graph as GraphProto;
    // Named after the file, as the TFLite frontend does (code generation derives the C prefix from it); ONNX graph
    // names are mostly exporter boilerplate ('torch_jit', 'main_graph').
    const base = path.basename(file);
    this.name = (base.toLowerCase().endsWith('.onnx') ? base.slice(0, -'.onnx'.length) : base) || graph.name || 'model';
    for (const opset of model.opsetImport ?? []) this.opsets.set(normalizeDomain(opset.domain ?? ''), int64ToNumber(opset.version));

    for (const initializer of graph.initializer ?? []) {
      this.constants.set(initializer.name ?? '', this.decodeConstant(initializer.name ?? '', () => decodeTensorProto(initializer)));
    }
    for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
      if (info.name) this.declared.set(info.name, declaredType(info));
    }
    for (const input of graph.input ?? []) {
      // An input with an initializer of the same name is a constant with a default value (all pre-IR-4 exporters
      // list every weight as an input): for a compiler it is a constant.
      if (!this.constants.has(input.name ?? '')) this.inputs.push({ name: input.name ?? '', type: declaredType(input) });
    }
    for (const output of graph.output ?? []) {
      this.outputs.push({ name: output.name ?? '', type: declaredType(output) });
      this.graphOutputNames.add(output.name ?? '');
    }

    const nodes = this.namedNodes(graph);
    this.nodes = [];
    for (const node of topologicalOrder(nodes, new Set([...this.constants.keys(), ...this.inputs.map((i) => i.name)]), file)) {
      if (node.opType === 'Constant' && node.domain === '') {
        this.constants.set(node.outputs[0] ?? '', constantNodeValue(node));
        continue;
      }
      this.nodes.push(node);
      for (const output of node.outputs) if (output) this.producer.set(output, node);
      for (const input of node.inputs) {
        if (!input) continue;
        const list = this.consumers.get(input) ?? [];
        if (!list.includes(node)) list.push(node);
        this.consumers.set(input, list);
      }
    }
  }

  /** The opset version imported for a domain ('' = default ONNX domain). */
  opset(domain = ''): number {
    return this.opsets.get(domain) ?? 0;
  }

  isGraphOutput(name: string): boolean {
    return this.graphOutputNames.has(name);
  }

  isGraphInput(name: string): boolean {
    return this.inputs.some((input) => input.name === name);
  }

  constant(name: string): OnnxTensorValue | undefined {
    return name ? this.constants.get(name) : undefined;
  }

  consumersOf(name: string): OnnxNode[] {
    return this.consumers.get(name) ?? [];
  }

  private decodeConstant(name: string, decode: () => OnnxTensorValue): OnnxTensorValue {
    try {
      return decode();
    } catch (error) {
      if (error instanceof TensorDecodeError) throw new ModelError(this.file, `initializer '${name}': ${error.message}`);
      throw error;
    }
  }

  private namedNodes(graph: GraphProto): OnnxNode[] {
    const used = new Set<string>();
    const counts = new Map<string, number>();
    const nodes: OnnxNode[] = [];
    for (const proto of graph.node ?? []) {
      const opType = proto.opType ?? '';
      let name = proto.name ?? '';
      if (!name || used.has(name)) {
        const base = name || opType || 'node';
        let n = counts.get(base) ?? 0;
        do name = `${base}_${n++}`;
        while (used.has(name) || (graph.node ?? []).some((other) => other.name === name));
        counts.set(base, n);
      }
      used.add(name);
      nodes.push({
        name,
        opType,
        domain: normalizeDomain(proto.domain ?? ''),
        inputs: [...(proto.input ?? [])],
        outputs: [...(proto.output ?? [])],
        attrs: new Attributes(name, opType, proto.attribute ?? []),
      });
    }
    return nodes;
  }
}

function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

function declaredType(info: ValueInfoProto): DeclaredType {
  const tensorType = info.type?.tensorType;
  if (!tensorType) return { dataType: OnnxDataType.UNDEFINED };
  const dims = tensorType.shape?.dim;
  return {
    dataType: tensorType.elemType ?? OnnxDataType.UNDEFINED,
    shape: tensorType.shape ? (dims ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam ? int64ToNumber(d.dimValue) : undefined)) : undefined,
  };
}

/** Kahn's algorithm, stable: ONNX requires sorted nodes, but not every exporter obliges. */
export function topologicalOrder<T extends { name: string; opType: string; inputs: string[]; outputs: string[] }>(
  nodes: T[],
  available: Iterable<string>,
  file: string,
): T[] {
  const ready = new Set(available);
  ready.add('');
  const pending = [...nodes];
  const ordered: T[] = [];
  while (pending.length > 0) {
    const index = pending.findIndex((node) => node.inputs.every((input) => ready.has(input)));
    if (index < 0) {
      const stuck = pending[0]!;
      const missing = stuck.inputs.find((input) => !ready.has(input));
      throw new ModelError(file, `node '${stuck.name}' (${stuck.opType}) reads '${missing}', which no node, input or initializer provides (or the graph has a cycle)`);
    }
    const [node] = pending.splice(index, 1);
    ordered.push(node!);
    for (const output of node!.outputs) ready.add(output);
  }
  return ordered;
}

function constantNodeValue(node: OnnxNode): OnnxTensorValue {
  const name = node.outputs[0] ?? '';
  const tensor = node.attrs.tensor('value');
  if (tensor) return { ...tensor, name };
  const float = node.attrs.float('value_float');
  if (float !== undefined) return { name, dataType: OnnxDataType.FLOAT, dims: [], data: Float32Array.of(float) };
  const floats = node.attrs.floats('value_floats');
  if (floats) return { name, dataType: OnnxDataType.FLOAT, dims: [floats.length], data: Float32Array.from(floats) };
  const int = node.attrs.int('value_int');
  if (int !== undefined) return { name, dataType: OnnxDataType.INT64, dims: [], data: BigInt64Array.of(BigInt(int)) };
  const ints = node.attrs.ints('value_ints');
  if (ints) return { name, dataType: OnnxDataType.INT64, dims: [ints.length], data: BigInt64Array.from(ints.map(BigInt)) };
  throw new NodeError(node.name, node.opType, 'Constant without a value attribute tinyedge reads (value, value_float(s), value_int(s))');
}

/** Decode the bytes of a .onnx file; anything that is not a readable ModelProto with a graph is a ModelError. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ModelError(file, `is not a readable ONNX model (truncated or corrupt protobuf: ${oneLine((error as Error).message)})`);
  }
  if (!model.graph || (Number(model.irVersion) <= 0 && (model.opsetImport ?? []).length === 0)) {
    throw new ModelError(file, 'is not an ONNX model (no graph, IR version or opset in the protobuf)');
  }
  if ((model.graph.node ?? []).length === 0) throw new ModelError(file, 'is an ONNX model with an empty graph');
  return model;
}

function oneLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
