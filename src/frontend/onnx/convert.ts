/**
 * ONNX graph -> IR graph: graph inputs, every node in order (each in the first form that fits: boundary
 * Quantize/Dequantize, QOperator op, QDQ pattern, integer data movement, float op), graph outputs.
 * An unsupported node is recorded and the nodes that depend on it are skipped, so all problems are listed at once.
 */
import { ModelError, NodeError } from '../../errors.js';
import type { DataType } from '../../ir/types.js';
import { Attributes } from './attributes.js';
import { ConversionContext, irDataType } from './context.js';
import { foldConstantNode } from './constant-folding.js';
import { isFloatOp, convertFloatNode } from './float-nodes.js';
import { TO_NHWC } from './layout.js';
import { lowerConcat, lowerDequantize, lowerQuantize, lowerRequantize, type QuantOperand } from './lower.js';
import type { OnnxModel, OnnxNode } from './model.js';
import { OnnxDataType, onnxDataTypeName } from './proto.js';
import {
  convertMovement,
  convertQdqNode,
  dequantizedOperand,
  dequantizeParams,
  hasStaticParams,
  isDequantizeLinear,
  isQuantizeLinear,
  QDQ_OPS,
  quantizeParams,
} from './qdq.js';
import { convertQOperatorNode, isQOperatorOp } from './qoperator.js';
import { roundHalfEven } from '../../quant/fixedpoint.js';
import type { OnnxQuant } from './quant-params.js';
import { Unsupported } from './unsupported.js';

const INTEGER_MOVEMENT_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool']);

export function convertModel(model: OnnxModel): ConversionContext {
  const ctx = new ConversionContext(model);
  addGraphInputs(ctx);
  for (const node of model.nodes) convertNodeOrRecord(ctx, node);
  addGraphOutputs(ctx);
  return ctx;
}

function addGraphInputs(ctx: ConversionContext): void {
  for (const input of ctx.model.inputs) {
    const { dataType, shape } = input.type;
    const dtype = inputDataType(dataType);
    if (!dtype) {
      const sixteenBit = dataType === OnnxDataType.INT16 || dataType === OnnxDataType.UINT16;
      const reason = `${onnxDataTypeName(dataType)} input${sixteenBit ? ' (16-bit quantization; tinyedge runs 8-bit quantized models)' : ''}`;
      ctx.graph.unsupported.push({ node: input.name, op: 'graph input', reason });
      ctx.poisoned.add(input.name);
      continue;
    }
    if (!shape) throw new ModelError(ctx.model.file, `input '${input.name}' has no shape; tinyedge needs static shapes`);
    // A symbolic batch dimension is taken as 1; any other symbolic dimension makes the model's size unknown.
    const resolved = shape.map((d, i) => {
      if (d !== undefined) return d;
      if (i === 0) return 1;
      throw new ModelError(ctx.model.file, `input '${input.name}' has a symbolic dimension ${i}; tinyedge needs static shapes`);
    });
    ctx.graph.tensors.set(input.name, { name: input.name, shape: resolved, dtype });
    ctx.bind(input.name, input.name, 'onnx', dataType);
    ctx.graph.inputs.push({ tensor: input.name, externalDtype: externalDataType(dataType) ?? dtype, name: input.name });
  }
}

/** IR type of a graph input: uint8 is int8 inside (its zero point is shifted when its parameters are known). */
function inputDataType(dataType: number): DataType | undefined {
  if (dataType === OnnxDataType.UINT8) return 'int8';
  if (dataType === OnnxDataType.FLOAT16 || dataType === OnnxDataType.INT16 || dataType === OnnxDataType.UINT16) return undefined;
  return irDataType(dataType);
}

function externalDataType(dataType: number): DataType | undefined {
  return irDataType(dataType);
}

function convertNodeOrRecord(ctx: ConversionContext, node: OnnxNode): void {
  if (ctx.absorbed.has(node)) return;
  if (node.inputs.some((input) => ctx.poisoned.has(input))) {
    // Its input cannot be computed; it is listed only if it would be unsupported on its own.
    const reason = isKnownOp(node) ? parameterProblem(ctx, node) : 'not supported';
    if (reason) ctx.graph.unsupported.push({ node: node.name, op: opLabel(node), reason });
    for (const output of node.outputs) ctx.poisoned.add(output);
    return;
  }
  const absorbedBefore = ctx.absorbed.size;
  try {
    convertNode(ctx, node);
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    ctx.graph.unsupported.push({ node: node.name, op: opLabel(node), reason: error.reason });
    for (const output of node.outputs) ctx.poisoned.add(output);
    for (const absorbed of [...ctx.absorbed].slice(absorbedBefore)) for (const output of absorbed.outputs) ctx.poisoned.add(output);
  }
}

