/**
 * Lowerings for cores with the DSP extension. Each returns null where its kernel does not cover the node (grouped
 * convolutions, weight zero points, int32 outputs, broadcasting...): the portable lowering takes those.
 */
import type { Graph, Node } from '../../../ir/types.js';
import type { KernelCall } from '../../kernel-call.js';
import { dspConv2DApplies, lowerConv2DDsp } from './conv2d.js';
import { dspDepthwiseApplies, lowerDepthwiseConv2DDsp } from './depthwise-conv2d.js';
import { dspAddApplies, lowerAddDsp } from './elementwise.js';
import { dspFullyConnectedApplies, lowerFullyConnectedDsp } from './fully-connected.js';
import { dspAveragePoolApplies, lowerAveragePoolDsp } from './pool.js';
import { lowerSparseDsp } from './sparse.js';
import { lowerSparseConv2DDsp } from './sparse-conv2d.js';

export function lowerForDsp(graph: Graph, node: Node): KernelCall | null {
  switch (node.op) {
    case 'Conv2D':
      return lowerSparseDsp(graph, node) ?? lowerSparseConv2DDsp(graph, node) ?? (dspConv2DApplies(graph, node) ? lowerConv2DDsp(graph, node) : null);
    case 'DepthwiseConv2D':
      return dspDepthwiseApplies(graph, node) ? lowerDepthwiseConv2DDsp(graph, node) : null;
    case 'FullyConnected':
      return lowerSparseDsp(graph, node) ?? (dspFullyConnectedApplies(graph, node) ? lowerFullyConnectedDsp(graph, node) : null);
    case 'Add':
    case 'Sub':
      return dspAddApplies(graph, node) ? lowerAddDsp(graph, node) : null;
    case 'AveragePool2D':
      return dspAveragePoolApplies(graph, node) ? lowerAveragePoolDsp(graph, node) : null;
    default:
      return null;
  }
}
