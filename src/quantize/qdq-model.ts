/**
 * The quantized model, written as standard ONNX QDQ: the float model's own nodes, with
 * - QuantizeLinear -> DequantizeLinear after every planned activation (qdq-plan.ts), int8 per tensor;
 * - int8 weights (symmetric, per output channel unless --per-tensor) and int32 biases as initializers behind a
 *   DequantizeLinear;
 * - the graph inputs and outputs declared exactly as the float model declared them (still float32).
 * onnxruntime runs it as it is; tinyedge's importer folds every DQ -> op -> Q into one integer IR node.
 */
import { NodeError } from '../errors.js';
import { OnnxWriter, type AttributeValue as WriterAttribute } from '../export/onnx-writer.js';
import { int64ToNumber, onnx, OnnxDataType } from '../frontend/onnx/proto.js';
import { elementCount } from '../ir/graph.js';
import { constantNumbers, intAttribute, type FloatModel, type FloatNode } from './float-model.js';
import { inputRoles } from './ops.js';
import { quantizedOpset } from './opset.js';
import type { QdqPlan } from './qdq-plan.js';
import { quantizeConstant, quantizeWeights, type ActivationParams } from './quant-params.js';

export interface QdqOptions {
  /** One weight scale per output channel (default) or one per tensor. */
  perChannel: boolean;
}

export interface QdqSummary {
  opset: number;
  /** Activations with a QuantizeLinear / DequantizeLinear pair. */
  activations: number;
  /** Constant weight tensors quantized to int8 (and biases to int32). */
  weights: number;
  biases: number;
  /** 'Conv+Relu'-style units quantized as one. */
  fused: number;
  /** Float ops of the model (QuantizeLinear / DequantizeLinear not counted), by type. */
  ops: Record<string, number>;
}

/** Minimum IR version that opset 13 needs is 7; 8 is what the writer declares. */
const MIN_IR_VERSION = 8;

export function writeQdqModel(model: FloatModel, plan: QdqPlan, options: QdqOptions): { bytes: Uint8Array; summary: QdqSummary } {
  return new QdqWriter(model, plan, options).write();
}

class QdqWriter {
  private readonly writer = new OnnxWriter();
  /** Activation -> the DequantizeLinear output its readers read. */
  private readonly dequantized = new Map<string, string>();
  /** Constant -> its initializer, for constants kept as they are (shapes, axes, clip bounds). */
  private readonly rawConstants = new Map<string, string>();
  private readonly absorbed: Set<FloatNode>;
  private readonly summary: QdqSummary;

  constructor(
    private readonly model: FloatModel,
    private readonly plan: QdqPlan,
    private readonly options: QdqOptions,
  ) {
    this.absorbed = new Set(plan.fusedActivation.values());
    this.summary = { opset: quantizedOpset(model), activations: 0, weights: 0, biases: 0, fused: plan.fusedActivation.size, ops: {} };
  }

  write(): { bytes: Uint8Array; summary: QdqSummary } {
    // Constants are written under their own names when free; everything else keeps its name.
    for (const name of this.activationNames()) this.writer.reserve(name);
    for (const input of this.model.inputs) this.quantizeActivation(input.name, input.name);
    for (const node of this.model.nodes) this.writeNode(node);
    const placeholder = (name: string) => ({ name, dataType: OnnxDataType.FLOAT, shape: [] });
    const bytes = this.writer.encode(this.model.name, this.model.inputs.map((i) => placeholder(i.name)), this.model.outputs.map((o) => placeholder(o.name)), this.summary.opset, 'tinyedge');
    return { bytes: this.withOriginalDeclarations(bytes), summary: this.summary };
  }

  private activationNames(): Set<string> {
    const names = new Set<string>([...this.model.inputs.map((i) => i.name), ...this.model.outputs.map((o) => o.name)]);
    for (const node of this.model.nodes) for (const name of [...node.inputs, ...node.outputs]) if (name && !this.model.constant(name)) names.add(name);
    return names;
  }

  /**
   * The writer declares inputs and outputs with static shapes only; the quantized model keeps the float model's
   * declarations (symbolic dimensions, names, types), its IR version when newer, and its metadata.
   */
  private withOriginalDeclarations(bytes: Uint8Array): Uint8Array {
    const written = onnx.ModelProto.decode(bytes);
    const original = this.model.proto;
    written.graph!.input = this.model.inputs.map((input) => onnx.ValueInfoProto.create(input.info));
    written.graph!.output = this.model.outputs.map((output) => onnx.ValueInfoProto.create(output.info));
    written.irVersion = Math.max(MIN_IR_VERSION, int64ToNumber(original.irVersion));
    written.producerName = 'tinyedge';
    written.docString = original.docString ?? '';
    written.metadataProps = original.metadataProps ?? [];
    written.graph!.docString = original.graph?.docString ?? '';
    return onnx.ModelProto.encode(written).finish();
  }

