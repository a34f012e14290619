/**
 * The builtin options tables of the imported ops, read with their schema defaults (an operator without options gets
 * every default, as TFLite's parser gives it). Pairs are [height, width].
 */
import type { TableView } from './flatbuffer.js';
import { InvalidNode } from './ops/context.js';
import type { PaddingMode } from './padding.js';
import {
  Activation,
  ArithmeticOptionsField,
  BatchMatMulOptionsField,
  ConcatenationOptionsField,
  Conv2DOptionsField,
  DepthwiseConv2DOptionsField,
  FullyConnectedOptionsField,
  LeakyReluOptionsField,
  Padding,
  Pool2DOptionsField,
  ReducerOptionsField,
  SoftmaxOptionsField,
  WeightsFormat,
} from './schema.js';

type OptionsTable = Pick<TableView, 'int8' | 'uint8' | 'int32' | 'bool' | 'float32'>;

/** What an absent options table reads as: every field at its default. */
const DEFAULTS: OptionsTable = {
  int8: (_id, fallback = 0) => fallback,
  uint8: (_id, fallback = 0) => fallback,
  int32: (_id, fallback = 0) => fallback,
  bool: (_id, fallback = false) => fallback,
  float32: (_id, fallback = 0) => fallback,
};

function paddingMode(value: number): PaddingMode {
  if (value === Padding.SAME) return 'SAME';
  if (value === Padding.VALID) return 'VALID';
  throw new InvalidNode(`unknown padding type ${value}`);
}

export interface ConvOptions {
  padding: PaddingMode;
  stride: [number, number];
  dilation: [number, number];
  activation: number;
}

export function conv2DOptions(table: TableView | null): ConvOptions {
  const o = table ?? DEFAULTS;
  const F = Conv2DOptionsField;
  return {
    padding: paddingMode(o.int8(F.padding)),
    stride: [o.int32(F.strideH), o.int32(F.strideW)],
    dilation: [o.int32(F.dilationHFactor, 1), o.int32(F.dilationWFactor, 1)],
    activation: o.int8(F.fusedActivationFunction, Activation.NONE),
  };
}

export interface DepthwiseConvOptions extends ConvOptions {
  /** Redundant with the weights' shape since DepthwiseConv version 2; 0 when not written. */
  depthMultiplier: number;
}

export function depthwiseConv2DOptions(table: TableView | null): DepthwiseConvOptions {
  const o = table ?? DEFAULTS;
  const F = DepthwiseConv2DOptionsField;
  return {
    padding: paddingMode(o.int8(F.padding)),
    stride: [o.int32(F.strideH), o.int32(F.strideW)],
    dilation: [o.int32(F.dilationHFactor, 1), o.int32(F.dilationWFactor, 1)],
    depthMultiplier: o.int32(F.depthMultiplier),
    activation: o.int8(F.fusedActivationFunction, Activation.NONE),
  };
}

export interface PoolOptions {
  padding: PaddingMode;
  stride: [number, number];
  filter: [number, number];
  activation: number;
}

export function pool2DOptions(table: TableView | null): PoolOptions {
  const o = table ?? DEFAULTS;
  const F = Pool2DOptionsField;
  return {
    padding: paddingMode(o.int8(F.padding)),
    stride: [o.int32(F.strideH), o.int32(F.strideW)],
    filter: [o.int32(F.filterHeight), o.int32(F.filterWidth)],
    activation: o.int8(F.fusedActivationFunction, Activation.NONE),
  };
}

export interface FullyConnectedOptions {
  activation: number;
  /** False for anything but the plain [Cout, Cin] layout (SHUFFLED4x16INT8). */
  plainWeights: boolean;
  keepNumDims: boolean;
}

export function fullyConnectedOptions(table: TableView | null): FullyConnectedOptions {
  const o = table ?? DEFAULTS;
  const F = FullyConnectedOptionsField;
  return {
    activation: o.int8(F.fusedActivationFunction, Activation.NONE),
    plainWeights: o.int8(F.weightsFormat, WeightsFormat.DEFAULT) === WeightsFormat.DEFAULT,
    keepNumDims: o.bool(F.keepNumDims),
  };
}

/** ADD, SUB and MUL: only the fused activation matters for int8. */
export function arithmeticActivation(table: TableView | null): number {
  return (table ?? DEFAULTS).int8(ArithmeticOptionsField.fusedActivationFunction, Activation.NONE);
}

export function softmaxBeta(table: TableView | null): number {
  return (table ?? DEFAULTS).float32(SoftmaxOptionsField.beta);
}

export function concatenationOptions(table: TableView | null): { axis: number; activation: number } {
  const o = table ?? DEFAULTS;
  return {
    axis: o.int32(ConcatenationOptionsField.axis),
    activation: o.int8(ConcatenationOptionsField.fusedActivationFunction, Activation.NONE),
  };
}

export function reducerKeepDims(table: TableView | null): boolean {
  return (table ?? DEFAULTS).bool(ReducerOptionsField.keepDims);
}

export function leakyReluAlpha(table: TableView | null): number {
  return (table ?? DEFAULTS).float32(LeakyReluOptionsField.alpha);
}

export function batchMatMulAdjoints(table: TableView | null): { adjX: boolean; adjY: boolean } {
  const o = table ?? DEFAULTS;
  return { adjX: o.bool(BatchMatMulOptionsField.adjX), adjY: o.bool(BatchMatMulOptionsField.adjY) };
}
