/**
 * Float rewrites that keep the model's meaning and give the quantizer the forms it quantizes well, done before
 * the QDQ model is written (the same preparation onnxruntime's quantizer and TFLite's converter do):
 * - Identity and (inference) Dropout disappear;
 * - a BatchNormalization after a Conv folds into the Conv's weights and bias;
 * - Gemm's alpha / beta fold into its constant B / C;
 * - a constant per-channel Add after a Conv, or after a Gemm / 2-D MatMul with constant weights, becomes their bias,
 *   so that it is quantized as int32 with scale S_in * S_w[c] rather than as a separate int8 Add.
 * A rewritten node's output keeps the name of the last tensor it replaces, so ranges calibrated on the original
 * model apply to the rewritten one unchanged.
 */
import { floatAttribute, intAttribute, type FloatModel, type FloatNode } from './float-model.js';
import { OnnxDataType } from '../frontend/onnx/proto.js';

/** The rewrites that need no tensor shapes (done before calibration, so that unsupported ops show up first). */
export function prepareStructure(model: FloatModel): void {
  removeIdentities(model);
  foldBatchNormalization(model);
  foldGemmScalars(model);
}

/** The rewrites that need the shapes calibration observed. */
export function foldBiasAdds(model: FloatModel, shapes: ReadonlyMap<string, readonly number[]>): void {
  for (const node of [...model.nodes]) {
    if (node.opType === 'Conv') foldConvBias(model, node, shapes);
    else if (node.opType === 'Gemm') foldGemmBias(model, node);
    else if (node.opType === 'MatMul') matMulAddToGemm(model, node, shapes);
  }
}

function removeIdentities(model: FloatModel): void {
  for (const node of [...model.nodes]) {
    if (node.domain !== '') continue;
    const maskUsed = node.opType === 'Dropout' && node.outputs[1] && (model.consumers(node.outputs[1]).length > 0 || model.isGraphOutput(node.outputs[1]));
    if ((node.opType === 'Identity' || node.opType === 'Dropout') && !maskUsed) bypass(model, node);
  }
}

/** Readers of the node's output read its input instead; a graph output keeps its name (the producer takes it). */
function bypass(model: FloatModel, node: FloatNode): void {
  const input = node.inputs[0]!;
  const output = node.outputs[0]!;
  if (!model.isGraphOutput(output)) {
    model.remove(node);
    model.redirect(output, input);
    return;
  }
  const producer = model.producer(input);
  // An input or constant passed straight to a graph output, or a tensor that is itself an output: keep the node.
  if (!producer || model.isGraphOutput(input)) return;
  model.remove(node);
  producer.outputs = producer.outputs.map((name) => (name === input ? output : name));
  model.redirect(input, output);
}

/** The only reader of `tensor`, when it has exactly one and is not a graph output. */
function soleReader(model: FloatModel, tensor: string): FloatNode | undefined {
  if (model.isGraphOutput(tensor)) return undefined;
  const readers = model.consumers(tensor);
  return readers.length === 1 ? readers[0] : undefined;
}

function floats(model: FloatModel, name: string | undefined): Float32Array | undefined {
  const constant = model.constant(name ?? '');
  return constant && constant.dataType === OnnxDataType.FLOAT ? (constant.data as Float32Array) : undefined;
}

function foldBatchNormalization(model: FloatModel): void {
  for (const conv of [...model.nodes]) {
    if (conv.opType !== 'Conv' || conv.domain !== '') continue;
    const norm = soleReader(model, conv.outputs[0]!);
    if (!norm || norm.opType !== 'BatchNormalization' || norm.outputs.slice(1).some(Boolean) || intAttribute(norm, 'spatial', 1) !== 1) continue;
    const weights = model.constant(conv.inputs[1]!);
    const [gamma, beta, mean, variance] = norm.inputs.slice(1).map((name) => floats(model, name));
    if (!weights || weights.dataType !== OnnxDataType.FLOAT || !gamma || !beta || !mean || !variance) continue;
    const channels = weights.dims[0]!;
    const bias = conv.inputs[2] ? floats(model, conv.inputs[2]) : new Float32Array(channels);
    if (!bias) continue;
    const epsilon = floatAttribute(norm, 'epsilon', 1e-5);
    const factor = Float64Array.from(gamma, (g, c) => g / Math.sqrt(variance[c]! + epsilon));
    const perChannel = (weights.data as Float32Array).length / channels;
    const newWeights = Float32Array.from(weights.data as Float32Array, (w, i) => w * factor[Math.floor(i / perChannel)]!);
    const newBias = Float32Array.from(bias, (b, c) => (b - mean[c]!) * factor[c]! + beta[c]!);
    conv.inputs[1] = model.addConstant(`${conv.inputs[1]}_batchnorm`, weights.dims, newWeights);
    conv.inputs[2] = model.addConstant(`${conv.name}_bias`, [channels], newBias);
    conv.outputs[0] = norm.outputs[0]!;
    model.remove(norm);
  }
}

