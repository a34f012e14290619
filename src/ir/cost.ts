/**
 * The cost model: multiply-accumulates and parameter bytes per node.
 *
 * MAC convention: MLPerf Tiny's (and the usual TFLite-Micro benchmark tables'): only the multiply-accumulates of
 * convolutions, depthwise convolutions, fully connected layers and matrix products count. Element-wise ops, pooling,
 * softmax, activations and data movement count 0 MACs even though they do arithmetic, so our totals agree with the
 * published figures (KWS 2,656,768, VWW 7,489,664, ResNet-8 12,501,632, AD 264,192; ../shared/docs/BASELINES.md).
 *
 * Parameter bytes: the constants a node reads (weights, bias, constant operands of element-wise ops), each counted
 * once, at its first reader, so per-layer bytes add up to the total; plus the 256-entry look-up table that an int8
 * unary op (Logistic, Tanh, HardSwish, ReLU, ...) becomes (src/quant/params.ts unaryLut, emitted by code generation).
 * Layout ops' constants describe shapes, not parameters, and are not counted.
 */
import { unaryLut, type UnaryLutNode } from '../quant/params.js';
import { elementCount, isConstant, tensorOf } from './graph.js';
import type { Graph, Node, OpKind } from './types.js';

export interface LayerCost {
  name: string;
  op: OpKind;
  outputShape: number[];
  macs: number;
  paramBytes: number;
}

export interface GraphCost {
  layers: LayerCost[];
  macs: number;
  paramBytes: number;
}

const LAYOUT_OPS: ReadonlySet<OpKind> = new Set(['Reshape', 'Transpose', 'Pad']);
const LUT_OPS: ReadonlySet<OpKind> = new Set(['Logistic', 'Tanh', 'HardSwish', 'Neg', 'Relu', 'Relu6', 'LeakyRelu']);

export function graphCost(graph: Graph): GraphCost {
  const counted = new Set<string>();
  const layers = graph.nodes.map((node): LayerCost => {
    const output = graph.tensors.get(node.outputs[0] ?? '');
    return {
      name: node.name,
      op: node.op,
      outputShape: output ? [...output.shape] : [],
      macs: nodeMacs(graph, node),
      paramBytes: nodeParamBytes(graph, node, counted),
    };
  });
  return {
    layers,
    macs: layers.reduce((sum, layer) => sum + layer.macs, 0),
    paramBytes: layers.reduce((sum, layer) => sum + layer.paramBytes, 0),
  };
}

/** Multiply-accumulates of one run of `node` (see the convention above). */
export function nodeMacs(graph: Graph, node: Node): number {
  const shapeOf = (name: string | undefined) => tensorOf(graph, name ?? '').shape;
  switch (node.op) {
    case 'Conv2D': {
      // Each output element: kh * kw * (Cin / groups) products; weights are [Cout, kh, kw, Cin / groups].
      const [, kh, kw, inputChannelsPerGroup] = shapeOf(node.inputs[1]);
      return elementCount(shapeOf(node.outputs[0])) * kh! * kw! * inputChannelsPerGroup!;
    }
    case 'DepthwiseConv2D': {
      // Each output element (out_h * out_w * C * M of them): kh * kw products; weights are [1, kh, kw, C * M].
      const [, kh, kw] = shapeOf(node.inputs[1]);
      return elementCount(shapeOf(node.outputs[0])) * kh! * kw!;
    }
    case 'FullyConnected': {
      // batch * Cout outputs of Cin products each; weights are [Cout, Cin].
      const [, inputChannels] = shapeOf(node.inputs[1]);
      return elementCount(shapeOf(node.outputs[0])) * inputChannels!;
    }
    case 'BatchMatMul': {
      // [..., M, K] x [..., K, N]: each of the ... * M * N outputs takes K products.
      const a = shapeOf(node.inputs[0]);
      return elementCount(shapeOf(node.outputs[0])) * a[a.length - 1]!;
    }
    default:
      return 0;
  }
}

/**
 * Bytes of the constants `node` reads that no earlier node read (`counted` holds those already counted), plus its
 * look-up table if it is one.
 */
function nodeParamBytes(graph: Graph, node: Node, counted: Set<string>): number {
  if (LAYOUT_OPS.has(node.op)) return 0;
  const isTable = LUT_OPS.has(node.op) && tensorOf(graph, node.inputs[0] ?? '').dtype === 'int8';
  let bytes = isTable ? unaryLut(graph, node as UnaryLutNode).byteLength : 0;
  for (const name of node.inputs) {
    if (!name || counted.has(name)) continue;
    const tensor = tensorOf(graph, name);
    if (!isConstant(tensor)) continue;
    counted.add(name);
    bytes += tensor.data!.byteLength;
  }
  return bytes;
}