function convertNode(ctx: ConversionContext, node: OnnxNode): void {
  if (foldConstantNode(ctx, node)) return;
  if (isQuantizeLinear(node)) return convertQuantizeLinear(ctx, node);
  if (isDequantizeLinear(node)) return convertDequantizeLinear(ctx, node);
  if (node.domain === '' && node.opType === 'DynamicQuantizeLinear') return convertFloatNode(ctx, node, (name) => floatInput(ctx, name));
  if (isQOperatorOp(node)) return convertQOperatorNode(ctx, node);
  if (node.domain === '' && node.opType === 'Identity') return ctx.alias(node.outputs[0]!, node.inputs[0]!);
  if (node.domain === '' && QDQ_OPS.has(node.opType)) {
    if (convertQdqNode(ctx, node)) return;
    if (convertIntegerMovement(ctx, node)) return;
  }
  if (isFloatOp(node)) {
    if (node.inputs.some((input) => input && isQuantizedValue(ctx, input))) throw new Unsupported(`${node.opType} on quantized data outside a QDQ pattern`);
    return convertFloatNode(ctx, node, (name) => floatInput(ctx, name));
  }
  if (node.domain === '' && QDQ_OPS.has(node.opType)) throw new Unsupported('float op outside a QDQ pattern (its inputs do not come from DequantizeLinear)');
  throw new Unsupported('not supported');
}