/** alpha * A * B + beta * C with constant B and C: scale the constants, so that alpha = beta = 1. */
function foldGemmScalars(model: FloatModel): void {
  for (const gemm of model.nodes) {
    if (gemm.opType !== 'Gemm' || gemm.domain !== '') continue;
    const alpha = floatAttribute(gemm, 'alpha', 1);
    const beta = floatAttribute(gemm, 'beta', 1);
    const b = floats(model, gemm.inputs[1]);
    const c = gemm.inputs[2] ? floats(model, gemm.inputs[2]) : undefined;
    if (alpha !== 1 && b) {
      gemm.inputs[1] = model.addConstant(`${gemm.inputs[1]}_alpha`, model.constant(gemm.inputs[1]!)!.dims, Float32Array.from(b, (v) => v * alpha));
      gemm.attributes.delete('alpha');
    }
    if (beta !== 1 && (c || !gemm.inputs[2])) {
      if (c) gemm.inputs[2] = model.addConstant(`${gemm.inputs[2]}_beta`, model.constant(gemm.inputs[2]!)!.dims, Float32Array.from(c, (v) => v * beta));
      gemm.attributes.delete('beta');
    }
  }
}

/**
 * The constant operand of `add` as one value per channel of a rank-`rank` output whose channels are on `axis`
 * (every other broadcast dimension 1); undefined when it is anything else.
 */
function perChannelAddend(model: FloatModel, add: FloatNode, producedTensor: string, rank: number, axis: number, channels: number): Float32Array | undefined {
  if (add.opType !== 'Add' || add.domain !== '') return undefined;
  const other = add.inputs[0] === producedTensor ? add.inputs[1] : add.inputs[0];
  if (add.inputs[0] === add.inputs[1]) return undefined;
  const constant = model.constant(other ?? '');
  const values = floats(model, other);
  if (!constant || !values || constant.dims.length > rank) return undefined;
  const dims = [...new Array<number>(rank - constant.dims.length).fill(1), ...constant.dims];
  if (!dims.every((d, i) => d === 1 || (i === axis && d === channels))) return undefined;
  return values.length === channels ? Float32Array.from(values) : new Float32Array(channels).fill(values[0]!);
}

function foldConvBias(model: FloatModel, conv: FloatNode, shapes: ReadonlyMap<string, readonly number[]>): void {
  const weights = model.constant(conv.inputs[1]!);
  const rank = shapes.get(conv.outputs[0]!)?.length;
  const add = soleReader(model, conv.outputs[0]!);
  if (!weights || !add || rank === undefined) return;
  const channels = weights.dims[0]!;
  const addend = perChannelAddend(model, add, conv.outputs[0]!, rank, 1, channels);
  const bias = conv.inputs[2] ? floats(model, conv.inputs[2]) : new Float32Array(channels);
  if (!addend || !bias || bias.length !== channels) return;
  conv.inputs[2] = model.addConstant(`${conv.name}_bias`, [channels], Float32Array.from(bias, (b, c) => b + addend[c]!));
  conv.outputs[0] = add.outputs[0]!;
  model.remove(add);
}

/** The output columns of a Gemm / 2-D MatMul with constant weights. */
function outputColumns(model: FloatModel, node: FloatNode): number | undefined {
  const weights = model.constant(node.inputs[1] ?? '');
  if (!weights || weights.dims.length !== 2) return undefined;
  return node.opType === 'Gemm' && intAttribute(node, 'transB', 0) !== 0 ? weights.dims[0] : weights.dims[1];
}

function foldGemmBias(model: FloatModel, gemm: FloatNode): void {
  const columns = outputColumns(model, gemm);
  const add = soleReader(model, gemm.outputs[0]!);
  if (columns === undefined || !add || floatAttribute(gemm, 'beta', 1) !== 1) return;
  const addend = perChannelAddend(model, add, gemm.outputs[0]!, 2, 1, columns);
  const bias = gemm.inputs[2] ? floats(model, gemm.inputs[2]) : new Float32Array(columns);
  if (!addend || !bias || (bias.length !== columns && bias.length !== 1)) return;
  gemm.inputs[2] = model.addConstant(`${gemm.name}_bias`, [columns], Float32Array.from(addend, (a, c) => a + bias[bias.length === 1 ? 0 : c]!));
  gemm.outputs[0] = add.outputs[0]!;
  model.remove(add);
}

/** MatMul(A [M, K], constant B [K, N]) + constant [N] -> Gemm(A, B, C): FullyConnected with an int32 bias. */
function matMulAddToGemm(model: FloatModel, matMul: FloatNode, shapes: ReadonlyMap<string, readonly number[]>): void {
  const columns = outputColumns(model, matMul);
  const add = soleReader(model, matMul.outputs[0]!);
  if (columns === undefined || !add || shapes.get(matMul.inputs[0]!)?.length !== 2) return;
  const addend = perChannelAddend(model, add, matMul.outputs[0]!, 2, 1, columns);
  if (!addend) return;
  matMul.opType = 'Gemm';
  matMul.inputs = [matMul.inputs[0]!, matMul.inputs[1]!, model.addConstant(`${matMul.name}_bias`, [columns], addend)];
  matMul.outputs = [add.outputs[0]!];
  model.remove(add);
}
