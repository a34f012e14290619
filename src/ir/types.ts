/**
 * The one intermediate representation of a quantized graph, shared by both frontends (ONNX, TFLite),
 * the reference interpreter, the passes, the memory planner and code generation.
 *
 * Conventions (TFLite's, because the golden arithmetic is TFLite-Micro's):
 * - Activations are NHWC. ONNX NCHW graphs are converted by the ONNX frontend.
 * - Quantized tensors are int8 inside the graph; uint8 exists only at the graph boundary (GraphIO.externalDtype),
 *   converted by shifting the zero point by 128.
 * - Conv2D weights are [Cout, kh, kw, Cin / groups] (OHWI); DepthwiseConv2D weights are [1, kh, kw, Cin * multiplier];
 *   FullyConnected weights are [Cout, Cin]. Bias is int32 [Cout] with scale S_in * S_w[c] and zero point 0.
 * - Per-channel quantization names its axis in the tensor's own (IR) layout.
 */

export type DataType = 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'float32';

export type TensorData = Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array;

export interface Quantization {
  /** float32 values (Math.fround'ed): the arithmetic derives multipliers from them in double, as TFLite does. */
  scale: number[];
  zeroPoint: number[];
  /** The channel axis when scale has more than one entry. */
  axis: number;
}

export interface Tensor {
  name: string;
  shape: number[];
  dtype: DataType;
  quant?: Quantization;
  /** Present for constants (weights, biases, shapes). Row-major in `shape`. */
  data?: TensorData;
}

/** Quantized output clamp of a fused activation (ReLU, ReLU6, ...), in the output tensor's int8 domain. */
export interface Clamp {
  min: number;
  max: number;
}

