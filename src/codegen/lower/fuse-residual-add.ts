/**
 * Residual Adds computed in the output loop of the convolution that produces one of their inputs (ResNet's
 * shortcuts): the convolution's requantized int8 value goes straight into the Add's arithmetic, which saves the
 * Add's pass over memory (a store, two loads and a store per element) and its loop.
 *
 * Code generation plans a rewritten copy of the graph in which the convolution reads the Add's other input and
 * writes the Add's output, and the Add has neither inputs nor outputs (it stays in the layer list, without code).
 * The convolution's own output tensor disappears from the plan. Parameters are still derived from the original
 * nodes, so the arithmetic is the unfused graph's, bit for bit.
 */
import { consumers, producers } from '../../ir/graph.js';
import type { Conv2DNode, ElementwiseBinaryNode, Graph, Node } from '../../ir/types.js';
import type { ResidualAdd } from './dsp/conv2d.js';
import { dspAddApplies } from './dsp/elementwise.js';

export interface FusedGraph {
  /** The graph to plan: fused convolutions read the residual and write the Add's output. */
  graph: Graph;
  /** Node index of a fused convolution -> its residual Add. */
  residuals: Map<number, ResidualAdd>;
  /** Node index of a fused Add -> the index of the convolution that computes it. */
  fusedAdds: Map<number, number>;
}

/** Fuses every Add whose later-computed input comes from a convolution `canFuse` accepts and that nothing else reads. */
export function fuseResidualAdds(graph: Graph, canFuse: (conv: Conv2DNode) => boolean): FusedGraph {
  const producedBy = producers(graph);
  const readers = consumers(graph);
  const indexOf = new Map(graph.nodes.map((node, index) => [node, index]));
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));
  const residuals = new Map<number, ResidualAdd>();
  const fusedAdds = new Map<number, number>();

  graph.nodes.forEach((node, addIndex) => {
    if ((node.op !== 'Add' && node.op !== 'Sub') || !dspAddApplies(graph, node)) return;
    const [first, second] = node.inputs as [string, string];
    if (first === second) return;
    const order = (tensor: string) => (producedBy.has(tensor) ? indexOf.get(producedBy.get(tensor)!)! : -1);
    // The input computed last: its convolution runs when the other input already exists.
    const convPort = order(first) > order(second) ? 0 : 1;
    const convOutput = node.inputs[convPort]!;
    const conv = producedBy.get(convOutput);
    if (!conv || conv.op !== 'Conv2D' || !canFuse(conv)) return;
    const convIndex = indexOf.get(conv)!;
    if (residuals.has(convIndex) || graphOutputs.has(convOutput) || readers.get(convOutput)?.length !== 1) return;
    residuals.set(convIndex, { add: node, convPort, residual: node.inputs[1 - convPort]! });
    fusedAdds.set(addIndex, convIndex);
  });

  const nodes: Node[] = graph.nodes.map((node, index) => {
    const residual = residuals.get(index);
    if (residual) {
      const conv = node as Conv2DNode;
      return { ...conv, inputs: [conv.inputs[0]!, conv.inputs[1]!, conv.inputs[2] ?? '', residual.residual], outputs: [residual.add.outputs[0]!] };
    }
    if (fusedAdds.has(index)) return { ...(node as ElementwiseBinaryNode), inputs: [], outputs: [] };
    return node;
  });
  return { graph: { ...graph, nodes }, residuals, fusedAdds };
}
