import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { DataType, Graph, ModelFormat, Tensor } from '../../src/ir/types.js';
import { toNumbers } from '../../src/io/ndarray.js';
import { boundarySpec, inputToIR, outputFromIR, quantize } from '../../src/io/tensors.js';

/** A graph with one quantized input and output and no nodes: the boundary is all these tests look at. */
function boundaryGraph(format: ModelFormat, externalDtype: DataType, quant = { scale: [0.5], zeroPoint: [-3], axis: 0 }): Graph {
  const tensor = (name: string): Tensor => ({ name, shape: [1, 2, 2], dtype: 'int8', quant });
  return {
    name: 'boundary',
    format,
    tensors: new Map([
      ['x', tensor('x')],
      ['y', tensor('y')],
    ]),
    nodes: [],
    inputs: [{ tensor: 'x', externalDtype, name: 'pixels' }],
    outputs: [{ tensor: 'y', externalDtype, name: 'scores' }],
    unsupported: [],
  };
}

describe('boundarySpec', () => {
  it('shows a uint8 boundary with its uint8 zero point', () => {
    const graph = boundaryGraph('tflite', 'uint8');
    expect(boundarySpec(graph, graph.inputs[0]!)).toEqual({ name: 'pixels', shape: [1, 2, 2], dtype: 'uint8', scale: 0.5, zeroPoint: 125 });
  });
  it('keeps an int8 zero point as it is', () => {
    const graph = boundaryGraph('tflite', 'int8');
    expect(boundarySpec(graph, graph.outputs[0]!).zeroPoint).toBe(-3);
  });
});

describe('inputToIR', () => {
  it('passes int8 through for an int8 input', () => {
    const graph = boundaryGraph('tflite', 'int8');
    const data = inputToIR(graph, graph.inputs[0]!, { dtype: 'int8', shape: [4], data: Int8Array.from([-128, 0, 1, 127]) }, 'x.npy');
    expect(data).toEqual(Int8Array.from([-128, 0, 1, 127]));
  });

  it('shifts uint8 by 128 into the int8 IR, and back on output', () => {
    const graph = boundaryGraph('onnx-qoperator', 'uint8');
    const ir = inputToIR(graph, graph.inputs[0]!, { dtype: 'uint8', shape: [2, 2], data: Uint8Array.from([0, 127, 128, 255]) }, 'x.bin');
    expect(ir).toEqual(Int8Array.from([-128, -1, 0, 127]));
    const out = outputFromIR(graph, graph.outputs[0]!, ir);
    expect(out).toEqual({ dtype: 'uint8', shape: [1, 2, 2], data: Uint8Array.from([0, 127, 128, 255]) });
  });

  it('quantizes float32 half away from zero for TFLite and half to even for ONNX', () => {
    // x / 0.5 = 0.5, 1.5, -0.5, 2.5: exact ties, so the two conventions differ on three of four.
    const floats = { dtype: 'float32' as const, shape: [4], data: Float32Array.from([0.25, 0.75, -0.25, 1.25]) };
    const tflite = boundaryGraph('tflite', 'int8');
    const onnx = boundaryGraph('onnx-qdq', 'int8');
    expect(inputToIR(tflite, tflite.inputs[0]!, floats, 'f.npy')).toEqual(Int8Array.from([1 - 3, 2 - 3, -1 - 3, 3 - 3]));
    expect(inputToIR(onnx, onnx.inputs[0]!, floats, 'f.npy')).toEqual(Int8Array.from([0 - 3, 2 - 3, 0 - 3, 2 - 3]));
  });

  it('quantizes float32 for a uint8 input into the int8 IR (same real values)', () => {
    const graph = boundaryGraph('onnx-qoperator', 'uint8', { scale: [0.1], zeroPoint: [0], axis: 0 });
    const floats = { dtype: 'float32' as const, shape: [4], data: Float32Array.from([0, 1, -100, 100]) };
    // zero point 0 in int8 is 128 in uint8; saturates at the int8 range.
    expect(inputToIR(graph, graph.inputs[0]!, floats, 'f.json')).toEqual(Int8Array.from([0, 10, -128, 127]));
  });

  it('rejects the wrong element count, naming input, expected type and what was given', () => {
    const graph = boundaryGraph('tflite', 'int8');
    const given = { dtype: 'int8' as const, shape: [5], data: new Int8Array(5) };
    expect(() => inputToIR(graph, graph.inputs[0]!, given, 'x.npy')).toThrow(InputError);
    expect(() => inputToIR(graph, graph.inputs[0]!, given, 'x.npy')).toThrow(
      "input 'pixels' expects int8[1,2,2] (4 values); x.npy holds int8[5] (5 values)",
    );
  });

  it('rejects int8 data for a uint8 input rather than guessing', () => {
    const graph = boundaryGraph('tflite', 'uint8');
    const given = { dtype: 'int8' as const, shape: [1, 2, 2], data: new Int8Array(4) };
    expect(() => inputToIR(graph, graph.inputs[0]!, given, 'x.npy')).toThrow(
      "input 'pixels' expects uint8[1,2,2] (or float32, to be quantized); x.npy holds int8[1,2,2] (4 values)",
    );
  });
});

describe('outputFromIR', () => {
  it('dequantizes an int8 IR output whose boundary is float32', () => {
    const graph = boundaryGraph('tflite', 'float32');
    const out = outputFromIR(graph, graph.outputs[0]!, Int8Array.from([-3, -1, 0, 127]));
    expect(out.dtype).toBe('float32');
    expect(toNumbers(out.data)).toEqual([0, 1, 1.5, 65]);
  });
});

describe('quantize', () => {
  it('clamps to the dtype range', () => {
    expect(quantize(Float32Array.from([1e9, -1e9]), 'int8', 1, 0, 'half-away')).toEqual(Int8Array.from([127, -128]));
  });
});
