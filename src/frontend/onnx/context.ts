/**
 * The IR graph under construction and the map from ONNX tensor names to IR tensors. An ONNX tensor may have an IR
 * tensor in each layout (see layout.ts); asking for the missing one inserts the Transpose (or, when the transpose
 * keeps the element order, a Reshape) once.
 */
import { NodeError } from '../../errors.js';
import { outputShapes } from '../../ir/shapes.js';
import type { DataType, Graph, Node, Quantization, Tensor, TensorData } from '../../ir/types.js';
import { irAxis, irShape, isOrderPreserving, onnxShapeOf, permute, TO_NCHW, TO_NHWC, transposeData, type Layout } from './layout.js';
import type { OnnxModel, OnnxNode } from './model.js';
import { OnnxDataType, onnxDataTypeName } from './proto.js';
import { irQuant, sameIrQuant, type OnnxQuant } from './quant-params.js';
import type { OnnxTensorValue } from './tensor-proto.js';
import { Unsupported } from './unsupported.js';

export interface OutputSpec {
  /** The ONNX tensor this output represents (bound in the value table); absent for intermediate tensors. */
  onnx?: string;
  /** Base for the IR name of an intermediate tensor. */
  name?: string;
  layout: Layout;
  dtype: DataType;
  quant?: Quantization;
  /** The ONNX data type the tensor stands for, when it differs from dtype's (uint8 activations are int8 here). */
  onnxDataType?: number;
}

interface Value {
  native: Layout;
  tensors: Partial<Record<Layout, string>>;
  /** The ONNX data type (uint8 activations are int8 in the IR). */
  onnxDataType: number;
}

export class ConversionContext {
  readonly graph: Graph;
  private readonly values = new Map<string, Value>();
  private readonly nodeNames = new Set<string>();
  /** Constants computed during conversion (QuantizeLinear of a float initializer). */
  private readonly derivedConstants = new Map<string, OnnxTensorValue>();
  /** ONNX nodes already converted as part of another node's pattern (a folded QuantizeLinear, a fused Relu). */
  readonly absorbed = new Set<OnnxNode>();
  /**
   * Float tensors that are the dequantized form of an integer tensor without a DequantizeLinear of their own:
   * the float output of a data-movement op (Reshape, MaxPool, ...) applied to a DequantizeLinear output.
   */
  readonly dequantizedViews = new Map<string, { name: string; params: OnnxQuant }>();
  /** ONNX tensors that cannot be computed because an op before them is unsupported. */
  readonly poisoned = new Set<string>();

  constructor(readonly model: OnnxModel) {
    this.graph = { name: model.name, format: 'onnx', tensors: new Map(), nodes: [], inputs: [], outputs: [], unsupported: [] };
  }

  // ---- constants ----

  constant(name: string): OnnxTensorValue | undefined {
    if (!name) return undefined;
    return this.derivedConstants.get(name) ?? this.model.constant(name);
  }

  addDerivedConstant(value: OnnxTensorValue): void {
    this.derivedConstants.set(value.name, value);
  }

  /** An IR constant tensor (name made unique from `base`). */
  addConstant(base: string, dtype: DataType, shape: number[], data: TensorData, quant?: Quantization): string {
    const name = this.uniqueTensorName(base);
    this.graph.tensors.set(name, { name, shape, dtype, data, ...(quant ? { quant } : {}) });
    return name;
  }

  // ---- names ----

  uniqueTensorName(base: string): string {
    let name = base || 'tensor';
    for (let n = 1; this.graph.tensors.has(name); n++) name = `${base}_${n}`;
    return name;
  }

  uniqueNodeName(base: string): string {
    let name = base || 'node';
    for (let n = 1; this.nodeNames.has(name); n++) name = `${base}_${n}`;
    this.nodeNames.add(name);
    return name;
  }

  /**
   * The IR name for ONNX tensor `onnxName` held in `layout`. The ONNX name itself goes to the tensor in ONNX element
   * order when the tensor is a graph input or output (so that users see their names and shapes), otherwise to the
   * first IR tensor made for it.
   */
  private irNameFor(onnxName: string, layout: Layout, rank: number): string {
    const boundary = this.model.isGraphInput(onnxName) || this.model.isGraphOutput(onnxName);
    if (rank === 4 && boundary && layout === 'nhwc') return this.uniqueTensorName(`${onnxName}_nhwc`);
    if (rank === 4 && this.graph.tensors.has(onnxName)) return this.uniqueTensorName(`${onnxName}_${layout === 'nhwc' ? 'nhwc' : 'nchw'}`);
    return this.uniqueTensorName(onnxName);
  }

