/**
 * What an op importer sees of one TFLite operator (its tensors as IR tensors, its options) and the two ways it can
 * decline: Unsupported (a valid operator tinyedge cannot run: collected, so that all are listed at once) and
 * InvalidNode (the operator breaks TFLite's own rules: the import stops there).
 */
import type { Node, Tensor } from '../../../ir/types.js';
import type { TableView } from '../flatbuffer.js';
import type { TfliteOperator } from '../model.js';
import { BuiltinOptions, type BuiltinOptionsName } from '../schema.js';
import type { ImportedTensors } from '../tensors.js';

export class Unsupported extends Error {}
export class InvalidNode extends Error {}

export type OpImporter = (context: OperatorContext) => Node;

export class OperatorContext {
  constructor(
    readonly operator: TfliteOperator,
    /** The node's name in the graph. */
    readonly name: string,
    private readonly tensors: ImportedTensors,
  ) {}

  /** Tensor names of the inputs, '' for an absent optional input. */
  get inputNames(): string[] {
    return this.operator.inputs.map((index) => (index < 0 ? '' : this.tensorAt(index).name));
  }

  input(position: number, role: string): Tensor {
    const tensor = this.optionalInput(position);
    if (!tensor) throw new InvalidNode(`has no ${role} (input ${position})`);
    return tensor;
  }

  optionalInput(position: number): Tensor | undefined {
    const index = this.operator.inputs[position];
    return index === undefined || index < 0 ? undefined : this.tensorAt(index);
  }

  output(position = 0): Tensor {
    const index = this.operator.outputs[position];
    if (index === undefined) throw new InvalidNode(`has no output ${position}`);
    return this.tensorAt(index);
  }

  /** Whether input `position` is written at run time (a graph input or another operator's output). */
  isRuntimeInput(position: number): boolean {
    const index = this.operator.inputs[position];
    return index !== undefined && index >= 0 && this.tensors.runtime.has(index);
  }

  /** The operator's options table, checked to be the kind its op takes; null when the operator has none. */
  options(kind: BuiltinOptionsName): TableView | null {
    const { optionsType, options } = this.operator;
    if (optionsType === 0) return null;
    if (optionsType !== BuiltinOptions[kind]) {
      throw new InvalidNode(`carries builtin options of union type ${optionsType}, expected ${kind}`);
    }
    return options;
  }

  private tensorAt(index: number): Tensor {
    const tensor = this.tensors.byIndex[index];
    if (!tensor) throw new Unsupported(this.tensors.problems.get(index) ?? `tensor ${index} could not be imported`);
    return tensor;
  }
}

/** An int8 activation with one scale and zero point: what every integer kernel reads and writes. */
export function requireInt8Activation(tensor: Tensor, role: string): Tensor {
  if (tensor.dtype !== 'int8' || !tensor.quant) {
    const what = tensor.quant ? tensor.dtype : `${tensor.dtype} without quantization`;
    throw new Unsupported(`${role} '${tensor.name}' is ${what}; tinyedge imports int8-quantized ops`);
  }
  if (tensor.quant.scale.length !== 1) {
    throw new InvalidNode(`${role} '${tensor.name}' is quantized per channel; activations take one scale`);
  }
  return tensor;
}

/** int8 weights known at compile time, with one scale or one scale per channel of `channelAxis`. */
export function requireInt8Weights(tensor: Tensor, role: string, rank: number, channelAxis: number): Tensor {
  if (tensor.dtype !== 'int8' || !tensor.quant) {
    const what = tensor.quant ? tensor.dtype : `${tensor.dtype} without quantization`;
    throw new Unsupported(`${role} '${tensor.name}' is ${what}; tinyedge imports int8-quantized ops`);
  }
  if (!tensor.data) throw new Unsupported(`${role} '${tensor.name}' is computed at run time; tinyedge needs constants`);
  requireRank(tensor, rank, role);
  const scales = tensor.quant.scale.length;
  if (scales !== 1 && tensor.quant.axis !== channelAxis) {
    throw new InvalidNode(
      `${role} '${tensor.name}' is quantized along dimension ${tensor.quant.axis}, expected ${channelAxis}`,
    );
  }
  return tensor;
}

/** An int32 bias of `channels` values (int64 biases belong to 16-bit activations). */
export function requireBias(tensor: Tensor | undefined, channels: number): void {
  if (!tensor) return;
  if (tensor.dtype !== 'int32') {
    throw new Unsupported(`bias '${tensor.name}' is ${tensor.dtype}; tinyedge imports int32 biases`);
  }
  if (tensor.shape.length !== 1 || tensor.shape[0] !== channels) {
    throw new InvalidNode(`bias '${tensor.name}' has shape [${tensor.shape.join(', ')}], expected [${channels}]`);
  }
}

export function requireRank(tensor: Tensor, rank: number, role: string): void {
  if (tensor.shape.length !== rank) {
    throw new InvalidNode(`${role} '${tensor.name}' has shape [${tensor.shape.join(', ')}], expected rank ${rank}`);
  }
}

/** [x, weights, bias] of a conv or fully connected operator, the bias '' when absent. */
export function withOptionalBias(inputs: string[]): string[] {
  return [inputs[0]!, inputs[1]!, inputs[2] ?? ''];
}

/** The integer values of a constant tensor (axes, permutations, paddings). */
export function constantIntegers(tensor: Tensor, role: string): number[] {
  if (!tensor.data) throw new Unsupported(`${role} '${tensor.name}' is computed at run time; tinyedge needs constants`);
  if (tensor.dtype !== 'int32' && tensor.dtype !== 'int64') {
    throw new InvalidNode(`${role} '${tensor.name}' is ${tensor.dtype}, expected int32 or int64`);
  }
  return Array.from(tensor.data as ArrayLike<number | bigint>, (value) => Number(value));
}

/** An axis in [-rank, rank) as its non-negative position. */
export function normalizeAxis(axis: number, rank: number, role: string): number {
  if (axis < -rank || axis >= rank) throw new InvalidNode(`${role} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}
