/**
 * fold-movement-into-fully-connected: a FullyConnected whose input comes through a movement chain that reorders the
 * elements within each row (the ONNX NCHW Flatten: Transpose NHWC -> NCHW, then Reshape to [N, C*H*W]) reads the
 * chain's input directly, its weight columns reordered to match. Chains that keep the element order are left alone
 * (a Reshape costs nothing: code generation makes it an alias).
 *
 * Why it is safe: FullyConnected reads its input as [batches, depth] rows whatever its shape, and each output is
 * sum_j w[o][j] * (row[j] - Z) + bias in int32. With row[j] = X-row[p[j]] (the same p for every row, checked on the
 * chain's element map), giving column p[j] the weight w[o][j] makes every product the same pair of integers; the
 * wrapping int32 sum does not depend on their order. keepNumDims must be off (the output shape then does not depend on
 * the input's shape).
 */
import type { FullyConnectedNode, Graph } from '../ir/types.js';
import { gatherTensor, inversePermutation, placeConstant } from './channels.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { elementSources, isIdentity, movementChains, rowPermutation } from './movement-chains.js';

export function foldMovementIntoFullyConnected(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  for (const chain of movementChains(graph)) {
    const x = graph.tensors.get(chain.input)!;
    const y = graph.tensors.get(chain.output)!;
    if (!sameQuantization(x, y) || x.dtype !== y.dtype) continue;
    const readers = edit.consumers(chain.output);
    const sources = elementSources(graph, chain);
    if (isIdentity(sources)) continue;
    for (const reader of readers) {
      if (reader.op !== 'FullyConnected' || reader.attrs.keepNumDims || reader.inputs[0] !== chain.output) continue;
      const weights = edit.tensor(reader.inputs[1]!);
      const perm = rowPermutation(sources, weights.shape[1]!);
      if (!perm) continue;
      const reordered = gatherTensor(weights, 1, inversePermutation(perm));
      const inputs = [chain.input, placeConstant(edit, reader, 1, reordered, `${reader.name}_weights`), ...reader.inputs.slice(2)];
      edit.replaceNode(reader, { ...reader, inputs } as FullyConnectedNode);
      edit.note(`folded ${chain.nodes.map((n) => `${n.op} '${n.name}'`).join(', ')} into the weight columns of FullyConnected '${reader.name}'`);
    }
    if (edit.consumers(chain.output).length === 0 && !edit.isGraphOutput(chain.output)) for (const node of chain.nodes) edit.removeNode(node);
  }
  return edit.result();
}