  // ---- nodes ----

  /** Append `node` (its outputs are made from `outputs`); returns the IR output names. */
  emit(node: Node, outputs: OutputSpec[]): string[] {
    node.name = this.uniqueNodeName(node.name);
    const inputShapes = node.inputs.map((input) => (input ? this.tensor(input).shape : undefined));
    const shapes = outputShapes(node, inputShapes);
    node.outputs = outputs.map((spec, i) => {
      const shape = shapes[i]!;
      const name = spec.onnx !== undefined ? this.irNameFor(spec.onnx, spec.layout, shape.length) : this.uniqueTensorName(spec.name ?? `${node.name}_out`);
      const tensor: Tensor = { name, shape, dtype: spec.dtype };
      if (spec.quant) tensor.quant = spec.quant;
      this.graph.tensors.set(name, tensor);
      return name;
    });
    this.graph.nodes.push(node);
    outputs.forEach((spec, i) => {
      if (spec.onnx !== undefined) this.bind(spec.onnx, node.outputs[i]!, spec.layout, spec.onnxDataType ?? onnxDataTypeOfIr(spec.dtype));
    });
    return node.outputs;
  }

  tensor(name: string): Tensor {
    const tensor = this.graph.tensors.get(name);
    if (!tensor) throw new Error(`internal: IR tensor '${name}' does not exist`);
    return tensor;
  }

  // ---- value table ----

  bind(onnxName: string, irName: string, layout: Layout, onnxDataType: number): void {
    const rank = this.tensor(irName).shape.length;
    const effective = rank === 4 ? layout : 'onnx';
    const existing = this.values.get(onnxName);
    if (existing) {
      existing.tensors[effective] = irName;
      return;
    }
    this.values.set(onnxName, { native: effective, tensors: { [effective]: irName }, onnxDataType });
  }

  /** Make ONNX tensor `alias` another name for `onnxName` (Identity). */
  alias(alias: string, onnxName: string): void {
    const value = this.values.get(onnxName);
    if (value) this.values.set(alias, value);
    else {
      const constant = this.constant(onnxName);
      if (constant) this.addDerivedConstant({ ...constant, name: alias });
    }
  }

  has(onnxName: string): boolean {
    return this.values.has(onnxName);
  }

  /** ONNX data type of a converted tensor. */
  onnxDataType(onnxName: string): number {
    return this.value(onnxName).onnxDataType;
  }

  /** The layout an ONNX tensor was first made in. */
  nativeLayout(onnxName: string): Layout {
    return this.value(onnxName).native;
  }

  /** The ONNX shape of a converted tensor or a constant. */
  onnxShape(onnxName: string): number[] {
    const constant = this.constant(onnxName);
    if (constant && !this.values.has(onnxName)) return [...constant.dims];
    const value = this.value(onnxName);
    const layout = value.native;
    return onnxShapeOf(this.tensor(value.tensors[layout]!).shape, layout);
  }

  /** The IR tensor of ONNX tensor `onnxName` in `layout` ('onnx' for tensors that are not 4-D). */
  inLayout(onnxName: string, layout: Layout): string {
    const value = this.value(onnxName);
    const existing = value.tensors[layout];
    if (existing) return existing;
    const sourceLayout: Layout = layout === 'nhwc' ? 'onnx' : 'nhwc';
    const source = value.tensors[sourceLayout];
    if (!source) return value.tensors[value.native]!;
    const sourceTensor = this.tensor(source);
    if (sourceTensor.shape.length !== 4) return source;
    const perm = layout === 'nhwc' ? TO_NHWC : TO_NCHW;
    const targetShape = permute(sourceTensor.shape, perm);
    const quant = sourceTensor.quant ? { ...sourceTensor.quant, axis: perm.indexOf(sourceTensor.quant.axis as 0 | 1 | 2 | 3) } : undefined;
    const nodeName = `${onnxName}_to_${layout === 'nhwc' ? 'nhwc' : 'nchw'}`;
    const output: OutputSpec = { onnx: onnxName, layout, dtype: sourceTensor.dtype, onnxDataType: value.onnxDataType, ...(quant ? { quant } : {}) };
    if (isOrderPreserving(sourceTensor.shape, perm) && (sourceTensor.quant?.scale.length ?? 1) <= 1) {
      return this.emit({ op: 'Reshape', name: nodeName, inputs: [source], outputs: [], attrs: { shape: targetShape } }, [output])[0]!;
    }
    return this.emit({ op: 'Transpose', name: nodeName, inputs: [source], outputs: [], attrs: { perm: [...perm] } }, [output])[0]!;
  }

