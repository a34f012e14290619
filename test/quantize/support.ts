/** Float ONNX models built for the quantizer's tests, and calibration directories of .npy samples. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy } from '../../src/io/npy.js';
import { float, OnnxGraphBuilder, seededFloats } from '../support/onnx-builder.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const mnistFolder = join(repoRoot, '../shared/models/onnx-contrib-tests/mnist-8-float');

const weights = (count: number, seed: number, scale = 0.5) => seededFloats(count, -scale, scale, seed);

/**
 * A small CNN, opset 13, x float[1,3,8,8] -> logits [1,5] and probs [1,5]:
 * Conv(bias) -> BatchNormalization -> Relu -> depthwise Conv -> Add(per-channel constant) -> Clip(0, 6) ->
 * Add(residual) -> MaxPool -> GlobalAveragePool -> Flatten -> Gemm(transB) -> logits -> Softmax -> probs.
 */
export function smallCnnModel(): Uint8Array {
  const b = new OnnxGraphBuilder('small_cnn', 13);
  b.input('x', 'float', [1, 3, 8, 8]);
  b.initializer('w1', 'float', [8, 3, 3, 3], weights(8 * 27, 1));
  b.initializer('b1', 'float', [8], weights(8, 2, 0.1));
  b.node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, { name: 'conv1' });
  b.initializer('gamma', 'float', [8], seededFloats(8, 0.5, 1.5, 3));
  b.initializer('beta', 'float', [8], weights(8, 4, 0.2));
  b.initializer('mean', 'float', [8], weights(8, 5, 0.2));
  b.initializer('var', 'float', [8], seededFloats(8, 0.5, 2, 6));
  b.node('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], ['n1'], { epsilon: float(1e-5) }, { name: 'bn1' });
  b.node('Relu', ['n1'], ['r1'], {}, { name: 'relu1' });
  b.initializer('w2', 'float', [8, 1, 3, 3], weights(8 * 9, 7));
  b.node('Conv', ['r1', 'w2'], ['d1'], { pads: [1, 1, 1, 1], group: 8 }, { name: 'depthwise' });
  b.initializer('b2', 'float', [8, 1, 1], weights(8, 8, 0.1));
  b.node('Add', ['d1', 'b2'], ['d2'], {}, { name: 'depthwise_bias' });
  b.initializer('zero', 'float', [], [0]);
  b.initializer('six', 'float', [], [6]);
  b.node('Clip', ['d2', 'zero', 'six'], ['c2'], {}, { name: 'relu6' });
  b.node('Add', ['c2', 'r1'], ['s1'], {}, { name: 'residual' });
  b.node('MaxPool', ['s1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  b.node('GlobalAveragePool', ['p1'], ['g1'], {}, { name: 'gap' });
  b.node('Flatten', ['g1'], ['f1'], {}, { name: 'flatten' });
  b.initializer('w3', 'float', [5, 8], weights(5 * 8, 9, 1));
  b.initializer('b3', 'float', [5], weights(5, 10, 0.1));
  b.node('Gemm', ['f1', 'w3', 'b3'], ['logits'], { transB: 1 }, { name: 'classifier' });
  b.node('Softmax', ['logits'], ['probs'], { axis: -1 }, { name: 'softmax' });
  b.output('logits', 'float', [1, 5]);
  b.output('probs', 'float', [1, 5]);
  return b.build();
}

/**
 * Opset 9, x float[1,16] -> y [1,1,3,4]: MatMul -> Add (a bias) -> Clip (bounds as attributes) -> Reshape ->
 * Softmax over axis 1 (legacy: the 12 values flattened) -> Unsqueeze (axes as an attribute). Every op whose
 * signature changed before opset 13.
 */
export function legacyOpsetModel(): Uint8Array {
  const b = new OnnxGraphBuilder('legacy', 9);
  b.input('x', 'float', [1, 16]);
  b.initializer('w', 'float', [16, 12], weights(16 * 12, 11));
  b.initializer('b', 'float', [12], weights(12, 12, 0.2));
  b.node('MatMul', ['x', 'w'], ['m'], {}, { name: 'matmul' });
  b.node('Add', ['m', 'b'], ['a'], {}, { name: 'bias' });
  b.node('Clip', ['a'], ['c'], { min: float(-1), max: float(1.5) }, { name: 'clip' });
  b.initializer('shape', 'int64', [3], [1, 3, 4]);
  b.node('Reshape', ['c', 'shape'], ['r'], {}, { name: 'reshape' });
  b.node('Softmax', ['r'], ['s'], { axis: 1 }, { name: 'softmax' });
  b.node('Unsqueeze', ['s'], ['y'], { axes: [1] }, { name: 'unsqueeze' });
  b.output('y', 'float', [1, 1, 3, 4]);
  return b.build();
}

/** Two inputs a, b float[1,4] -> y = (a + b) * k, k a constant [4]. */
export function twoInputModel(): Uint8Array {
  const b = new OnnxGraphBuilder('two_inputs', 13);
  b.input('a', 'float', [1, 4]);
  b.input('b', 'float', [1, 4]);
  b.initializer('k', 'float', [4], [0.5, -1, 2, 0.25]);
  b.node('Add', ['a', 'b'], ['s'], {}, { name: 'add' });
  b.node('Mul', ['s', 'k'], ['y'], {}, { name: 'scale' });
  b.output('y', 'float', [1, 4]);
  return b.build();
}

/** A float model with two ops tinyedge cannot quantize (Erf, Cos) between supported ones. */
export function unsupportedOpsModel(): Uint8Array {
  const b = new OnnxGraphBuilder('unsupported', 13);
  b.input('x', 'float', [1, 4]);
  b.node('Relu', ['x'], ['r'], {}, { name: 'relu' });
  b.node('Erf', ['r'], ['e'], {}, { name: 'the_erf' });
  b.node('Cos', ['e'], ['y'], {}, { name: 'the_cos' });
  b.output('y', 'float', [1, 4]);
  return b.build();
}

/** Writes `samples` (each a list of { name, shape, values }) as sample_N/NAME.npy sub-directories of `dir`. */
export function writeSampleDirectories(dir: string, samples: { name: string; shape: number[]; values: number[] }[][]): string {
  samples.forEach((inputs, i) => {
    const sampleDir = join(dir, `sample_${i}`);
    mkdirSync(sampleDir, { recursive: true });
    for (const input of inputs) writeNpy(join(sampleDir, `${input.name}.npy`), input.shape, input.values);
  });
  return dir;
}

export function writeNpy(file: string, shape: number[], values: number[]): string {
  writeFileSync(file, encodeNpy({ dtype: 'float32', shape, data: Float32Array.from(values) }));
  return file;
}

/**
 * Opset 14, x float[1,4,6,6] -> y [1,3], one of each remaining op: 1x1 Conv -> Sigmoid / Tanh -> Concat -> Pad ->
 * AveragePool -> LeakyRelu -> HardSwish -> Transpose -> ReduceMean -> Neg -> Mul / Sub by constants -> Unsqueeze ->
 * Squeeze -> MatMul.
 */
export function manyOpsModel(): Uint8Array {
  const b = new OnnxGraphBuilder('many_ops', 14);
  b.input('x', 'float', [1, 4, 6, 6]);
  b.initializer('w', 'float', [4, 4, 1, 1], weights(16, 21, 1));
  b.node('Conv', ['x', 'w'], ['c'], {}, { name: 'pointwise' });
  b.node('Sigmoid', ['c'], ['sg'], {}, { name: 'sigmoid' });
  b.node('Tanh', ['c'], ['th'], {}, { name: 'tanh' });
  b.node('Concat', ['sg', 'th'], ['cat'], { axis: 1 }, { name: 'concat' });
  b.initializer('pads', 'int64', [8], [0, 0, 1, 1, 0, 0, 1, 1]);
  b.node('Pad', ['cat', 'pads'], ['pd'], {}, { name: 'pad' });
  b.node('AveragePool', ['pd'], ['ap'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'avgpool' });
  b.node('LeakyRelu', ['ap'], ['lr'], { alpha: float(0.1) }, { name: 'leaky' });
  b.node('HardSwish', ['lr'], ['hs'], {}, { name: 'hardswish' });
  b.node('Transpose', ['hs'], ['tr'], { perm: [0, 2, 3, 1] }, { name: 'transpose' });
  b.node('ReduceMean', ['tr'], ['rm'], { axes: [1, 2], keepdims: 0 }, { name: 'mean' });
  b.node('Neg', ['rm'], ['ng'], {}, { name: 'neg' });
  b.initializer('k', 'float', [8], weights(8, 22, 2));
  b.node('Mul', ['ng', 'k'], ['ml'], {}, { name: 'mul' });
  b.initializer('offset', 'float', [], [0.25]);
  b.node('Sub', ['ml', 'offset'], ['sb'], {}, { name: 'sub' });
  b.initializer('axes', 'int64', [1], [1]);
  b.node('Unsqueeze', ['sb', 'axes'], ['us'], {}, { name: 'unsqueeze' });
  b.node('Squeeze', ['us', 'axes'], ['sq'], {}, { name: 'squeeze' });
  b.initializer('w2', 'float', [8, 3], weights(24, 23, 1));
  b.node('MatMul', ['sq', 'w2'], ['y'], {}, { name: 'matmul' });
  b.output('y', 'float', [1, 3]);
  return b.build();
}
