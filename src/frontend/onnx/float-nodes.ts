/**
 * Float ops as IR FloatOp nodes: DynamicQuantizeLinear, the float arithmetic of its expanded form, and
 * QuantizeLinear / DequantizeLinear whose parameters are computed at run time. Their tensors keep ONNX's data types
 * (a uint8 result stays uint8: it has no static quantization to express it as int8).
 */
import { NodeError } from '../../errors.js';
import type { DataType, FloatOpNode, TensorData } from '../../ir/types.js';
import { irDataType, type ConversionContext } from './context.js';
import { intsInput } from './constants.js';
import { FLOAT_OPS, floatOpOutputDtypes } from './float-ops.js';
import type { OnnxNode } from './model.js';
import { OnnxDataType, onnxDataTypeName } from './proto.js';
import { Unsupported } from './unsupported.js';

export function isFloatOp(node: OnnxNode): boolean {
  return node.domain === '' && FLOAT_OPS.has(node.opType);
}

/**
 * Convert `node` as a FloatOp. `floatInput` gives the IR tensor of an ONNX tensor in ONNX order, dequantizing
 * integer tensors where a float is expected.
 */
export function convertFloatNode(ctx: ConversionContext, node: OnnxNode, floatInput: (name: string) => string): void {
  const params: FloatOpNode['attrs']['params'] = {};
  let inputs = [...node.inputs];
  const opset = ctx.model.opset();
  switch (node.opType) {
    case 'ReduceMin':
    case 'ReduceMax':
    case 'ReduceMean':
    case 'ReduceSum': {
      params['keepdims'] = node.attrs.int('keepdims', 1);
      const axesFromInput = (node.opType === 'ReduceSum' && opset >= 13) || opset >= 18;
      const axes = axesFromInput ? intsInput(ctx, node, 1, 'axes') : node.attrs.ints('axes');
      if (axes && axes.length > 0) params['axes'] = axes;
      else if (node.attrs.int('noop_with_empty_axes', 0) !== 0) throw new Unsupported(`${node.opType} with noop_with_empty_axes`);
      inputs = inputs.slice(0, 1);
      break;
    }
    case 'Clip':
      if (opset < 11) {
        params['min'] = node.attrs.float('min', -3.4028234663852886e38);
        params['max'] = node.attrs.float('max', 3.4028234663852886e38);
      }
      break;
    case 'Cast': {
      const to = node.attrs.int('to');
      const dtype = to === undefined ? undefined : irDataType(to);
      if (!dtype) throw new Unsupported(`Cast to ${to === undefined ? 'nothing' : onnxDataTypeName(to)}`);
      params['to'] = dtype;
      break;
    }
    case 'QuantizeLinear': {
      params['axis'] = node.attrs.int('axis', 1);
      const zeroPoint = node.inputs[2];
      const zeroPointType = zeroPoint ? (ctx.constant(zeroPoint)?.dataType ?? (ctx.has(zeroPoint) ? ctx.onnxDataType(zeroPoint) : undefined)) : undefined;
      const outputType = zeroPointType ?? (node.attrs.int('output_dtype', 0) || OnnxDataType.UINT8);
      if (outputType !== OnnxDataType.UINT8 && outputType !== OnnxDataType.INT8) throw new Unsupported(`QuantizeLinear to ${onnxDataTypeName(outputType)}`);
      params['outputDtype'] = outputType === OnnxDataType.INT8 ? 'int8' : 'uint8';
      if (node.attrs.int('block_size', 0) > 0) throw new Unsupported('blocked quantization (block_size)');
      break;
    }
    case 'DequantizeLinear':
      params['axis'] = node.attrs.int('axis', 1);
      if (node.attrs.int('block_size', 0) > 0) throw new Unsupported('blocked quantization (block_size)');
      break;
    default:
      break;
  }
  const irInputs = inputs.map((name) => (name ? rawInput(ctx, node, name, floatInput) : ''));
  while (irInputs.length > 1 && irInputs[irInputs.length - 1] === '') irInputs.pop();
  const ir: FloatOpNode = { op: 'FloatOp', name: node.name, inputs: irInputs, outputs: [], attrs: { onnxOp: node.opType, params } };
  const dtypes = floatOpOutputDtypes(ir, irInputs.map((name) => (name ? ctx.tensor(name).dtype : undefined)));
  ctx.emit(
    ir,
    node.outputs.map((name, i) => ({ onnx: name, layout: 'onnx', dtype: dtypes[i] ?? 'float32' })),
  );
}

/** An input as ONNX has it: constants in their own type, activations through `floatInput`. */
function rawInput(ctx: ConversionContext, node: OnnxNode, name: string, floatInput: (name: string) => string): string {
  if (ctx.has(name)) {
    const irName = ctx.inLayout(name, 'onnx');
    const tensor = ctx.tensor(irName);
    if (tensor.quant) throw new Unsupported(`float op on the quantized tensor '${name}'`);
    return irName;
  }
  const constant = ctx.constant(name);
  if (!constant) return floatInput(name);
  const dtype = irDataType(constant.dataType === OnnxDataType.DOUBLE ? OnnxDataType.FLOAT : constant.dataType);
  if (!dtype) throw new NodeError(node.name, node.opType, `constant '${name}' has data type ${onnxDataTypeName(constant.dataType)}`);
  const data = (constant.dataType === OnnxDataType.DOUBLE ? Float32Array.from(constant.data as Float64Array) : constant.data) as TensorData;
  const irName = ctx.addConstant(name, dtype as DataType, [...constant.dims], data);
  ctx.bind(name, irName, 'onnx', constant.dataType);
  return irName;
}