  /** Layout preferred by a layout-agnostic op over these inputs: channels-last if any 4-D input already is. */
  preferredLayout(onnxNames: readonly string[]): Layout {
    return onnxNames.some((name) => name && this.values.has(name) && this.values.get(name)!.native === 'nhwc') ? 'nhwc' : 'onnx';
  }

  private value(onnxName: string): Value {
    const value = this.values.get(onnxName);
    if (!value) throw new Unsupported(`input '${onnxName}' is not available`);
    return value;
  }

  // ---- quantized operands ----

  /**
   * The IR tensor of a quantized operand (activation or constant) in `layout`, carrying `params`. An activation
   * gets its quantization from the first node that reads it; a later reader with other parameters is an error.
   */
  quantized(node: OnnxNode, onnxName: string, params: OnnxQuant, layout: Layout): string {
    const constant = this.constant(onnxName);
    if (constant && !this.values.has(onnxName)) return this.quantizedConstant(node, constant, params, layout);
    const value = this.value(onnxName);
    const onnxQuantAxis = params.axis;
    const rank = this.onnxShape(onnxName).length;
    for (const [tensorLayout, irName] of Object.entries(value.tensors) as [Layout, string][]) {
      const quant = irQuant(params, onnxQuantAxis === undefined ? undefined : irAxis(onnxQuantAxis, rank, tensorLayout));
      const tensor = this.tensor(irName);
      if (tensor.dtype !== 'int8' && tensor.dtype !== 'int32') {
        throw new NodeError(node.name, node.opType, `input '${onnxName}' is ${tensor.dtype}, expected a quantized integer tensor`);
      }
      if (!tensor.quant) tensor.quant = quant;
      else if (!sameIrQuant(tensor.quant, quant)) {
        throw new NodeError(node.name, node.opType, `reads '${onnxName}' with scale ${params.scale[0]} / zero point ${params.zeroPoint[0]}, but it was quantized with scale ${tensor.quant.scale[0]} / zero point ${tensor.quant.zeroPoint[0]}${tensor.dtype === 'int8' && value.onnxDataType === OnnxDataType.UINT8 ? ' (int8 domain)' : ''}`);
      }
    }
    return this.inLayout(onnxName, layout);
  }

  /** An 8-bit or int32 ONNX constant as an IR constant (uint8 shifted to int8), in `layout` if 4-D. */
  quantizedConstant(node: OnnxNode, constant: OnnxTensorValue, params: OnnxQuant, layout: Layout): string {
    const data = integerData(node, constant);
    const rank = constant.dims.length;
    const quant = irQuant(params, params.axis === undefined ? undefined : irAxis(params.axis, rank, layout));
    const shape = irShape(constant.dims, layout);
    const transposed = layout === 'nhwc' && rank === 4 ? transposeData(data, constant.dims, TO_NHWC) : data;
    return this.addConstant(constant.name, transposed instanceof Int32Array ? 'int32' : 'int8', shape, transposed, quant);
  }
}

/** Integer constant data in the IR domain: uint8 shifted to int8, int8 and int32 as they are. */
export function integerData(node: OnnxNode, constant: OnnxTensorValue): Int8Array | Int32Array {
  switch (constant.dataType) {
    case OnnxDataType.INT8:
      return constant.data as Int8Array;
    case OnnxDataType.UINT8:
      return Int8Array.from(constant.data as Uint8Array, (v) => v - 128);
    case OnnxDataType.INT32:
      return constant.data as Int32Array;
    default:
      throw new Unsupported(`constant '${constant.name}' of node '${node.name}' is ${onnxDataTypeName(constant.dataType)}, expected int8, uint8 or int32`);
  }
}

export function irDataType(onnxDataType: number): DataType | undefined {
  switch (onnxDataType) {
    case OnnxDataType.FLOAT:
      return 'float32';
    case OnnxDataType.UINT8:
      return 'uint8';
    case OnnxDataType.INT8:
      return 'int8';
    case OnnxDataType.INT16:
      return 'int16';
    case OnnxDataType.INT32:
      return 'int32';
    case OnnxDataType.INT64:
      return 'int64';
    default:
      return undefined;
  }
}

function onnxDataTypeOfIr(dtype: DataType): number {
  switch (dtype) {
    case 'float32':
      return OnnxDataType.FLOAT;
    case 'uint8':
      return OnnxDataType.UINT8;
    case 'int8':
      return OnnxDataType.INT8;
    case 'int16':
      return OnnxDataType.INT16;
    case 'int32':
      return OnnxDataType.INT32;
    case 'int64':
      return OnnxDataType.INT64;
  }
}
