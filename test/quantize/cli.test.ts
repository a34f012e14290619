/**
 * `tinyedge quantize` as a user runs it (the built command): the report, the written file, and one-line errors with
 * the documented exit codes for every user mistake.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { encodeNpy } from '../../src/io/npy.js';
import { expectOneLineError, tinyedge } from '../cli/cli-harness.js';
import { mnistFolder, repoRoot, twoInputModel, unsupportedOpsModel, writeNpy, writeSampleDirectories } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'tinyedge-quantize-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const hasMnist = existsSync(join(mnistFolder, 'model.onnx'));
const mnistModel = join(mnistFolder, 'model.onnx');

function scratchFile(name: string, content: Uint8Array | string): string {
  const file = join(scratch, name);
  writeFileSync(file, content);
  return file;
}

describe.skipIf(!hasMnist)('tinyedge quantize on MNIST', () => {
  const output = join(scratch, 'mnist.int8.onnx');

  it('writes the model and prints the comparison table for both engines', () => {
    const result = tinyedge(['quantize', mnistModel, '--calibration', mnistFolder, '-o', output]);
    expect(result.stderr).toBe(`wrote ${output} (int8 QDQ, opset 13, ${statSync(output).size} bytes)\n`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ops: 2 Conv, 2 Relu, 2 MaxPool, 1 Reshape, 1 Gemm');
    expect(result.stdout).toContain('calibration: 3 samples');
    expect(result.stdout).toMatch(/calibration\s+3\s+Plus214_Output_0\s+onnxruntime\s+0\.99\d+\s+0\.99\d+\s+\S+\s+\S+\s+3\/3 \(100\.0%\)/);
    expect(result.stdout).toMatch(/\n\s+reference\s+0\.99\d+\s+0\.99\d+\s+\S+\s+\S+\s+3\/3 \(100\.0%\)/);
  });

  it('never overwrites without --force, and overwrites with it', () => {
    const before = readFileSync(output);
    const refused = tinyedge(['quantize', mnistModel, '--calibration', mnistFolder, '-o', output, '--method', 'percentile']);
    expect(refused.code).toBe(ExitCode.usage);
    expect(expectOneLineError(refused)).toBe(`tinyedge: ${output} already exists (use --force to overwrite it)`);
    expect(readFileSync(output)).toEqual(before);

    const forced = tinyedge(['quantize', mnistModel, '--calibration', mnistFolder, '-o', output, '--force', '--json', '--method', 'percentile', '--percentile', '99.9']);
    expect(forced.code).toBe(0);
    const report = JSON.parse(forced.stdout);
    expect(Object.keys(report)).toEqual([
      'model',
      'output',
      'method',
      'percentile',
      'weights',
      'opset',
      'calibrationSamples',
      'quantizedActivations',
      'quantizedWeights',
      'quantizedBiases',
      'fusedActivations',
      'ops',
      'evaluation',
    ]);
    expect(report).toMatchObject({ method: 'percentile', percentile: 99.9, weights: 'per-channel', opset: 13, calibrationSamples: 3 });
    const [logits] = report.evaluation[0].outputs;
    expect(Object.keys(logits.reference)).toEqual(['cosine', 'minCosine', 'maxAbsError', 'meanAbsError', 'top1Agreement', 'rows']);
    expect(logits.reference.top1Agreement).toBe(1);
    expect(readFileSync(output)).not.toEqual(before);
  });

  it('the quantized model runs with tinyedge run, and is refused as input to quantize', () => {
    const input = writeNpy(join(scratch, 'digit.npy'), [1, 1, 28, 28], new Array(784).fill(0));
    const run = tinyedge(['run', output, '--input', input, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).outputs[0]).toMatchObject({ name: 'Plus214_Output_0', dtype: 'float32', shape: [1, 10] });

    const again = tinyedge(['quantize', output, '--calibration', mnistFolder, '-o', join(scratch, 'twice.onnx')]);
    expect(again.code).toBe(ExitCode.model);
    expect(expectOneLineError(again)).toMatch(/is not a float model: it is already quantized \(node '.*' is (Quantize|Dequantize)Linear\)/);
  });

  it('a calibration file that does not fit the input names the file and the input', () => {
    const dir = join(scratch, 'wrong-shape');
    mkdirSync(dir);
    const file = writeNpy(join(dir, 'sample.npy'), [3, 3], new Array(9).fill(1));
    const result = tinyedge(['quantize', mnistModel, '--calibration', dir, '-o', join(scratch, 'never.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toBe(`tinyedge: ${file}: input 'Input3' expects float32[1,1,28,28] (784 values); the file holds float32[3,3] (9 values)`);
    expect(existsSync(join(scratch, 'never.onnx'))).toBe(false);
  });

  it('integer calibration data is refused (the model takes float32)', () => {
    const dir = join(scratch, 'integers');
    mkdirSync(dir);
    const file = join(dir, 'pixels.npy');
    writeFileSync(file, encodeNpy({ dtype: 'uint8', shape: [1, 1, 28, 28], data: new Uint8Array(784) }));
    const result = tinyedge(['quantize', mnistModel, '--calibration', dir, '-o', join(scratch, 'never.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toContain(`${file}: input 'Input3' expects float32[1,1,28,28]`);
  });
});

describe('tinyedge quantize: user mistakes', () => {
  const model = scratchFile('two.onnx', twoInputModel());

  it('an empty calibration directory', () => {
    const dir = join(scratch, 'empty');
    mkdirSync(dir);
    const result = tinyedge(['quantize', model, '--calibration', dir, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toContain(`--calibration ${dir}: no samples there`);
  });

  it('a missing calibration directory', () => {
    const result = tinyedge(['quantize', model, '--calibration', join(scratch, 'nowhere'), '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toBe(`tinyedge: --calibration ${join(scratch, 'nowhere')}: no such directory`);
  });

  it('a sample directory without a file for one of the inputs', () => {
    const dir = writeSampleDirectories(join(scratch, 'half'), [[{ name: 'a', shape: [1, 4], values: [1, 2, 3, 4] }, { name: 'c', shape: [1, 4], values: [1, 2, 3, 4] }]]);
    const result = tinyedge(['quantize', model, '--calibration', dir, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toBe(`tinyedge: ${join(dir, 'sample_0')}: no file for model input 'b' among a.npy, c.npy (name each file after its input, NAME.npy, or input_N.pb by position)`);
  });

  it('loose .npy files for a model with two inputs', () => {
    const dir = join(scratch, 'loose');
    mkdirSync(dir);
    const file = writeNpy(join(dir, 'a.npy'), [1, 4], [1, 2, 3, 4]);
    const result = tinyedge(['quantize', model, '--calibration', dir, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toBe(`tinyedge: ${file}: the model has 2 inputs ('a', 'b'); --calibration needs one sub-directory per sample with a file for each input`);
  });

  it('every op that cannot be quantized, listed at once', () => {
    const unsupported = scratchFile('erf.onnx', unsupportedOpsModel());
    const result = tinyedge(['quantize', unsupported, '--calibration', scratch, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.model);
    expect(expectOneLineError(result)).toBe(
      `tinyedge: ${unsupported}: 2 unsupported ops: Erf (node 'the_erf': not supported for quantization), Cos (node 'the_cos': not supported for quantization)`,
    );
  });

  it('a TFLite model', () => {
    const tflite = resolve(repoRoot, 'examples/kws/kws_ref_model.tflite');
    const result = tinyedge(['quantize', tflite, '--calibration', scratch, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.model);
    expect(expectOneLineError(result)).toContain(`${tflite}: is a TFLite model; tinyedge quantize takes a float ONNX model`);
  });

  it('--percentile without --method percentile, or out of range', () => {
    const minmax = tinyedge(['quantize', model, '--calibration', scratch, '-o', join(scratch, 'x.onnx'), '--percentile', '99']);
    expect(minmax.code).toBe(ExitCode.usage);
    expect(expectOneLineError(minmax)).toBe('tinyedge: --percentile applies to --method percentile only');
    const range = tinyedge(['quantize', model, '--calibration', scratch, '-o', join(scratch, 'x.onnx'), '--method', 'percentile', '--percentile', '101']);
    expect(range.code).toBe(ExitCode.usage);
    expect(expectOneLineError(range)).toContain('--percentile 101: must be above 50 and at most 100');
  });

  it('no --calibration', () => {
    const result = tinyedge(['quantize', model, '-o', join(scratch, 'x.onnx')]);
    expect(result.code).toBe(ExitCode.usage);
    expect(expectOneLineError(result)).toContain('calibration');
  });
});

