/**
 * TFLite frontend: an int8 (or legacy uint8) TFLite flatbuffer -> the IR.
 *
 *   read the flatbuffer (model.ts) -> refuse float models -> tensors (tensors.ts) -> one node per operator (ops/)
 *
 * Operators tinyedge cannot import do not stop the import: they are all listed in graph.unsupported.
 */
import path from 'node:path';
import { ModelError } from '../../errors.js';
import type { Graph, GraphIO, Node } from '../../ir/types.js';
import { MalformedFlatbuffer } from './flatbuffer.js';
import { type TfliteModel, type TfliteOperator, readTfliteModel } from './model.js';
import { InvalidNode, OperatorContext, Unsupported } from './ops/context.js';
import { importerFor } from './ops/index.js';
import { BuiltinOperator, builtinOperatorName, tensorTypeName } from './schema.js';
import { type ImportedTensors, importTensors, uniqueName } from './tensors.js';

/** How to get from a float model to one tinyedge can run. */
export const QUANTIZE_HINT =
  'quantize it first: export a full-integer int8 model with the TFLite converter ' +
  '(optimizations=[tf.lite.Optimize.DEFAULT], a representative_dataset, ' +
  'supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS_INT8])';

export function importTflite(bytes: Uint8Array, file: string): Graph {
  try {
    const model = readTfliteModel(bytes);
    const tensors = importTensors(model, file);
    rejectFloatModel(model, tensors, file);
    return buildGraph(model, tensors, file);
  } catch (error) {
    if (error instanceof MalformedFlatbuffer) {
      throw new ModelError(file, `is not a valid TFLite flatbuffer (${error.message})`);
    }
    throw error;
  }
}

function buildGraph(model: TfliteModel, tensors: ImportedTensors, file: string): Graph {
  const nodes: Node[] = [];
  const unsupported: Graph['unsupported'] = [];
  const nodeNames = new Set<string>();
  for (const operator of model.operators) {
    const name = uniqueName(nodeBaseName(operator, tensors), nodeNames);
    const opName = operatorName(operator);
    const importer = importerFor(operator.code.builtinCode);
    if (!importer) {
      const isCustom = operator.code.builtinCode === BuiltinOperator.CUSTOM;
      unsupported.push(isCustom ? { node: name, op: opName, reason: 'custom operator' } : { node: name, op: opName });
      continue;
    }
    try {
      nodes.push(importer(new OperatorContext(operator, name, tensors)));
    } catch (error) {
      if (error instanceof Unsupported) unsupported.push({ node: name, op: opName, reason: error.message });
      else if (error instanceof InvalidNode) throw new ModelError(file, `node '${name}' (${opName}) ${error.message}`);
      else throw error;
    }
  }

  const graphTensors = new Map(
    tensors.byIndex.flatMap((tensor) => (tensor ? [[tensor.name, tensor] as const] : [])),
  );
  return {
    name: graphName(file),
    format: 'tflite',
    tensors: graphTensors,
    nodes,
    inputs: model.inputs.map((index) => graphIO(model, tensors, index, file)),
    outputs: model.outputs.map((index) => graphIO(model, tensors, index, file)),
    unsupported,
  };
}

/** TFLite operators have no names: a node is called after its (first) output tensor. */
function nodeBaseName(operator: TfliteOperator, tensors: ImportedTensors): string {
  const output = operator.outputs[0];
  const tensor = output === undefined ? undefined : tensors.byIndex[output];
  return tensor?.name ?? `${operatorName(operator)}_${operator.index}`;
}

/** Builtin ops by their schema name, custom ops by their custom code. */
function operatorName(operator: TfliteOperator): string {
  const { builtinCode, customCode } = operator.code;
  if (builtinCode === BuiltinOperator.CUSTOM) return customCode || 'CUSTOM';
  return builtinOperatorName(builtinCode);
}

function graphIO(model: TfliteModel, tensors: ImportedTensors, index: number, file: string): GraphIO {
  const tensor = tensors.byIndex[index];
  const source = model.tensors[index]!;
  if (!tensor) throw new ModelError(file, `graph input/output ${tensors.problems.get(index)}`);
  return { tensor: tensor.name, externalDtype: tensors.fileDtypes[index]!, name: source.name || tensor.name };
}

function graphName(file: string): string {
  const base = path.basename(file);
  return base.toLowerCase().endsWith('.tflite') ? base.slice(0, -'.tflite'.length) : base;
}

/**
 * A model whose run-time tensors carry no integer quantization cannot run on integer kernels. Its constants tell
 * a float model from a dynamic-range one (int8 weights, float activations), which the converter makes by default.
 */
function rejectFloatModel(model: TfliteModel, tensors: ImportedTensors, file: string): void {
  const isQuantized = (index: number): boolean => {
    const tensor = tensors.byIndex[index];
    return tensor?.quant !== undefined && (tensor.dtype === 'int8' || tensor.dtype === 'int16');
  };
  if ([...tensors.runtime].some(isQuantized)) return;
  const hasInt8Weights = model.tensors.some(
    (source) => !tensors.runtime.has(source.index) && (tensorTypeName(source.type) === 'INT8' || isQuantized(source.index)),
  );
  if (hasInt8Weights) {
    throw new ModelError(
      file,
      `is a dynamic-range quantized model (int8 weights, float activations), not a full-integer one — ${QUANTIZE_HINT}`,
    );
  }
  throw new ModelError(file, `is a float model (no int8 quantization) — ${QUANTIZE_HINT}`);
}
