/**
 * One lowering per op family; Reshape is an alias (planned as the same storage) and needs no code. With the 'dsp'
 * ISA the DSP-extension lowering (./dsp) is tried first and the portable one takes whatever it does not cover.
 */
import { NodeError } from '../../errors.js';
import type { Graph, Node } from '../../ir/types.js';
import type { Isa } from '../isa.js';
import type { Lowering } from '../kernel-call.js';
import { lowerBatchMatMul } from './batch-matmul.js';
import { lowerConv2D } from './conv2d.js';
import { lowerConcat, lowerPad, lowerTranspose } from './data-movement.js';
import { lowerDepthwiseConv2D } from './depthwise-conv2d.js';
import { lowerForDsp } from './dsp/index.js';
import { lowerElementwise } from './elementwise.js';
import { lowerFullyConnected } from './fully-connected.js';
import { lowerMean } from './mean.js';
import { lowerPool } from './pool.js';
import { lowerDequantize, lowerQuantize } from './quantize.js';
import { lowerSoftmax } from './softmax.js';
import { lowerUnary } from './unary.js';

export interface LowerOptions {
  isa: Isa;
}

export function lowerNode(graph: Graph, node: Node, options: LowerOptions = { isa: 'portable' }): Lowering {
  if (options.isa === 'dsp') {
    const dsp = lowerForDsp(graph, node);
    if (dsp) return dsp;
  }
  switch (node.op) {
    case 'Conv2D':
      return lowerConv2D(graph, node);
    case 'DepthwiseConv2D':
      return lowerDepthwiseConv2D(graph, node);
    case 'FullyConnected':
      return lowerFullyConnected(graph, node);
    case 'BatchMatMul':
      return lowerBatchMatMul(graph, node);
    case 'Add':
    case 'Sub':
    case 'Mul':
      return lowerElementwise(graph, node);
    case 'AveragePool2D':
    case 'MaxPool2D':
      return lowerPool(graph, node);
    case 'Mean':
      return lowerMean(graph, node);
    case 'Softmax':
      return lowerSoftmax(graph, node);
    case 'Logistic':
    case 'Tanh':
    case 'HardSwish':
    case 'Neg':
    case 'Relu':
    case 'Relu6':
    case 'LeakyRelu':
      return lowerUnary(graph, node);
    case 'Quantize':
      return lowerQuantize(graph, node);
    case 'Dequantize':
      return lowerDequantize(graph, node);
    case 'Reshape':
      return { noCode: 'Reshape: the output is the input storage under another shape' };
    case 'Transpose':
      return lowerTranspose(graph, node);
    case 'Concat':
      return lowerConcat(graph, node);
    case 'Pad':
      return lowerPad(graph, node);
    case 'FloatOp':
      throw new NodeError(node.name, `FloatOp ${node.attrs.onnxOp}`, 'float operators run only in the reference interpreter; code generation needs an integer graph');
  }
}