/** For a Q/DQ node that is skipped: what is wrong with its own parameters (16-bit, blocked), if anything. */
function parameterProblem(ctx: ConversionContext, node: OnnxNode): string | undefined {
  if (!(isQuantizeLinear(node) || isDequantizeLinear(node)) || !hasStaticParams(ctx, node)) return undefined;
  try {
    if (isQuantizeLinear(node)) quantizeParams(ctx, node);
    else dequantizeParams(ctx, node);
    return undefined;
  } catch (error) {
    if (error instanceof Unsupported) return error.reason;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear that did not fold into an op

function convertQuantizeLinear(ctx: ConversionContext, node: OnnxNode): void {
  if (!hasStaticParams(ctx, node)) return convertFloatNode(ctx, node, (name) => floatInput(ctx, name));
  const y = { name: node.outputs[0]!, params: quantizeParams(ctx, node) };
  const x = node.inputs[0]!;
  const constant = ctx.constant(x);
  if (constant && !ctx.has(x)) {
    // QuantizeLinear of a float initializer (fake-quantized weights): fold into an integer constant.
    ctx.addDerivedConstant(quantizeConstant(node, constant.data as ArrayLike<number>, constant.dims, y.params, y.name));
    return;
  }
  const dequantized = dequantizedOperand(ctx, x);
  if (dequantized) return lowerRequantize(ctx, node, dequantized, y);
  if (!ctx.has(x)) throw new Unsupported(`input '${x}' is not available`);
  lowerQuantize(ctx, node, x, y);
}

function quantizeConstant(node: OnnxNode, data: ArrayLike<number>, dims: number[], params: OnnxQuant, name: string) {
  const [lo, hi] = params.dataType === OnnxDataType.UINT8 ? [0, 255] : [-128, 127];
  const inner = params.axis === undefined ? 1 : dims.slice(params.axis + 1).reduce((a, b) => a * b, 1);
  const values = Array.from(data, (v, i) => {
    const c = params.scale.length === 1 ? 0 : Math.floor(i / inner) % params.scale.length;
    return Math.min(hi, Math.max(lo, roundHalfEven(Math.fround(v / params.scale[c]!)) + params.zeroPoint[c]!));
  });
  if (params.dataType !== OnnxDataType.UINT8 && params.dataType !== OnnxDataType.INT8) {
    throw new NodeError(node.name, node.opType, `quantizes a constant to ${onnxDataTypeName(params.dataType)}`);
  }
  return { name, dataType: params.dataType, dims: [...dims], data: params.dataType === OnnxDataType.UINT8 ? Uint8Array.from(values) : Int8Array.from(values) };
}

/** A DequantizeLinear folds into its readers; it only becomes an IR Dequantize where a float is really needed. */
function convertDequantizeLinear(ctx: ConversionContext, node: OnnxNode): void {
  if (!hasStaticParams(ctx, node)) return convertFloatNode(ctx, node, (name) => floatInput(ctx, name));
  // Read the parameters now so that unsupported ones (16-bit, blocked, float16) are reported at this node.
  dequantizeParams(ctx, node);
  const data = node.inputs[0]!;
  if (!ctx.constant(data) && !ctx.has(data)) throw new Unsupported(`input '${data}' is not available`);
}

/**
 * The IR tensor of a float ONNX tensor in ONNX order: an existing float value, or an IR Dequantize made from the
 * integers behind a DequantizeLinear (once).
 */
function floatInput(ctx: ConversionContext, name: string): string {
  if (ctx.has(name)) return ctx.inLayout(name, 'onnx');
  const dequantized = dequantizedOperand(ctx, name);
  if (!dequantized) throw new Unsupported(`input '${name}' is not available`);
  const producer = ctx.model.producer.get(name);
  // A dequantized view (data movement after a DequantizeLinear) has no DequantizeLinear node of its own.
  const node: OnnxNode =
    producer && isDequantizeLinear(producer)
      ? producer
      : { name: `${name}_dequantize`, opType: 'DequantizeLinear', domain: '', inputs: [dequantized.name], outputs: [name], attrs: new Attributes(`${name}_dequantize`, 'DequantizeLinear', []) };
  lowerDequantize(ctx, node, dequantized, name, 'onnx');
  return ctx.inLayout(name, 'onnx');
}

function isQuantizedValue(ctx: ConversionContext, name: string): boolean {
  if (!ctx.has(name)) return false;
  return ctx.tensor(ctx.inLayout(name, ctx.nativeLayout(name))).quant !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Data movement directly on integer tensors (QOperator graphs: MaxPool / Reshape / Concat of uint8 tensors)

function convertIntegerMovement(ctx: ConversionContext, node: OnnxNode): boolean {
  const x = node.inputs[0] ?? '';
  if (!ctx.has(x)) return false;
  const tensor = ctx.tensor(ctx.inLayout(x, ctx.nativeLayout(x)));
  if (tensor.dtype !== 'int8') return false;
  if (!tensor.quant) throw new NodeError(node.name, node.opType, `input '${x}' has no quantization parameters`);
  const params = currentParams(ctx, x);
  if (INTEGER_MOVEMENT_OPS.has(node.opType)) {
    convertMovement(ctx, node, { name: x, params }, { name: node.outputs[0]!, params });
    return true;
  }
  if (node.opType === 'Concat') {
    const inputs: QuantOperand[] = node.inputs.map((name) => {
      if (!ctx.has(name) || !ctx.tensor(ctx.inLayout(name, ctx.nativeLayout(name))).quant) throw new Unsupported(`Concat input '${name}' is not quantized`);
      return { name, params: currentParams(ctx, name) };
    });
    lowerConcat(ctx, node, inputs, { name: node.outputs[0]!, params });
    return true;
  }
  return false;
}

/** The parameters an integer IR value already carries, stated as int8 ONNX parameters. */
function currentParams(ctx: ConversionContext, name: string): OnnxQuant {
  const layout = ctx.nativeLayout(name);
  const tensor = ctx.tensor(ctx.inLayout(name, layout));
  const quant = tensor.quant!;
  const params: OnnxQuant = { scale: [...quant.scale], zeroPoint: [...quant.zeroPoint], dataType: OnnxDataType.INT8 };
  if (quant.scale.length > 1) params.axis = layout === 'nhwc' && tensor.shape.length === 4 ? TO_NHWC[quant.axis]! : quant.axis;
  return params;
}

// ---------------------------------------------------------------------------------------------------------------
// Graph outputs

function addGraphOutputs(ctx: ConversionContext): void {
  for (const output of ctx.model.outputs) {
    const declared = output.type;
    let tensor: string | undefined;
    if (!ctx.poisoned.has(output.name)) {
      try {
        tensor = ctx.has(output.name) ? ctx.inLayout(output.name, 'onnx') : floatInput(ctx, output.name);
      } catch (error) {
        if (!(error instanceof Unsupported)) throw error;
        const constant = ctx.constant(output.name);
        if (!constant) throw new ModelError(ctx.model.file, `output '${output.name}' is not computed by any node`);
        ctx.graph.unsupported.push({ node: output.name, op: 'graph output', reason: 'a constant graph output' });
      }
    }
    if (tensor === undefined) {
      // Placeholder so that the graph stays well-formed; the unsupported list already says why.
      tensor = output.name;
      if (!ctx.graph.tensors.has(tensor)) {
        ctx.graph.tensors.set(tensor, {
          name: tensor,
          shape: (declared.shape ?? []).map((d) => d ?? 1),
          dtype: inputDataType(declared.dataType) ?? 'float32',
        });
      }
    }
    const irType = ctx.graph.tensors.get(tensor)!.dtype;
    ctx.graph.outputs.push({ tensor, externalDtype: externalDataType(declared.dataType) ?? irType, name: output.name });
  }
}

function isKnownOp(node: OnnxNode): boolean {
  return (
    isQuantizeLinear(node) ||
    isDequantizeLinear(node) ||
    isQOperatorOp(node) ||
    isFloatOp(node) ||
    (node.domain === '' && (QDQ_OPS.has(node.opType) || ['Identity', 'DynamicQuantizeLinear', 'Shape', 'Gather'].includes(node.opType)))
  );
}

function opLabel(node: OnnxNode): string {
  return node.domain ? `${node.domain}.${node.opType}` : node.opType;
}