  private writeNode(node: FloatNode): void {
    const roles = inputRoles(this.model, node);
    const inputs = node.inputs.map((name, i) => {
      if (!name) return '';
      switch (roles[i] ?? 'parameter') {
        case 'data':
          return this.dataInput(node, name);
        case 'parameter':
          return this.rawConstant(name);
        default:
          return name; // weights and bias: below
      }
    });
    if (roles[1] === 'weights') {
      const [weights, bias] = this.weightsAndBias(node);
      inputs[1] = weights;
      if (bias) inputs[2] = bias;
    }
    const outputs = node.outputs.map((name) => (name && this.plan.params.has(name) && this.model.isGraphOutput(name) ? this.writer.fresh(`${name}_float`) : name));
    this.writer.node(node.opType, node.name, inputs, outputs, writerAttributes(node));
    this.summary.ops[node.opType] = (this.summary.ops[node.opType] ?? 0) + 1;
    node.outputs.forEach((name, i) => {
      if (name && this.plan.params.has(name)) this.quantizeActivation(outputs[i]!, name);
    });
  }

  /** QuantizeLinear -> DequantizeLinear after `floatName`, which holds activation `tensor`. */
  private quantizeActivation(floatName: string, tensor: string): void {
    const params = this.plan.params.get(tensor)!;
    const [scale, zeroPoint] = this.activationParams(tensor, params);
    const quantized = this.writer.fresh(`${tensor}_quantized`);
    const dequantized = this.model.isGraphOutput(tensor) ? tensor : this.writer.fresh(`${tensor}_dequantized`);
    this.writer.node('QuantizeLinear', `${tensor}_QuantizeLinear`, [floatName, scale, zeroPoint], [quantized]);
    this.writer.node('DequantizeLinear', `${tensor}_DequantizeLinear`, [quantized, scale, zeroPoint], [dequantized]);
    this.dequantized.set(tensor, dequantized);
    this.summary.activations++;
  }

  private activationParams(base: string, params: ActivationParams): [string, string] {
    return [
      this.writer.floatScalar(`${base}_scale`, params.scale),
      this.writer.sharedInitializer(`${base}_zero_point`, OnnxDataType.INT8, [], Int8Array.of(params.zeroPoint)),
    ];
  }

  /**
   * An activation as its reader sees it: the DequantizeLinear output; a constant used as data: int8 per tensor
   * behind its own DequantizeLinear; the raw output of an op whose Relu / Clip is fused after it.
   */
  private dataInput(node: FloatNode, name: string): string {
    const dequantized = this.dequantized.get(name);
    if (dequantized) return dequantized;
    const constant = this.model.constant(name);
    if (!constant) {
      if (this.absorbed.has(node)) return name;
      throw new Error(`internal: '${name}' read by '${node.name}' has no quantization`);
    }
    if (constant.dataType !== OnnxDataType.FLOAT) throw new NodeError(node.name, node.opType, `reads the ${constant.dataType === OnnxDataType.INT64 ? 'int64' : 'non-float'} constant '${name}' as data`);
    const { data, params } = quantizeConstant(constant.data as Float32Array);
    const integers = this.writer.initializer(`${name}_quantized`, OnnxDataType.INT8, constant.dims, data);
    const [scale, zeroPoint] = this.activationParams(name, params);
    const output = this.writer.fresh(`${name}_dequantized`);
    this.writer.node('DequantizeLinear', `${name}_DequantizeLinear`, [integers, scale, zeroPoint], [output]);
    this.dequantized.set(name, output);
    return output;
  }

  private rawConstant(name: string): string {
    const constant = this.model.constant(name);
    if (!constant) return name;
    let written = this.rawConstants.get(name);
    if (!written) {
      written = this.writer.initializer(name, constant.dataType, constant.dims, constant.data as Float32Array);
      this.rawConstants.set(name, written);
    }
    return written;
  }

