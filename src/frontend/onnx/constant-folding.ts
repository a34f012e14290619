/**
 * Folding of constant subgraphs at import: Shape of a tensor of known shape, and data movement (Gather, Unsqueeze,
 * Squeeze, Concat, Reshape, Flatten, Cast to an integer type) of constants. PyTorch exports compute Reshape targets
 * this way (x.view(x.size(0), -1) -> Shape -> Gather -> Unsqueeze -> Concat -> Reshape); after folding, the
 * Reshape sees a constant shape.
 */
import { NodeError } from '../../errors.js';
import type { ConversionContext } from './context.js';
import { shapeOf } from './constants.js';
import type { OnnxNode } from './model.js';
import { OnnxDataType } from './proto.js';
import { dequantizedOperand } from './qdq.js';
import { reshapeTarget, RESHAPING_OPS } from './shape-ops.js';
import type { OnnxArray, OnnxTensorValue } from './tensor-proto.js';

const FOLDABLE = new Set(['Shape', 'Gather', 'Concat', 'Cast', ...RESHAPING_OPS]);

/** Fold `node` into a constant if it can be; returns whether it did. */
export function foldConstantNode(ctx: ConversionContext, node: OnnxNode): boolean {
  if (node.domain !== '' || !FOLDABLE.has(node.opType) || node.outputs.length !== 1) return false;
  const output = node.outputs[0]!;
  if (node.opType === 'Shape') {
    const input = node.inputs[0]!;
    const shape = shapeOf(ctx, input) ?? shapeOfDequantized(ctx, input);
    if (!shape) return false;
    const rank = shape.length;
    const clampIndex = (i: number): number => Math.min(rank, Math.max(0, i < 0 ? i + rank : i));
    const start = clampIndex(node.attrs.int('start', 0));
    const end = clampIndex(node.attrs.int('end', rank));
    const dims = shape.slice(start, end);
    ctx.addDerivedConstant({ name: output, dataType: OnnxDataType.INT64, dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) });
    return true;
  }
  const data = ctx.constant(node.inputs[0] ?? '');
  // Only constants that are not also run-time values, and only the data input of the reshaping ops.
  if (!data || ctx.has(node.inputs[0]!)) return false;
  if (node.opType === 'Concat' && !node.inputs.every((name) => ctx.constant(name) && !ctx.has(name))) return false;
  if (node.opType === 'Gather' && !ctx.constant(node.inputs[1] ?? '')) return false;

  switch (node.opType) {
    case 'Gather':
      ctx.addDerivedConstant({ ...gather(node, data, ctx.constant(node.inputs[1]!)!), name: output });
      return true;
    case 'Concat':
      ctx.addDerivedConstant({ ...concat(node, node.inputs.map((name) => ctx.constant(name)!)), name: output });
      return true;
    case 'Cast': {
      const to = node.attrs.int('to');
      if (to !== OnnxDataType.INT64 && to !== OnnxDataType.INT32) return false;
      const values = Array.from(data.data as ArrayLike<number | bigint>, (v) => Math.trunc(Number(v)));
      const cast = to === OnnxDataType.INT64 ? BigInt64Array.from(values.map(BigInt)) : Int32Array.from(values);
      ctx.addDerivedConstant({ name: output, dataType: to, dims: [...data.dims], data: cast });
      return true;
    }
    default: {
      // Reshape family on a constant: same data, new dims. Their shape / axes inputs must be constants too.
      if (node.inputs.slice(1).some((name) => name && !ctx.constant(name))) return false;
      const dims = reshapeTarget(ctx, node, data.dims);
      ctx.addDerivedConstant({ ...data, name: output, dims });
      return true;
    }
  }
}

function shapeOfDequantized(ctx: ConversionContext, name: string): number[] | undefined {
  const operand = dequantizedOperand(ctx, name);
  return operand ? shapeOf(ctx, operand.name) : undefined;
}

function gather(node: OnnxNode, data: OnnxTensorValue, indices: OnnxTensorValue): Omit<OnnxTensorValue, 'name'> {
  const rank = data.dims.length;
  let axis = node.attrs.int('axis', 0);
  if (axis < -rank || axis >= rank) throw new NodeError(node.name, node.opType, `axis ${axis} is out of range for a ${rank}-D input`);
  if (axis < 0) axis += rank;
  const size = data.dims[axis]!;
  const index = Array.from(indices.data as ArrayLike<number | bigint>, (v) => {
    const i = Number(v);
    if (i < -size || i >= size) throw new NodeError(node.name, node.opType, `index ${i} is out of range for size ${size}`);
    return i < 0 ? i + size : i;
  });
  const outer = data.dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = data.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new (data.data.constructor as new (n: number) => OnnxArray)(outer * index.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const i of index) {
      for (let k = 0; k < inner; k++) (out as unknown as unknown[])[o++] = (data.data as unknown as unknown[])[(a * size + i) * inner + k];
    }
  }
  return { dataType: data.dataType, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], data: out };
}

function concat(node: OnnxNode, parts: OnnxTensorValue[]): Omit<OnnxTensorValue, 'name'> {
  const first = parts[0]!;
  const rank = first.dims.length;
  let axis = node.attrs.int('axis');
  if (axis === undefined) throw new NodeError(node.name, node.opType, 'has no axis attribute');
  if (axis < -rank || axis >= rank) throw new NodeError(node.name, node.opType, `axis ${axis} is out of range for ${rank}-D inputs`);
  if (axis < 0) axis += rank;
  if (parts.some((p) => p.dataType !== first.dataType || p.dims.length !== rank)) throw new NodeError(node.name, node.opType, 'concatenates constants of different types or ranks');
  const outer = first.dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const dims = [...first.dims];
  dims[axis] = parts.reduce((n, p) => n + p.dims[axis]!, 0);
  const values: unknown[] = [];
  for (let a = 0; a < outer; a++) {
    for (const part of parts) {
      const chunk = part.data.length / outer;
      for (let k = 0; k < chunk; k++) values.push((part.data as unknown as unknown[])[a * chunk + k]);
    }
  }
  const out = new (first.data.constructor as new (n: number) => OnnxArray)(values.length);
  values.forEach((v, i) => ((out as unknown as unknown[])[i] = v));
  return { dataType: first.dataType, dims, data: out };
}
