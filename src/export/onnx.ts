/**
 * IR graph -> ONNX QDQ model: every IR op becomes DequantizeLinear on its inputs, the float ONNX op, and
 * QuantizeLinear on its output (with a Clip in between when the op has a fused activation clamp).
 *
 * Layout: the IR is NHWC; ONNX convolutions and pools are NCHW. Every IR tensor is written in ONNX either in IR
 * element order ('ir') or, if 4-D, channels-first ('nchw'); an op asks for the layout it needs and an int8 Transpose
 * is inserted where the tensor does not have it yet. Graph inputs and outputs keep the IR's (user-facing) shapes.
 *
 * What the format cannot say: QuantizeLinear rounds half to even where TFLite's QUANTIZE rounds half away from
 * zero, and onnxruntime computes requantization in float32 rather than with TFLite's Q31 multipliers; both give
 * the ±1 LSB differences documented in INT8_ARITHMETIC.md.
 */
import { NodeError } from '../errors.js';
import { OnnxDataType } from '../frontend/onnx/proto.js';
import { elementCount, tensorOf } from '../ir/graph.js';
import type { Clamp, Graph, Node, Quantization, Tensor } from '../ir/types.js';
import { OnnxWriter, type AttributeValue, type ValueInfo } from './onnx-writer.js';

type Layout = 'ir' | 'nchw';

/** NHWC (IR) -> NCHW: ONNX axis j holds IR axis TO_NCHW[j]. */
const TO_NCHW = [0, 3, 1, 2];
/** IR axis a of a 4-D tensor is ONNX axis NCHW_AXIS[a] in the 'nchw' layout. */
const NCHW_AXIS = [0, 2, 3, 1];

/** An integer ONNX tensor standing for an IR tensor: int8 (IR), uint8 at a uint8 boundary, int32 constants. */
interface IntegerRef {
  name: string;
  dataType: number;
  /** Added to the IR zero point (128 for uint8). */
  zeroPointShift: number;
}

interface Written {
  integer: Partial<Record<Layout, IntegerRef>>;
  float: Partial<Record<Layout, string>>;
}

export function exportOnnxQdq(graph: Graph): Uint8Array {
  return new QdqExporter(graph).export();
}

class QdqExporter {
  private readonly writer = new OnnxWriter();
  private readonly written = new Map<string, Written>();
  /** IR tensors whose 'ir'-layout ONNX name is the graph output's name. */
  private readonly outputNames = new Map<string, string>();
  private opset = 13;

  constructor(private readonly graph: Graph) {}

  export(): Uint8Array {
    const inputs = this.graph.inputs.map((io) => this.addInput(io.name, io.tensor, io.externalDtype, userLayout(io.layout, tensorOf(this.graph, io.tensor))));
    for (const io of this.graph.outputs) {
      if (!this.writer.reserve(io.name)) continue;
      const tensor = tensorOf(this.graph, io.tensor);
      if (tensor.dtype === io.externalDtype && !io.layout && !this.outputNames.has(io.tensor)) this.outputNames.set(io.tensor, io.name);
    }
    for (const node of this.graph.nodes) this.exportNode(node);
    const outputs = this.graph.outputs.map((io) => this.addOutput(io.name, io.tensor, io.externalDtype, userLayout(io.layout, tensorOf(this.graph, io.tensor))));
    return this.writer.encode(this.graph.name, inputs, outputs, this.opset, 'tinyedge');
  }

  // -------------------------------------------------------------------------------------------------------------
  // Boundary

  /** A graph input in the user's layout: the IR's own, or NCHW for an NHWC tensor marked GraphIO.layout 'NCHW'. */
  private addInput(name: string, irName: string, externalDtype: string, layout: Layout): ValueInfo {
    const tensor = tensorOf(this.graph, irName);
    const shape = layout === 'nchw' ? TO_NCHW.map((a) => tensor.shape[a]!) : tensor.shape;
    this.writer.reserve(name);
    const entry = this.entry(irName);
    if (tensor.dtype === 'float32') {
      entry.float[layout] = name;
      return { name, dataType: OnnxDataType.FLOAT, shape };
    }
    const uint8 = externalDtype === 'uint8' && tensor.dtype === 'int8';
    const dataType = uint8 ? OnnxDataType.UINT8 : onnxType(tensor);
    entry.integer[layout] = { name, dataType, zeroPointShift: uint8 ? 128 : 0 };
    return { name, dataType, shape };
  }

