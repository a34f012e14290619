/**
 * Small hand-built graphs for kernel tests: one node, its tensors, the graph inputs being the non-constant inputs.
 */
import type { DataType, Graph, Node, Quantization, Tensor, TensorData } from '../../src/ir/types.js';

export function q(scale: number | number[], zeroPoint: number | number[] = 0, axis = 0): Quantization {
  const scales = (Array.isArray(scale) ? scale : [scale]).map(Math.fround);
  const zeroPoints = Array.isArray(zeroPoint) ? zeroPoint : [zeroPoint];
  return { scale: scales, zeroPoint: zeroPoints, axis };
}

export function tensor(name: string, shape: number[], dtype: DataType, quant?: Quantization, data?: TensorData): Tensor {
  return { name, shape, dtype, ...(quant ? { quant } : {}), ...(data ? { data } : {}) };
}

/** A graph around `node`: every tensor listed, graph inputs = tensors without data that the node reads. */
export function singleNodeGraph(node: Node, tensors: Tensor[]): Graph {
  const map = new Map(tensors.map((t) => [t.name, t]));
  const inputs = node.inputs.filter((n) => n && !map.get(n)!.data);
  return {
    name: `test_${node.op}`,
    format: 'tflite',
    tensors: map,
    nodes: [node],
    inputs: inputs.map((n) => ({ tensor: n, externalDtype: map.get(n)!.dtype, name: n })),
    outputs: node.outputs.map((n) => ({ tensor: n, externalDtype: map.get(n)!.dtype, name: n })),
    unsupported: [],
  };
}

export const noClamp = { min: -128, max: 127 };
export const noPadding = { top: 0, bottom: 0, left: 0, right: 0 };

/** Deterministic pseudo-random int8 data (a 32-bit LCG), so tests are reproducible. */
export function randomInt8(count: number, seed: number, min = -128, max = 127): Int8Array {
  const out = new Int8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = min + (s % (max - min + 1));
  }
  return out;
}

export function randomInt32(count: number, seed: number, min: number, max: number): Int32Array {
  const out = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = min + Math.floor((s / 4294967296) * (max - min + 1));
  }
  return out;
}

/** MultiplyByQuantizedMultiplier from its definition with BigInt (64-bit products, C int32 wrap on the left shift). */
export function mbqmBigInt(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = BigInt.asIntN(32, BigInt(x) << BigInt(left));
  let high: bigint;
  if (shifted === -(2n ** 31n) && multiplier === -(2 ** 31)) {
    high = 2n ** 31n - 1n;
  } else {
    const ab = shifted * BigInt(multiplier);
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    high = (ab + nudge) / (1n << 31n);
  }
  const mask = (1n << BigInt(right)) - 1n;
  const remainder = high & mask;
  const threshold = (mask >> 1n) + (high < 0n ? 1n : 0n);
  return Number((high >> BigInt(right)) + (remainder > threshold ? 1n : 0n));
}
