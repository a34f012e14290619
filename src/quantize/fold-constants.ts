/**
 * Data movement applied to constants is done once, here: a Reshape / Flatten / Squeeze / Unsqueeze / Transpose /
 * Identity whose inputs are all constants becomes a constant. Exporters leave such nodes in front of weights (the
 * ONNX model zoo MNIST reshapes its MatMul weights at run time), and a weight must be a constant to be quantized.
 */
import { NodeError } from '../errors.js';
import { stridesOf } from '../ir/graph.js';
import { constantNumbers, intAttribute, intsAttribute, type FloatModel, type FloatNode } from './float-model.js';
import type { OnnxTensorValue } from '../frontend/onnx/tensor-proto.js';

const FOLDABLE = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity']);

export function foldConstantMovement(model: FloatModel): void {
  for (const node of [...model.nodes]) {
    if (!FOLDABLE.has(node.opType) || node.domain !== '') continue;
    const data = model.constant(node.inputs[0] ?? '');
    const output = node.outputs[0]!;
    if (!data || model.isGraphOutput(output)) continue;
    if (!node.inputs.slice(1).every((input) => !input || model.constant(input))) continue;
    const folded = node.opType === 'Transpose' ? transposeConstant(node, data) : { ...data, dims: movedDims(model, node, data.dims) };
    model.constants.set(output, { ...folded, name: output });
    model.remove(node);
  }
}

/** The output dims of a reshaping op (Reshape, Flatten, Squeeze, Unsqueeze, Identity) on `input` dims. */
export function movedDims(model: FloatModel, node: FloatNode, input: readonly number[]): number[] {
  const fail = (detail: string): never => {
    throw new NodeError(node.name, node.opType, detail);
  };
  const rank = input.length;
  const axesOf = (): number[] | undefined => {
    const fromInput = model.constant(node.inputs[1] ?? '');
    return fromInput ? constantNumbers(fromInput) : intsAttribute(node, 'axes');
  };
  switch (node.opType) {
    case 'Identity':
      return [...input];
    case 'Reshape': {
      const requested = model.constant(node.inputs[1] ?? '');
      if (!requested) return fail('has no constant shape');
      const allowZero = intAttribute(node, 'allowzero', 0) !== 0;
      const target = constantNumbers(requested).map((d, i) => (d === 0 && !allowZero ? input[i]! : d));
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const total = input.reduce((a, b) => a * b, 1);
      return target.map((d) => (d === -1 ? total / known : d));
    }
    case 'Flatten': {
      let axis = intAttribute(node, 'axis', 1);
      if (axis < 0) axis += rank;
      return [input.slice(0, axis).reduce((a, b) => a * b, 1), input.slice(axis).reduce((a, b) => a * b, 1)];
    }
    case 'Squeeze': {
      const axes = axesOf()?.map((a) => (a < 0 ? a + rank : a));
      return input.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    }
    case 'Unsqueeze': {
      const given = axesOf() ?? fail('has no axes');
      const outRank = rank + given.length;
      const axes = given.map((a) => (a < 0 ? a + outRank : a));
      const out: number[] = [];
      let next = 0;
      for (let i = 0; i < outRank; i++) out.push(axes.includes(i) ? 1 : input[next++]!);
      return out;
    }
    default:
      return fail('is not a reshaping op');
  }
}

function transposeConstant(node: FloatNode, value: OnnxTensorValue): OnnxTensorValue {
  const dims = value.dims;
  const perm = intsAttribute(node, 'perm') ?? dims.map((_, i) => dims.length - 1 - i);
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = stridesOf(dims);
  const outStrides = stridesOf(outDims);
  const data = new (value.data.constructor as new (length: number) => typeof value.data)(value.data.length);
  for (let out = 0; out < data.length; out++) {
    let source = 0;
    for (let axis = 0; axis < outDims.length; axis++) source += (Math.floor(out / outStrides[axis]!) % outDims[axis]!) * inStrides[perm[axis]!]!;
    (data as unknown as number[])[out] = (value.data as unknown as number[])[source]!;
  }
  return { ...value, dims: outDims, data };
}

