/** The importer of each TFLite builtin operator tinyedge supports; an operator absent here is reported unsupported. */
import { BuiltinOperator as Op } from '../schema.js';
import type { OpImporter } from './context.js';
import { importConv2D, importDepthwiseConv2D } from './conv.js';
import { binaryImporter } from './elementwise.js';
import { importConcatenation, importPad, importReshape, importSqueeze, importTranspose } from './layout.js';
import { importBatchMatMul, importFullyConnected } from './matmul.js';
import { poolImporter } from './pool.js';
import { importDequantize, importQuantize } from './quantize.js';
import { importMean } from './reduce.js';
import { importLeakyRelu, importSoftmax, unaryImporter } from './unary.js';

const IMPORTERS = new Map<number, OpImporter>([
  [Op.CONV_2D, importConv2D],
  [Op.DEPTHWISE_CONV_2D, importDepthwiseConv2D],
  [Op.FULLY_CONNECTED, importFullyConnected],
  [Op.BATCH_MATMUL, importBatchMatMul],
  [Op.ADD, binaryImporter('Add', 'AddOptions')],
  [Op.SUB, binaryImporter('Sub', 'SubOptions')],
  [Op.MUL, binaryImporter('Mul', 'MulOptions')],
  [Op.AVERAGE_POOL_2D, poolImporter('AveragePool2D')],
  [Op.MAX_POOL_2D, poolImporter('MaxPool2D')],
  [Op.MEAN, importMean],
  [Op.SOFTMAX, importSoftmax],
  [Op.LOGISTIC, unaryImporter('Logistic')],
  [Op.TANH, unaryImporter('Tanh')],
  [Op.HARD_SWISH, unaryImporter('HardSwish')],
  [Op.RELU, unaryImporter('Relu')],
  [Op.RELU6, unaryImporter('Relu6')],
  [Op.NEG, unaryImporter('Neg')],
  [Op.LEAKY_RELU, importLeakyRelu],
  [Op.QUANTIZE, importQuantize],
  [Op.DEQUANTIZE, importDequantize],
  [Op.RESHAPE, importReshape],
  [Op.SQUEEZE, importSqueeze],
  [Op.TRANSPOSE, importTranspose],
  [Op.CONCATENATION, importConcatenation],
  [Op.PAD, importPad],
  [Op.PADV2, importPad],
]);

export function importerFor(builtinCode: number): OpImporter | undefined {
  return IMPORTERS.get(builtinCode);
}