export interface Padding2D {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

interface NodeBase {
  /** Unique within the graph; taken from the model (sanitized only by code generation). */
  name: string;
  /** Tensor names; an absent optional input (e.g. no bias) is the empty string. */
  inputs: string[];
  outputs: string[];
}

export interface Conv2DNode extends NodeBase {
  op: 'Conv2D';
  /** inputs: [x, weights, bias?]; output int8 (or int32 for ONNX ConvInteger, which has no output quantization). */
  attrs: {
    stride: [number, number];
    dilation: [number, number];
    padding: Padding2D;
    groups: number;
    clamp: Clamp;
    /**
     * Where each filter's result is stored: output channel outputPositions[o] holds filter o (a permutation of
     * 0..Cout-1). Absent: filter o at channel o. Set only by the fold-channel-shuffle pass, on grouped convolutions
     * (whose groups must stay contiguous in the weights, so a channel shuffle after them cannot be folded into the
     * weight order): the shuffle becomes a different store order.
     */
    outputPositions?: number[];
  };
}

export interface DepthwiseConv2DNode extends NodeBase {
  op: 'DepthwiseConv2D';
  attrs: { stride: [number, number]; dilation: [number, number]; padding: Padding2D; depthMultiplier: number; clamp: Clamp };
}

export interface FullyConnectedNode extends NodeBase {
  op: 'FullyConnected';
  /** inputs: [x (any shape, flattened to [batch, Cin]), weights [Cout, Cin], bias?]; output [batch, Cout]. */
  attrs: { clamp: Clamp; keepNumDims: boolean };
}

/** Batched matrix product of two run-time tensors (ONNX QLinearMatMul / MatMulInteger, TFLite BATCH_MATMUL). */
export interface BatchMatMulNode extends NodeBase {
  op: 'BatchMatMul';
  attrs: { clamp: Clamp };
}

export interface ElementwiseBinaryNode extends NodeBase {
  op: 'Add' | 'Sub' | 'Mul';
  /** Numpy-style broadcasting of the two inputs. */
  attrs: { clamp: Clamp };
}

export interface Pool2DNode extends NodeBase {
  op: 'AveragePool2D' | 'MaxPool2D';
  attrs: { filter: [number, number]; stride: [number, number]; padding: Padding2D; clamp: Clamp };
}

export interface MeanNode extends NodeBase {
  op: 'Mean';
  attrs: { axes: number[]; keepDims: boolean };
}

export interface SoftmaxNode extends NodeBase {
  op: 'Softmax';
  /** Over the last axis. */
  attrs: { beta: number };
}

export interface UnaryNode extends NodeBase {
  /** Quantized unary functions; each requantizes from the input's to the output's scale. */
  op: 'Logistic' | 'Tanh' | 'HardSwish' | 'Neg' | 'Relu' | 'Relu6';
  attrs: Record<string, never>;
}

export interface LeakyReluNode extends NodeBase {
  op: 'LeakyRelu';
  attrs: { alpha: number };
}

/**
 * float32 -> int8 quantization, or int8 -> int8 requantization (TFLite QUANTIZE between two scales).
 * `rounding` matters only for float input: ONNX rounds half to even, TFLite half away from zero.
 */
export interface QuantizeNode extends NodeBase {
  op: 'Quantize';
  attrs: { clamp: Clamp; rounding: 'half-even' | 'half-away' };
}

/** int8 -> float32. */
export interface DequantizeNode extends NodeBase {
  op: 'Dequantize';
  attrs: Record<string, never>;
}

/** Pure data movement: no arithmetic. Reshape covers Flatten, Squeeze and Unsqueeze. */
export interface ReshapeNode extends NodeBase {
  op: 'Reshape';
  attrs: { shape: number[] };
}

export interface TransposeNode extends NodeBase {
  op: 'Transpose';
  attrs: { perm: number[] };
}

export interface ConcatNode extends NodeBase {
  op: 'Concat';
  /** Inputs with other scales than the output are requantized, as TFLite CONCATENATION and QLinearConcat do. */
  attrs: { axis: number };
}

export interface PadNode extends NodeBase {
  op: 'Pad';
  /** before/after per axis; the pad value is the quantized real 0 (the input's zero point) unless given. */
  attrs: { before: number[]; after: number[]; value: number };
}

/**
 * Float-domain ops that appear only in ONNX test graphs (DynamicQuantizeLinear, its expanded form).
 * The reference interpreter runs them; code generation rejects them with a clear message.
 */
export interface FloatOpNode extends NodeBase {
  op: 'FloatOp';
  attrs: { onnxOp: string; params: Record<string, number | number[] | string> };
}

export type Node =
  | Conv2DNode
  | DepthwiseConv2DNode
  | FullyConnectedNode
  | BatchMatMulNode
  | ElementwiseBinaryNode
  | Pool2DNode
  | MeanNode
  | SoftmaxNode
  | UnaryNode
  | LeakyReluNode
  | QuantizeNode
  | DequantizeNode
  | ReshapeNode
  | TransposeNode
  | ConcatNode
  | PadNode
  | FloatOpNode;

export type OpKind = Node['op'];

/** How a graph input or output is presented to the user (file formats, device protocol). */
export interface GraphIO {
  tensor: string;
  /** uint8 models keep uint8 at their boundary; the IR tensor itself is int8 with zero point shifted by 128. */
  externalDtype: DataType;
  /** Name the user knows (ONNX/TFLite input name). */
  name: string;
  /**
   * 'NCHW': the user's (ONNX) 4-D tensor is NCHW while this IR tensor is NHWC, so whoever feeds or reads the graph
   * permutes (an input NCHW -> NHWC with perm [0, 2, 3, 1], an output NHWC -> NCHW with [0, 3, 1, 2]). Only the
   * optional fold-io-transposes pass (src/passes) sets it; absent, the IR tensor is in the user's layout.
   */
  layout?: 'NCHW';
}

export type ModelFormat = 'onnx-qdq' | 'onnx-qoperator' | 'onnx' | 'tflite';

export interface Graph {
  name: string;
  format: ModelFormat;
  /** All tensors by name: activations and constants. */
  tensors: Map<string, Tensor>;
  /** Topologically ordered. */
  nodes: Node[];
  inputs: GraphIO[];
  outputs: GraphIO[];
  /** The file the graph was loaded from (set by loadModel): its sha-256 identifies the model on the device. */
  source?: { file: string; sha256: string };
  /** Ops the frontend could not import, with the node that holds them; a graph with any cannot run. */
  unsupported: { node: string; op: string; reason?: string }[];
}
