/**
 * fold-io-transposes (optional: optimizeGraph's `foldIoTransposes`): an ONNX import keeps NCHW at 4-D graph inputs and
 * outputs and converts to and from the IR's NHWC with a Transpose right behind the input (perm [0, 2, 3, 1]) and right
 * before the output (perm [0, 3, 1, 2]), possibly across per-tensor element-wise ops (the QDQ model's input
 * QuantizeLinear, its output DequantizeLinear). This pass removes those Transposes, makes the boundary tensors NHWC and
 * records GraphIO.layout = 'NCHW': the permutation moves to whoever feeds and reads the graph (host, device harness),
 * where it costs no arena copy and no layer on the device.
 *
 * It is off by default because it changes the graph's contract: a caller that ignores GraphIO.layout would feed NCHW
 * data to an NHWC input. The default pipeline keeps the user-facing layout and removes only Transposes that cancel
 * each other (simplify-movement).
 *
 * Why it is safe (given a caller that honours GraphIO.layout): element-wise ops with one scale and zero point compute
 * each element from the element at the same index alone, so they commute with any permutation of the elements; moving
 * the Transpose across them to the boundary and then outside the graph leaves every value the same.
 */
import type { Graph, GraphIO, Node, Tensor } from '../ir/types.js';
import { GraphEdit, type PassResult } from './graph-edit.js';

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];
const ELEMENTWISE = new Set<Node['op']>(['Quantize', 'Dequantize', 'Relu', 'Relu6', 'Neg', 'Logistic', 'Tanh', 'HardSwish', 'LeakyRelu']);

export function foldIoTransposes(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  edit.graphInputs.forEach((io, index) => foldInput(edit, io, index));
  edit.graphOutputs.forEach((io, index) => foldOutput(edit, io, index));
  return edit.result();
}

/** input -> element-wise ops -> Transpose to NHWC  =>  input (NHWC) -> element-wise ops. */
function foldInput(edit: GraphEdit, io: GraphIO, index: number): void {
  if (io.layout || !isFourD(edit.tensor(io.tensor))) return;
  const path: string[] = [io.tensor];
  for (;;) {
    const tensor = path[path.length - 1]!;
    const readers = edit.consumers(tensor);
    if (readers.length !== 1 || readers[0]!.inputs.length !== 1 || (path.length > 1 && edit.isGraphOutput(tensor))) return;
    const reader = readers[0]!;
    if (reader.op === 'Transpose' && samePerm(reader.attrs.perm, TO_NHWC)) {
      if (edit.isGraphOutput(reader.outputs[0]!)) return;
      for (const name of path) setShape(edit, name, TO_NHWC);
      edit.removeNode(reader);
      edit.renameUses(reader.outputs[0]!, tensor);
      edit.setGraphInput(index, { ...io, layout: 'NCHW' });
      edit.note(`removed Transpose '${reader.name}': input '${io.name}' is NCHW for the user, NHWC in the graph (layout recorded)`);
      return;
    }
    if (!isElementwise(edit, reader)) return;
    path.push(reader.outputs[0]!);
  }
}

/** Transpose to NCHW -> element-wise ops -> output  =>  element-wise ops -> output (NHWC). */
function foldOutput(edit: GraphEdit, io: GraphIO, index: number): void {
  if (io.layout || !isFourD(edit.tensor(io.tensor))) return;
  if (edit.graphOutputs.filter((other) => other.tensor === io.tensor).length !== 1 || edit.consumers(io.tensor).length !== 0) return;
  const path: string[] = [io.tensor];
  for (;;) {
    const tensor = path[0]!;
    const producer = edit.producer(tensor);
    if (!producer || producer.inputs.length !== 1) return;
    if (producer.op === 'Transpose' && samePerm(producer.attrs.perm, TO_NCHW)) {
      const source = producer.inputs[0]!;
      if (!edit.isInternal(source)) return;
      for (const name of path) setShape(edit, name, TO_NHWC);
      edit.removeNode(producer);
      edit.renameUses(tensor, source);
      // renameUses moved this output to the Transpose's input when nothing lay between them.
      edit.setGraphOutput(index, { ...edit.graphOutputs[index]!, layout: 'NCHW' });
      edit.note(`removed Transpose '${producer.name}': output '${io.name}' is NCHW for the user, NHWC in the graph (layout recorded)`);
      return;
    }
    if (!isElementwise(edit, producer)) return;
    const input = producer.inputs[0]!;
    if (edit.consumers(input).length !== 1 || edit.isGraphOutput(input)) return;
    path.unshift(input);
  }
}

function isElementwise(edit: GraphEdit, node: Node): boolean {
  if (!ELEMENTWISE.has(node.op) || node.outputs.length !== 1) return false;
  const input = edit.tensor(node.inputs[0]!);
  const output = edit.tensor(node.outputs[0]!);
  return isFourD(input) && isFourD(output) && perTensor(input) && perTensor(output);
}

function perTensor(tensor: Tensor): boolean {
  return !tensor.quant || tensor.quant.scale.length === 1;
}

function isFourD(tensor: Tensor): boolean {
  return tensor.shape.length === 4 && !tensor.data;
}

function setShape(edit: GraphEdit, name: string, perm: readonly number[]): void {
  const tensor = edit.tensor(name);
  edit.setTensor({ ...tensor, shape: perm.map((p) => tensor.shape[p]!) });
}

function samePerm(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
