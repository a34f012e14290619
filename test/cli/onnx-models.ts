/** Small ONNX models built in the test, for paths the shared models do not cover. */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { FLOAT, UINT8, INT8, INT32 } = onnx.TensorProto.DataType;

const constant = (name: string, dataType: number, dims: number[], values: number[]) =>
  dataType === FLOAT ? { name, dataType, dims, floatData: values } : { name, dataType, dims, int32Data: values };
const floatValue = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } },
});
const encode = (graph: onnxProto.onnx.IGraphProto) =>
  onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph })).finish();

/** QDQ around an op no importer supports (Erf): x -> Q -> DQ -> Erf -> Q -> DQ -> y, float32 [1,4]. */
export function erfModel(): Uint8Array {
  return encode({
    name: 'erf',
    initializer: [constant('s', FLOAT, [], [0.05]), constant('z', INT8, [], [0])],
    input: [floatValue('x', [1, 4])],
    output: [floatValue('y', [1, 4])],
    node: [
      { name: 'q_in', opType: 'QuantizeLinear', input: ['x', 's', 'z'], output: ['xq'] },
      { name: 'dq_in', opType: 'DequantizeLinear', input: ['xq', 's', 'z'], output: ['xf'] },
      { name: 'the_erf', opType: 'Erf', input: ['xf'], output: ['ef'] },
      { name: 'q_out', opType: 'QuantizeLinear', input: ['ef', 's', 'z'], output: ['eq'] },
      { name: 'dq_out', opType: 'DequantizeLinear', input: ['eq', 's', 'z'], output: ['y'] },
    ],
  });
}

/**
 * A QDQ 3x3 convolution with uint8 activations: float32 x [1,2,5,5] (NCHW) -> Q (scale 0.02, zero point 128) ->
 * DQ -> Conv (int8 weights, int32 bias, pads 1) -> Q (scale 0.03, zero point 100) -> DQ -> y [1,3,5,5].
 */
export function qdqConvModel(): Uint8Array {
  const weights = Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => ((i * 7) % 11) - 5);
  return encode({
    name: 'qdq_conv',
    initializer: [
      constant('x_scale', FLOAT, [], [0.02]),
      constant('x_zero', UINT8, [], [128]),
      constant('w', INT8, [3, 2, 3, 3], weights),
      constant('w_scale', FLOAT, [], [0.05]),
      constant('w_zero', INT8, [], [0]),
      constant('b', INT32, [3], [10, -20, 30]),
      constant('b_scale', FLOAT, [], [0.001]),
      constant('b_zero', INT32, [], [0]),
      constant('y_scale', FLOAT, [], [0.03]),
      constant('y_zero', UINT8, [], [100]),
    ],
    input: [floatValue('x', [1, 2, 5, 5])],
    output: [floatValue('y', [1, 3, 5, 5])],
    node: [
      { name: 'quantize_x', opType: 'QuantizeLinear', input: ['x', 'x_scale', 'x_zero'], output: ['xq'] },
      { name: 'dequantize_x', opType: 'DequantizeLinear', input: ['xq', 'x_scale', 'x_zero'], output: ['xf'] },
      { name: 'dequantize_w', opType: 'DequantizeLinear', input: ['w', 'w_scale', 'w_zero'], output: ['wf'] },
      { name: 'dequantize_b', opType: 'DequantizeLinear', input: ['b', 'b_scale', 'b_zero'], output: ['bf'] },
      {
        name: 'conv',
        opType: 'Conv',
        input: ['xf', 'wf', 'bf'],
        output: ['cf'],
        attribute: [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }],
      },
      { name: 'quantize_y', opType: 'QuantizeLinear', input: ['cf', 'y_scale', 'y_zero'], output: ['yq'] },
      { name: 'dequantize_y', opType: 'DequantizeLinear', input: ['yq', 'y_scale', 'y_zero'], output: ['y'] },
    ],
  });
}
