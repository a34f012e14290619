/** The output shapes of ONNX's pure reshaping ops (Reshape, Flatten, Squeeze, Unsqueeze): all become IR Reshape. */
import { NodeError } from '../../errors.js';
import { resolveReshape } from '../../ir/shapes.js';
import type { ConversionContext } from './context.js';
import { intsInput } from './constants.js';
import type { OnnxNode } from './model.js';

export const RESHAPING_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

export function reshapeTarget(ctx: ConversionContext, node: OnnxNode, input: readonly number[]): number[] {
  const rank = input.length;
  const fail = (detail: string): never => {
    throw new NodeError(node.name, node.opType, detail);
  };
  const newAxes = (): number[] | undefined => (ctx.model.opset() >= 13 ? intsInput(ctx, node, 1, 'axes') : node.attrs.ints('axes'));
  switch (node.opType) {
    case 'Reshape': {
      const requested = intsInput(ctx, node, 1, 'shape') ?? node.attrs.ints('shape');
      if (!requested) return fail('has no shape');
      const allowZero = node.attrs.int('allowzero', 0) !== 0;
      const target = requested.map((d, i) => (d === 0 && !allowZero ? (input[i] ?? fail(`shape [${requested.join(', ')}] copies dimension ${i} of a ${rank}-D input`)) : d));
      return resolveReshape(input, target) ?? fail(`cannot reshape [${input.join(', ')}] to [${requested.join(', ')}]`);
    }
    case 'Flatten': {
      let axis = node.attrs.int('axis', 1);
      if (axis < -rank || axis > rank) fail(`axis ${axis} is out of range for a ${rank}-D input`);
      if (axis < 0) axis += rank;
      const outer = input.slice(0, axis).reduce((a, b) => a * b, 1);
      return [outer, input.slice(axis).reduce((a, b) => a * b, 1)];
    }
    case 'Squeeze': {
      const axes = newAxes()?.map((a) => (a < 0 ? a + rank : a));
      if (axes?.some((a) => a < 0 || a >= rank || input[a] !== 1)) fail(`cannot squeeze axes [${axes!.join(', ')}] of [${input.join(', ')}]`);
      return input.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    }
    case 'Unsqueeze': {
      const given = newAxes();
      if (!given) return fail('has no axes');
      const outRank = rank + given.length;
      const axes = given.map((a) => (a < 0 ? a + outRank : a));
      if (axes.some((a) => a < 0 || a >= outRank) || new Set(axes).size !== axes.length) fail(`invalid axes [${given.join(', ')}]`);
      const out: number[] = [];
      let next = 0;
      for (let i = 0; i < outRank; i++) out.push(axes.includes(i) ? 1 : input[next++]!);
      return out;
    }
    default:
      return fail('is not a reshaping op');
  }
}
