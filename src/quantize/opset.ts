/**
 * Per-channel QuantizeLinear / DequantizeLinear (the `axis` attribute) exist from ONNX opset 13, so an older float
 * model is moved up to opset 13. Among the ops the quantizer handles, only these changed their signature between
 * opset 7 and 13, and are restated: Clip and Pad (attributes became inputs in 11), Squeeze / Unsqueeze (`axes`
 * became an input in 13), and Softmax (before 13 it normalised over the input flattened to 2-D at `axis`, from 13
 * over that one axis). A model of opset 13 or later keeps its opset.
 */
import { OnnxDataType } from '../frontend/onnx/proto.js';
import { floatAttribute, intAttribute, intsAttribute, stringAttribute, type FloatModel, type FloatNode } from './float-model.js';

export const QDQ_OPSET = 13;

/** The opset the quantized model declares. */
export function quantizedOpset(model: FloatModel): number {
  return Math.max(model.opset, QDQ_OPSET);
}

export function upgradeOpset(model: FloatModel, shapes: ReadonlyMap<string, readonly number[]>): void {
  if (model.opset >= QDQ_OPSET) return;
  for (const node of [...model.nodes]) {
    if (node.domain !== '') continue;
    if (node.opType === 'Clip' && model.opset < 11) clipBoundsToInputs(model, node);
    else if (node.opType === 'Pad' && model.opset < 11) padAttributesToInputs(model, node);
    else if (node.opType === 'Squeeze' || node.opType === 'Unsqueeze') axesToInput(model, node);
    else if (node.opType === 'Softmax') softmaxOverOneAxis(model, node, shapes);
  }
}

function clipBoundsToInputs(model: FloatModel, node: FloatNode): void {
  const bound = (name: 'min' | 'max'): string => {
    if (!node.attributes.has(name)) return '';
    return model.addConstant(`${node.name}_${name}`, [], Float32Array.of(floatAttribute(node, name, 0)));
  };
  node.inputs = [node.inputs[0]!, bound('min'), bound('max')];
  while (node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
  node.attributes.delete('min');
  node.attributes.delete('max');
}

function padAttributesToInputs(model: FloatModel, node: FloatNode): void {
  const pads = intsAttribute(node, 'pads') ?? [];
  const value = floatAttribute(node, 'value', 0);
  node.inputs = [
    node.inputs[0]!,
    model.addConstant(`${node.name}_pads`, [pads.length], BigInt64Array.from(pads.map(BigInt)), OnnxDataType.INT64),
    model.addConstant(`${node.name}_value`, [], Float32Array.of(value)),
  ];
  node.attributes.delete('pads');
  node.attributes.delete('value');
  if (stringAttribute(node, 'mode', 'constant') === 'constant') node.attributes.delete('mode');
}

function axesToInput(model: FloatModel, node: FloatNode): void {
  const axes = intsAttribute(node, 'axes');
  node.attributes.delete('axes');
  if (axes) node.inputs = [node.inputs[0]!, model.addConstant(`${node.name}_axes`, [axes.length], BigInt64Array.from(axes.map(BigInt)), OnnxDataType.INT64)];
}

/**
 * Legacy Softmax(axis) = Softmax over the last axis of the input flattened to [outer, inner] at `axis`: the same as
 * opset 13's when `axis` is the last axis, otherwise Flatten -> Softmax -> Reshape back.
 */
function softmaxOverOneAxis(model: FloatModel, node: FloatNode, shapes: ReadonlyMap<string, readonly number[]>): void {
  const shape = shapes.get(node.inputs[0]!);
  if (!shape) throw new Error(`internal: no observed shape for '${node.inputs[0]}'`);
  const rank = shape.length;
  let axis = intAttribute(node, 'axis', 1);
  if (axis < 0) axis += rank;
  node.attributes.set('axis', { int: -1 });
  if (axis === rank - 1) return;
  const flat = model.fresh(`${node.inputs[0]}_2d`);
  const soft = model.fresh(`${node.outputs[0]}_2d`);
  const flatten: FloatNode = { name: `${node.name}_to_2d`, opType: 'Flatten', domain: '', inputs: [node.inputs[0]!], outputs: [flat], attributes: new Map([['axis', { int: axis }]]) };
  const target = model.addConstant(`${node.name}_shape`, [rank], BigInt64Array.from(shape.map(BigInt)), OnnxDataType.INT64);
  const reshape: FloatNode = { name: `${node.name}_from_2d`, opType: 'Reshape', domain: '', inputs: [soft, target], outputs: [node.outputs[0]!], attributes: new Map() };
  node.inputs = [flat];
  node.outputs = [soft];
  const index = model.nodes.indexOf(node);
  model.nodes.splice(index, 1, flatten, node, reshape);
}