  /** int8 weights and int32 bias behind DequantizeLinear, along the op's output channel axis. */
  private weightsAndBias(node: FloatNode): [string, string | undefined] {
    const fail = (detail: string): never => {
      throw new NodeError(node.name, node.opType, detail);
    };
    const weights = this.model.constant(node.inputs[1]!)!;
    if (weights.dataType !== OnnxDataType.FLOAT) fail(`weights '${weights.name}' are not float32`);
    const channelAxis = outputChannelAxis(node, weights.dims.length);
    const axis = this.options.perChannel ? channelAxis : undefined;
    const channels = channelAxis === undefined ? 1 : weights.dims[channelAxis]!;

    let bias: { values: Float32Array; inputScale: number } | undefined;
    const biasName = node.inputs[2];
    if (biasName) {
      const constant = this.model.constant(biasName);
      if (!constant || constant.dataType !== OnnxDataType.FLOAT) return fail(`bias '${biasName}' is not a float32 constant`);
      const size = elementCount(constant.dims);
      if (size !== channels && size !== 1) fail(`bias of shape [${constant.dims.join(', ')}] is not one value per output channel (${channels})`);
      const values = size === channels ? Float32Array.from(constant.data as Float32Array) : new Float32Array(channels).fill((constant.data as Float32Array)[0]!);
      bias = { values, inputScale: this.inputScale(node) };
    }

    const quantized = quantizeWeights(weights.data as Float32Array, weights.dims, axis, bias);
    const base = node.inputs[1]!;
    const integers = this.writer.initializer(`${base}_quantized`, OnnxDataType.INT8, weights.dims, quantized.weights.data);
    const weightsOut = this.dequantizeConstant(node, base, integers, quantized.weights.scales, OnnxDataType.INT8, axis);
    this.summary.weights++;
    if (!bias || !quantized.bias) return [weightsOut, undefined];
    const biasIntegers = this.writer.initializer(`${biasName}_quantized`, OnnxDataType.INT32, [channels], quantized.bias.data);
    this.summary.biases++;
    return [weightsOut, this.dequantizeConstant(node, biasName!, biasIntegers, quantized.bias.scales, OnnxDataType.INT32, axis === undefined ? undefined : 0)];
  }

  private dequantizeConstant(node: FloatNode, base: string, integers: string, scales: number[], dataType: number, axis: number | undefined): string {
    const perAxis = axis !== undefined && scales.length > 1;
    const dims = perAxis ? [scales.length] : [];
    const scale = this.writer.initializer(`${base}_scale`, OnnxDataType.FLOAT, dims, perAxis ? Float32Array.from(scales) : Float32Array.of(scales[0]!));
    const zeros = dataType === OnnxDataType.INT32 ? new Int32Array(dims[0] ?? 1) : new Int8Array(dims[0] ?? 1);
    const zeroPoint = this.writer.initializer(`${base}_zero_point`, dataType, dims, zeros);
    const output = this.writer.fresh(`${base}_dequantized`);
    this.writer.node('DequantizeLinear', `${node.name}_${base}_DequantizeLinear`, [integers, scale, zeroPoint], [output], perAxis ? { axis: { int: axis } } : {});
    return output;
  }

  /** The scale of an op's input activation, which its int32 bias is quantized with. */
  private inputScale(node: FloatNode): number {
    const input = node.inputs[0]!;
    const params = this.plan.params.get(input);
    if (params) return params.scale;
    const constant = this.model.constant(input);
    if (constant) return quantizeConstant(Float32Array.from(constantNumbers(constant))).params.scale;
    throw new Error(`internal: input '${input}' of '${node.name}' has no quantization`);
  }
}

/** The axis of the weights that indexes output channels: Conv [Cout, ...], Gemm B [N, K] (transB) or [K, N]. */
function outputChannelAxis(node: FloatNode, rank: number): number | undefined {
  if (node.opType === 'Conv') return 0;
  if (node.opType === 'Gemm') return intAttribute(node, 'transB', 0) !== 0 ? 0 : 1;
  // MatMul: a 2-D [K, N] constant is a fully connected layer; a batched constant is one matrix per batch, per tensor.
  return rank === 2 ? 1 : undefined;
}

function writerAttributes(node: FloatNode): Record<string, WriterAttribute> {
  const out: Record<string, WriterAttribute> = {};
  for (const [name, value] of node.attributes) {
    if ('int' in value || 'ints' in value || 'float' in value || 'string' in value) out[name] = value;
    else throw new NodeError(node.name, node.opType, `attribute '${name}' of this kind cannot be written by tinyedge`);
  }
  return out;
}
