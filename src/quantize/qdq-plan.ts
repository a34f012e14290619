/**
 * Where the QuantizeLinear / DequantizeLinear pairs go and with which parameters. Every float activation gets a pair
 * right after the node (or graph input) that makes it, except the output of an op followed by its Relu / Clip: the
 * two are one quantized unit, quantized once after the activation, which is how tinyedge's importer (and TFLite)
 * fuse them. Data movement and pooling reuse their input's parameters, so they run on the integers unchanged.
 */
import { constantNumbers, type FloatModel, type FloatNode } from './float-model.js';
import { FUSES_ACTIVATION, outputRule } from './ops.js';
import { activationParams, quantizeConstant, type ActivationParams } from './quant-params.js';
import type { Range } from './range-observer.js';

export interface QdqPlan {
  /** The parameters of every activation that gets a QuantizeLinear / DequantizeLinear pair. */
  params: Map<string, ActivationParams>;
  /** Op -> the Relu / Clip fused after it. */
  fusedActivation: Map<FloatNode, FloatNode>;
}

export function planActivations(model: FloatModel, ranges: ReadonlyMap<string, Range>): QdqPlan {
  const calibrated = (tensor: string): ActivationParams => {
    const range = ranges.get(tensor);
    if (!range) throw new Error(`internal: no calibrated range for '${tensor}'`);
    return activationParams(range);
  };
  const fusedActivation = new Map<FloatNode, FloatNode>();
  for (const node of model.nodes) {
    const activation = FUSES_ACTIVATION.has(node.opType) ? fusableActivation(model, node) : undefined;
    if (activation) fusedActivation.set(node, activation);
  }
  const absorbed = new Set(fusedActivation.values());

  const params = new Map<string, ActivationParams>();
  for (const input of model.inputs) params.set(input.name, calibrated(input.name));
  for (const node of model.nodes) {
    if (absorbed.has(node)) continue;
    const output = (fusedActivation.get(node) ?? node).outputs[0]!;
    const rule = outputRule(node);
    if (rule === 'calibrated') params.set(output, calibrated(output));
    else if (rule === 'shared') params.set(output, params.get(node.inputs[0]!) ?? constantParams(model, node.inputs[0]!) ?? calibrated(output));
    else params.set(output, rule.fixed);
  }
  return { params, fusedActivation };
}

/** The Relu, or Clip with constant bounds, that alone reads `node`'s output (which is not a graph output). */
function fusableActivation(model: FloatModel, node: FloatNode): FloatNode | undefined {
  const output = node.outputs[0]!;
  if (model.isGraphOutput(output)) return undefined;
  const readers = model.consumers(output);
  const reader = readers.length === 1 ? readers[0]! : undefined;
  if (!reader || reader.domain !== '' || reader.inputs[0] !== output) return undefined;
  if (reader.opType === 'Relu') return reader;
  if (reader.opType === 'Clip' && reader.inputs.slice(1).every((bound) => !bound || model.constant(bound))) return reader;
  return undefined;
}

/** A constant read as data by a shared-parameter op gets the parameters of its own values. */
function constantParams(model: FloatModel, name: string): ActivationParams | undefined {
  const constant = model.constant(name);
  return constant ? quantizeConstant(Float32Array.from(constantNumbers(constant))).params : undefined;
}