  private addOutput(name: string, irName: string, externalDtype: string, layout: Layout): ValueInfo {
    const tensor = tensorOf(this.graph, irName);
    const shape = layout === 'nchw' ? TO_NCHW.map((a) => tensor.shape[a]!) : tensor.shape;
    if (tensor.dtype === 'float32') {
      this.rename(this.floatOf(tensor, layout), name);
      return { name, dataType: OnnxDataType.FLOAT, shape };
    }
    if (externalDtype === 'uint8' && tensor.dtype === 'int8') {
      const quant = this.quantOf(tensor);
      this.quantizeLinear(this.floatOf(tensor, layout), quant, { name, dataType: OnnxDataType.UINT8, zeroPointShift: 128 }, tensor.shape.length, layout, `${name}_to_uint8`);
      return { name, dataType: OnnxDataType.UINT8, shape };
    }
    this.rename(this.integerOf(tensor, layout).name, name);
    return { name, dataType: onnxType(tensor), shape };
  }

  /** Make `source` available under the graph output name `name`. */
  private rename(source: string, name: string): void {
    if (source !== name) this.writer.node('Identity', `${name}_identity`, [source], [name]);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Ops

  private exportNode(node: Node): void {
    const input = (port: number): Tensor => tensorOf(this.graph, node.inputs[port]!);
    const output = tensorOf(this.graph, node.outputs[0]!);
    const fail = (detail: string): never => {
      throw new NodeError(node.name, node.op, detail);
    };
    if (output.dtype === 'int32') fail('has an int32 (unrequantized) output, which a QDQ model cannot express');

    switch (node.op) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        // Only the passes set it (a shuffle folded into the store order); convert exports graphs as imported.
        if (node.op === 'Conv2D' && node.attrs.outputPositions) fail('stores its filters in a permuted channel order (an optimized graph), which ONNX Conv cannot express');
        const x = input(0);
        const w = input(1);
        const depthwise = node.op === 'DepthwiseConv2D';
        // OHWI -> OIHW; depthwise [1, kh, kw, C * M] -> [C * M, 1, kh, kw].
        const perm = depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2];
        const weights = this.constantWeights(w, perm, depthwise ? 3 : 0);
        const inputs = [this.floatOf(x, 'nchw'), weights];
        if (node.inputs[2]) inputs.push(this.biasOf(input(2), x, w, depthwise ? 3 : 0));
        const { padding, stride, dilation } = node.attrs;
        const y = this.floatResult(node, 'Conv', inputs, {
          kernel_shape: { ints: [w.shape[1]!, w.shape[2]!] },
          strides: { ints: stride },
          dilations: { ints: dilation },
          pads: { ints: [padding.top, padding.left, padding.bottom, padding.right] },
          group: { int: depthwise ? x.shape[3]! : node.attrs.groups },
        });
        this.quantizeResult(node, output, y, 'nchw', node.attrs.clamp);
        return;
      }
      case 'FullyConnected': {
        const x = input(0);
        const w = input(1);
        const depth = w.shape[1]!;
        let a = this.floatOf(x, 'ir');
        if (x.shape.length !== 2) a = this.reshapeQdq(x, a, [elementCount(x.shape) / depth, depth], `${node.name}_flatten`);
        const inputs = [a, this.constantWeights(w, [0, 1], 0)];
        if (node.inputs[2]) inputs.push(this.biasOf(input(2), x, w, 0));
        let y = this.floatResult(node, 'Gemm', inputs, { transB: { int: 1 } });
        if (output.shape.length !== 2) {
          const reshaped = this.writer.fresh(`${node.name}_unflattened`);
          this.writer.node('Reshape', `${node.name}_unflatten`, [y, this.writer.int64s('shape', output.shape)], [reshaped]);
          y = reshaped;
        }
        this.quantizeResult(node, output, y, 'ir', node.attrs.clamp);
        return;
      }
      case 'BatchMatMul':
        this.quantizeResult(node, output, this.floatResult(node, 'MatMul', [this.floatOf(input(0), 'ir'), this.floatOf(input(1), 'ir')]), 'ir', node.attrs.clamp);
        return;
      case 'Add':
      case 'Sub':
      case 'Mul': {
        const operands = [input(0), input(1)];
        const layout = this.elementwiseLayout(operands, output);
        const inputs = operands.map((t) => (layout === 'nchw' && t.shape.length < 4 ? this.floatOf(this.broadcastToRank4(t), 'nchw') : this.floatOf(t, layout)));
        this.quantizeResult(node, output, this.floatResult(node, node.op, inputs), layout, node.attrs.clamp);
        return;
      }
      case 'AveragePool2D':
      case 'MaxPool2D': {
        const { filter, stride, padding } = node.attrs;
        const y = this.floatResult(node, node.op === 'AveragePool2D' ? 'AveragePool' : 'MaxPool', [this.floatOf(input(0), 'nchw')], {
          kernel_shape: { ints: filter },
          strides: { ints: stride },
          pads: { ints: [padding.top, padding.left, padding.bottom, padding.right] },
        });
        this.quantizeResult(node, output, y, 'nchw', node.attrs.clamp);
        return;
      }
      case 'Mean': {
        const x = input(0);
        const rank = x.shape.length;
        const axes = node.attrs.axes.map((a) => (a < 0 ? a + rank : a));
        let layout: Layout = rank === 4 && this.has(x, 'nchw') && !this.has(x, 'ir') ? 'nchw' : 'ir';
        if (layout === 'nchw' && !node.attrs.keepDims) {
          const kept = TO_NCHW.filter((a) => !axes.includes(a));
          if (!kept.every((a, i) => i === 0 || a > kept[i - 1]!)) layout = 'ir';
        }
        const onnxAxes = axes.map((a) => (layout === 'nchw' ? NCHW_AXIS[a]! : a)).sort((p, q) => p - q);
        const y = this.floatResult(node, 'ReduceMean', [this.floatOf(x, layout)], { axes: { ints: onnxAxes }, keepdims: { int: node.attrs.keepDims ? 1 : 0 } });
        this.quantizeResult(node, output, y, node.attrs.keepDims ? layout : 'ir');
        return;
      }
      case 'Softmax': {
        const x = input(0);
        const nchw = x.shape.length === 4 && this.has(x, 'nchw') && !this.has(x, 'ir');
        const logits = node.attrs.beta === 1 ? this.floatOf(x, nchw ? 'nchw' : 'ir') : this.scaled(this.floatOf(x, nchw ? 'nchw' : 'ir'), node.attrs.beta, node.name);
        this.quantizeResult(node, output, this.floatResult(node, 'Softmax', [logits], { axis: { int: nchw ? 1 : -1 } }), nchw ? 'nchw' : 'ir');
        return;
      }
      case 'Logistic':
      case 'Tanh':
      case 'HardSwish':
      case 'Neg':
      case 'Relu':
      case 'LeakyRelu': {
        const x = input(0);
        const layout = this.availableLayout(x);
        const opType = node.op === 'Logistic' ? 'Sigmoid' : node.op;
        if (opType === 'HardSwish') this.opset = Math.max(this.opset, 14);
        const attributes: Record<string, AttributeValue> = node.op === 'LeakyRelu' ? { alpha: { float: node.attrs.alpha } } : {};
        this.quantizeResult(node, output, this.floatResult(node, opType, [this.floatOf(x, layout)], attributes), layout);
        return;
      }
      case 'Relu6': {
        const x = input(0);
        const layout = this.availableLayout(x);
        const y = this.floatResult(node, 'Clip', [this.floatOf(x, layout), this.writer.floatScalar('zero', 0), this.writer.floatScalar('six', 6)]);
        this.quantizeResult(node, output, y, layout);
        return;
      }
      case 'Quantize': {
        const x = input(0);
        const layout = this.availableLayout(x);
        this.quantizeResult(node, output, this.floatOf(x, layout), layout, node.attrs.clamp, node.name);
        return;
      }
      case 'Dequantize': {
        const x = input(0);
        const layout = this.availableLayout(x);
        const ref = this.integerOf(x, layout);
        const name = this.writer.fresh(layout === 'ir' ? output.name : `${output.name}_nchw`);
        this.dequantizeLinear(ref, this.quantOf(x), x.shape.length, layout, node.name, name);
        this.entry(output.name).float[layout] = name;
        return;
      }
      case 'Reshape':
        this.movement(node, output, 'Reshape', [this.floatOf(input(0), 'ir'), this.writer.int64s('shape', output.shape)], 'ir');
        return;
      case 'Transpose': {
        const x = input(0);
        // A perm over IR axes applied to the channels-first copy: compose the two permutations.
        const fromNchw = x.shape.length === 4 && this.has(x, 'nchw') && !this.has(x, 'ir');
        const perm = fromNchw ? node.attrs.perm.map((a) => NCHW_AXIS[a]!) : node.attrs.perm;
        this.movement(node, output, 'Transpose', [this.floatOf(x, fromNchw ? 'nchw' : 'ir')], 'ir', { perm: { ints: perm } });
        return;
      }
      case 'Concat': {
        const inputs = node.inputs.map((_, port) => input(port));
        const layout = output.shape.length === 4 && inputs.some((t) => this.has(t, 'nchw')) ? 'nchw' : 'ir';
        const axis = node.attrs.axis < 0 ? node.attrs.axis + output.shape.length : node.attrs.axis;
        const y = this.floatResult(node, 'Concat', inputs.map((t) => this.floatOf(t, layout)), { axis: { int: layout === 'nchw' ? NCHW_AXIS[axis]! : axis } });
        this.quantizeResult(node, output, y, layout);
        return;
      }
      case 'Pad': {
        const x = input(0);
        const layout = this.availableLayout(x);
        const reorder = (values: number[]): number[] => (layout === 'nchw' ? TO_NCHW.map((a) => values[a]!) : values);
        const quant = this.quantOf(x);
        const value = (node.attrs.value - quant.zeroPoint[0]!) * quant.scale[0]!;
        const pads = [...reorder(node.attrs.before), ...reorder(node.attrs.after)];
        this.movement(node, output, 'Pad', [this.floatOf(x, layout), this.writer.int64s('pads', pads), this.writer.floatScalar('pad_value', Math.fround(value))], layout, { mode: { string: 'constant' } });
        return;
      }
      case 'FloatOp':
        return fail(`float op ${node.attrs.onnxOp} is not exported (it exists only in ONNX test graphs)`);
    }
  }

  /** A data-movement op between DequantizeLinear and QuantizeLinear. */
  private movement(node: Node, output: Tensor, opType: string, inputs: string[], layout: Layout, attributes: Record<string, AttributeValue> = {}): void {
    const y = this.floatResult(node, opType, inputs, attributes);
    if (output.dtype === 'float32') {
      this.entry(output.name).float[layout] = y;
      return;
    }
    this.quantizeResult(node, output, y, layout);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tensors in ONNX

  private entry(irName: string): Written {
    let entry = this.written.get(irName);
    if (!entry) {
      entry = { integer: {}, float: {} };
      this.written.set(irName, entry);
    }
    return entry;
  }

  private has(tensor: Tensor, layout: Layout): boolean {
    const entry = this.written.get(tensor.name);
    return entry !== undefined && (entry.integer[layout] !== undefined || entry.float[layout] !== undefined);
  }

  /** The layout a layout-agnostic op should use: the one the input already has (channels-first if only that). */
  private availableLayout(tensor: Tensor): Layout {
    return tensor.shape.length === 4 && this.has(tensor, 'nchw') && !this.has(tensor, 'ir') ? 'nchw' : 'ir';
  }

  private elementwiseLayout(operands: Tensor[], output: Tensor): Layout {
    if (output.shape.length !== 4) return 'ir';
    const runtime = operands.filter((t) => !t.data);
    if (runtime.some((t) => t.shape.length !== 4)) return 'ir';
    return runtime.some((t) => this.has(t, 'nchw') && !this.has(t, 'ir')) ? 'nchw' : 'ir';
  }

  /** A lower-rank constant broadcast against NHWC data, made 4-D so that it transposes to NCHW with it. */
  private broadcastToRank4(tensor: Tensor): Tensor {
    const shape = [...new Array<number>(4 - tensor.shape.length).fill(1), ...tensor.shape];
    return { ...tensor, name: `${tensor.name}_4d`, shape };
  }

  /** The integer ONNX tensor of an IR tensor in `layout` (constants become initializers). */
  private integerOf(tensor: Tensor, layout: Layout): IntegerRef {
    const rankLayout: Layout = tensor.shape.length === 4 ? layout : 'ir';
    const entry = this.entry(tensor.name);
    const existing = entry.integer[rankLayout];
    if (existing) return existing;
    if (tensor.data) {
      const data = rankLayout === 'nchw' ? transpose(tensor.data as Int8Array, tensor.shape, TO_NCHW) : tensor.data;
      const shape = rankLayout === 'nchw' ? TO_NCHW.map((a) => tensor.shape[a]!) : tensor.shape;
      const ref = { name: this.writer.initializer(tensor.name, onnxType(tensor), shape, data as Int8Array), dataType: onnxType(tensor), zeroPointShift: 0 };
      entry.integer[rankLayout] = ref;
      return ref;
    }
    const otherLayout: Layout = rankLayout === 'nchw' ? 'ir' : 'nchw';
    if (!entry.integer[otherLayout]) throw new NodeError(tensor.name, 'tensor', 'is read before it is written');
    // Layout changes are written in QDQ form too (DQ -> Transpose -> Q with the same parameters).
    const transposed = this.writer.fresh(`${tensor.name}_${rankLayout === 'nchw' ? 'nchw' : 'nhwc'}_float`);
    const perm = rankLayout === 'nchw' ? TO_NCHW : NCHW_AXIS;
    this.writer.node('Transpose', `${tensor.name}_to_${rankLayout === 'nchw' ? 'nchw' : 'nhwc'}`, [this.floatOf(tensor, otherLayout)], [transposed], { perm: { ints: perm } });
    const name = this.writer.fresh(rankLayout === 'nchw' ? `${tensor.name}_nchw` : (this.outputNames.get(tensor.name) ?? `${tensor.name}_nhwc`));
    const ref: IntegerRef = { name, dataType: OnnxDataType.INT8, zeroPointShift: 0 };
    this.quantizeLinear(transposed, this.quantOf(tensor), ref, tensor.shape.length, rankLayout, `${tensor.name}_to_${rankLayout === 'nchw' ? 'nchw' : 'nhwc'}_quantize`);
    entry.integer[rankLayout] = ref;
    return ref;
  }

  /** The float (dequantized) ONNX tensor of an IR tensor in `layout`. */
  private floatOf(tensor: Tensor, layout: Layout): string {
    const rankLayout: Layout = tensor.shape.length === 4 ? layout : 'ir';
    const entry = this.entry(tensor.name);
    const existing = entry.float[rankLayout];
    if (existing) return existing;
    if (tensor.dtype === 'float32') {
      if (tensor.data) {
        const data = rankLayout === 'nchw' ? transpose(tensor.data as Float32Array, tensor.shape, TO_NCHW) : (tensor.data as Float32Array);
        entry.float[rankLayout] = this.writer.initializer(tensor.name, OnnxDataType.FLOAT, rankLayout === 'nchw' ? TO_NCHW.map((a) => tensor.shape[a]!) : tensor.shape, data);
        return entry.float[rankLayout]!;
      }
      const other = entry.float[rankLayout === 'nchw' ? 'ir' : 'nchw'];
      if (!other) throw new NodeError(tensor.name, 'tensor', 'is read before it is written');
      const name = this.writer.fresh(`${tensor.name}_${rankLayout === 'nchw' ? 'nchw' : 'nhwc'}`);
      this.writer.node('Transpose', `${tensor.name}_to_${rankLayout}`, [other], [name], { perm: { ints: rankLayout === 'nchw' ? TO_NCHW : NCHW_AXIS } });
      entry.float[rankLayout] = name;
      return name;
    }
    const ref = this.integerOf(tensor, rankLayout);
    const name = this.dequantizeLinear(ref, this.quantOf(tensor), tensor.shape.length, rankLayout, `${tensor.name}${rankLayout === 'nchw' ? '_nchw' : ''}_dequantize`);
    entry.float[rankLayout] = name;
    return name;
  }

  private quantOf(tensor: Tensor): Quantization {
    if (!tensor.quant) throw new NodeError(tensor.name, 'tensor', `is ${tensor.dtype} without quantization parameters`);
    return tensor.quant;
  }

  /** DequantizeLinear of an integer ONNX tensor; returns the float tensor's name. */
  private dequantizeLinear(ref: IntegerRef, quant: Quantization, rank: number, layout: Layout, nodeName: string, outputName?: string): string {
    const [scale, zeroPoint, axis] = this.parameters(quant, ref, rank, layout);
    const name = outputName ?? this.writer.fresh(`${ref.name}_dq`);
    this.writer.node('DequantizeLinear', nodeName, [ref.name, scale, zeroPoint], [name], axis === undefined ? {} : { axis: { int: axis } });
    return name;
  }

  /** QuantizeLinear into `ref` (its name is used as the output). */
  private quantizeLinear(floatName: string, quant: Quantization, ref: IntegerRef, rank: number, layout: Layout, nodeName: string): void {
    const [scale, zeroPoint, axis] = this.parameters(quant, ref, rank, layout);
    this.writer.node('QuantizeLinear', nodeName, [floatName, scale, zeroPoint], [ref.name], axis === undefined ? {} : { axis: { int: axis } });
  }

  private parameters(quant: Quantization, ref: IntegerRef, rank: number, layout: Layout): [string, string, number | undefined] {
    const perChannel = quant.scale.length > 1;
    const dims = perChannel ? [quant.scale.length] : [];
    const scale = this.writer.sharedInitializer('scale', OnnxDataType.FLOAT, dims, Float32Array.from(quant.scale));
    const zeroPoints = quant.zeroPoint.map((z) => z + ref.zeroPointShift);
    const zeroPointData = ref.dataType === OnnxDataType.UINT8 ? Uint8Array.from(zeroPoints) : ref.dataType === OnnxDataType.INT32 ? Int32Array.from(zeroPoints) : Int8Array.from(zeroPoints);
    const zeroPoint = this.writer.sharedInitializer('zero_point', ref.dataType, dims, zeroPointData);
    const axis = perChannel ? (layout === 'nchw' && rank === 4 ? NCHW_AXIS[quant.axis]! : quant.axis) : undefined;
    return [scale, zeroPoint, axis];
  }

  /** Weights as an int8 initializer in ONNX order behind a DequantizeLinear; channel axis 0 in ONNX. */
  private constantWeights(weights: Tensor, perm: number[], irChannelAxis: number): string {
    const data = transpose(weights.data as Int8Array, weights.shape, perm);
    const shape = perm.map((a) => weights.shape[a]!);
    const quant = this.quantOf(weights);
    const ref = { name: this.writer.initializer(weights.name, OnnxDataType.INT8, shape, data), dataType: OnnxDataType.INT8, zeroPointShift: 0 };
    const onnxQuant = { ...quant, axis: quant.scale.length > 1 ? perm.indexOf(irChannelAxis) : 0 };
    return this.dequantizeLinear(ref, onnxQuant, shape.length, 'ir', `${weights.name}_dequantize`);
  }

  /** int32 bias behind a DequantizeLinear with scale S_in * S_w[c]. */
  private biasOf(bias: Tensor, input: Tensor, weights: Tensor, weightChannelAxis: number): string {
    const channels = weights.shape[weightChannelAxis]!;
    const inputScale = this.quantOf(input).scale[0]!;
    const weightScales = this.quantOf(weights).scale;
    const scales = bias.quant?.scale.length === channels || bias.quant?.scale.length === 1 ? bias.quant.scale : weightScales.map((s) => Math.fround(inputScale * s));
    const quant: Quantization = { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 };
    const data = Int32Array.from(bias.data as Int32Array);
    const ref = { name: this.writer.initializer(bias.name, OnnxDataType.INT32, [channels], data), dataType: OnnxDataType.INT32, zeroPointShift: 0 };
    return this.dequantizeLinear(ref, quant, 1, 'ir', `${bias.name}_dequantize`);
  }

  /** DQ(x) -> Reshape -> Q -> DQ with x's parameters; returns the float result. */
  private reshapeQdq(tensor: Tensor, floatName: string, shape: number[], nodeName: string): string {
    const reshaped = this.writer.fresh(`${tensor.name}_reshaped_float`);
    this.writer.node('Reshape', nodeName, [floatName, this.writer.int64s('shape', shape)], [reshaped]);
    const ref: IntegerRef = { name: this.writer.fresh(`${tensor.name}_reshaped`), dataType: OnnxDataType.INT8, zeroPointShift: 0 };
    this.quantizeLinear(reshaped, this.quantOf(tensor), ref, shape.length, 'ir', `${nodeName}_quantize`);
    return this.dequantizeLinear(ref, this.quantOf(tensor), shape.length, 'ir', `${nodeName}_dequantize`);
  }

  private scaled(floatName: string, beta: number, nodeName: string): string {
    const name = this.writer.fresh(`${floatName}_scaled`);
    this.writer.node('Mul', `${nodeName}_beta`, [floatName, this.writer.floatScalar('beta', beta)], [name]);
    return name;
  }

  /** The float op itself; returns its output's name. */
  private floatResult(node: Node, opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    const name = this.writer.fresh(`${node.outputs[0]}_float`);
    this.writer.node(opType, node.name, inputs, [name], attributes);
    return name;
  }

  /** Clip (for a fused activation) and QuantizeLinear into the IR output tensor, registered in `layout`. */
  private quantizeResult(node: Node, output: Tensor, floatName: string, layout: Layout, clamp?: Clamp, quantizeName = `${node.name}_quantize`): void {
    const quant = this.quantOf(output);
    let value = floatName;
    if (clamp && (clamp.min > -128 || clamp.max < 127)) {
      // clamp in the int8 domain == Clip at the real values of its bounds, before quantizing.
      const z = quant.zeroPoint[0]!;
      const s = quant.scale[0]!;
      value = this.writer.fresh(`${floatName}_clipped`);
      const lo = this.writer.floatScalar('clip_min', Math.fround((clamp.min - z) * s));
      const hi = this.writer.floatScalar('clip_max', Math.fround((clamp.max - z) * s));
      this.writer.node('Clip', `${node.name}_activation`, [floatName, lo, hi], [value]);
    }
    const rankLayout: Layout = output.shape.length === 4 ? layout : 'ir';
    const name = rankLayout === 'ir' && this.outputNames.has(output.name) ? this.outputNames.get(output.name)! : this.writer.fresh(rankLayout === 'nchw' ? `${output.name}_nchw` : output.name);
    const ref: IntegerRef = { name, dataType: OnnxDataType.INT8, zeroPointShift: 0 };
    this.quantizeLinear(value, quant, ref, output.shape.length, rankLayout, quantizeName);
    this.entry(output.name).integer[rankLayout] = ref;
  }
}

/** 'nchw' for a 4-D graph input/output whose user-facing layout is NCHW (GraphIO.layout), else 'ir'. */
function userLayout(layout: 'NCHW' | undefined, tensor: Tensor): Layout {
  return layout === 'NCHW' && tensor.shape.length === 4 ? 'nchw' : 'ir';
}

function onnxType(tensor: Tensor): number {
  switch (tensor.dtype) {
    case 'int8':
      return OnnxDataType.INT8;
    case 'uint8':
      return OnnxDataType.UINT8;
    case 'int32':
      return OnnxDataType.INT32;
    case 'int16':
      return OnnxDataType.INT16;
    case 'int64':
      return OnnxDataType.INT64;
    case 'float32':
      return OnnxDataType.FLOAT;
  }
}

/** Row-major transpose of constant data by `perm` (out axis i = in axis perm[i]). */
function transpose<T extends Int8Array | Int32Array | Float32Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const outShape = perm.map((a) => shape[a]!);
  const inStrides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= shape[i]!;
  }
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    let source = 0;
    for (let i = 0; i < shape.length; i++) source += index[i]! * inStrides[perm[i]!]!;
    out[o] = data[source]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++index[i]! < outShape[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}
