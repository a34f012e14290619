/**
 * The real `tinyedge` command, spawned as a user would run it: outputs on stdout, one-line errors on stderr, and
 * the exit codes of src/errors.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { toNumbers } from '../../src/io/ndarray.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { expectOneLineError, hasShared, repoRoot, shared, sharedModel, tinyedge } from './cli-harness.js';
import { erfModel, qdqConvModel } from './onnx-models.js';

const kwsExample = resolve(repoRoot, 'examples/kws/kws_ref_model.tflite');
const kwsInput = resolve(repoRoot, 'examples/kws/input.npy');
const kwsExpected = JSON.parse(readFileSync(resolve(repoRoot, 'examples/kws/expected.json'), 'utf8')) as {
  outputs: { name: string; dtype: string; shape: number[]; data: number[] }[];
};

const scratch = mkdtempSync(join(tmpdir(), 'tinyedge-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const scratchFile = (name: string, content: string | Uint8Array) => {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
};

interface Case {
  name: string;
  model: string;
  input: { dtype: string; data: number[]; float_data?: number[] };
  expected: { name: string; dtype: string; shape: number[]; data: number[] }[];
}
const cases: Case[] = hasShared
  ? (JSON.parse(readFileSync(resolve(shared, 'models/reference/cases.json'), 'utf8')) as { cases: Case[] }).cases
  : [];
const caseNamed = (name: string) => cases.find((c) => c.name === name)!;

describe('tinyedge inspect', () => {
  it('--json: the documented keys and the KWS totals', () => {
    const result = tinyedge(['inspect', kwsExample, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(['format', 'inputs', 'outputs', 'layers', 'macs', 'paramBytes', 'unsupported', 'optimized']);
    expect(report.format).toBe('tflite');
    expect(report.inputs).toHaveLength(1);
    expect(Object.keys(report.inputs[0])).toEqual(['name', 'shape', 'dtype', 'scale', 'zeroPoint']);
    expect(report.inputs[0]).toMatchObject({ shape: [1, 49, 10, 1], dtype: 'int8' });
    expect(report.outputs[0]).toMatchObject({ shape: [1, 12], dtype: 'int8', scale: 0.00390625, zeroPoint: -128 });
    expect(report.macs).toBe(2_656_768);
    for (const layer of report.layers) expect(Object.keys(layer)).toEqual(['name', 'op', 'outputShape', 'macs', 'paramBytes']);
    const ops = report.layers.map((layer: { op: string }) => layer.op);
    expect(ops.filter((op: string) => op === 'DepthwiseConv2D')).toHaveLength(4);
    expect(ops.filter((op: string) => op === 'Conv2D')).toHaveLength(5);
    expect(ops).toContain('FullyConnected');
    // Weights + int32 biases: 10x4 conv 64 ch, 4 x (3x3 DW 64 + 1x1 64->64), FC 64->12.
    const params = 64 * 40 + 64 * 4 + 4 * (9 * 64 + 64 * 4 + 64 * 64 + 64 * 4) + 12 * 64 + 12 * 4;
    expect(report.paramBytes).toBe(params);
    expect(report.layers.reduce((sum: number, layer: { paramBytes: number }) => sum + layer.paramBytes, 0)).toBe(params);
    expect(report.unsupported).toEqual([]);
  });

  it('prints a human table by default', () => {
    const result = tinyedge(['inspect', kwsExample]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^kws_ref_model\.tflite \(tflite\)/);
    expect(result.stdout).toContain('2,656,768');
    expect(result.stdout).toMatch(/DepthwiseConv2D\s+\[1,25,5,64\]\s+72,000/);
    expect(result.stdout).toContain('unsupported ops: none');
  });

  it.skipIf(!hasShared)('shows a uint8 boundary in uint8 terms', () => {
    const result = tinyedge(['inspect', sharedModel('tflite-uint8/conv.uint8.tflite'), '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    for (const io of [...report.inputs, ...report.outputs]) {
      expect(io.dtype).toBe('uint8');
      expect(io.zeroPoint).toBeGreaterThanOrEqual(0);
      expect(io.zeroPoint).toBeLessThanOrEqual(255);
    }
  });
});

describe('tinyedge run', () => {
  it('--json: the KWS example gives TFLite-Micro\'s output', () => {
    const result = tinyedge(['run', kwsExample, '--input', kwsInput, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ outputs: kwsExpected.outputs });
  });

  it('prints the outputs as text by default', () => {
    const result = tinyedge(['run', kwsExample, '--input', kwsInput]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Identity: int8[1,12]\n  ${kwsExpected.outputs[0]!.data.join(' ')}\n`);
  });

  it('--output writes .npy atomically and never overwrites without --force', () => {
    const output = join(scratch, 'kws-out.npy');
    const first = tinyedge(['run', kwsExample, '-i', kwsInput, '--output', output]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`wrote ${output}`);
    const written = decodeNpy(new Uint8Array(readFileSync(output)), output);
    expect(written.shape).toEqual([1, 12]);
    expect(toNumbers(written.data)).toEqual(kwsExpected.outputs[0]!.data);

    writeFileSync(output, 'precious');
    const again = tinyedge(['run', kwsExample, '-i', kwsInput, '--output', output]);
    expect(again.code).toBe(ExitCode.usage);
    expect(expectOneLineError(again)).toContain('already exists (use --force');
    expect(readFileSync(output, 'utf8')).toBe('precious');

    expect(tinyedge(['run', kwsExample, '-i', kwsInput, '--output', output, '--force']).code).toBe(0);
    const rewritten = decodeNpy(new Uint8Array(readFileSync(output)), output);
    expect(toNumbers(rewritten.data)).toEqual(kwsExpected.outputs[0]!.data);
  });

  it('reads the same input as .json and as raw .bin', () => {
    const values = toNumbers(decodeNpy(new Uint8Array(readFileSync(kwsInput)), kwsInput).data);
    const json = scratchFile('kws.json', JSON.stringify({ data: values }));
    const bin = scratchFile('kws.bin', Int8Array.from(values) as unknown as Uint8Array);
    for (const input of [json, bin]) {
      const result = tinyedge(['run', kwsExample, '--input', input, '--json']);
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout).outputs).toEqual(kwsExpected.outputs);
    }
  });

  it.skipIf(!hasShared)('quantizes float32 inputs with the model\'s scale: MLPerf AD on real float windows', () => {
    // The dataset file holds float32 log-mel windows of 640 values; windows 0 and 1 are cases.json's AD inputs.
    const file = readFileSync(sharedModel('mlperf-tiny/ad_dcase01_normal_id_01_00000000_hist_librosa.bin'));
    const floats = new Float32Array(new Uint8Array(file).buffer);
    for (const [window, name] of [[0, 'mlperf_ad_dcase01_window0'], [1, 'mlperf_ad_dcase01_window1']] as const) {
      const testCase = caseNamed(name);
      const values = floats.slice(window * 640, (window + 1) * 640);
      expect(Array.from(values)).toEqual(testCase.input.float_data);
      const npy = scratchFile(`ad${window}.npy`, encodeNpy({ dtype: 'float32', shape: [1, 640], data: values }));
      const json = scratchFile(`ad${window}.json`, JSON.stringify({ dtype: 'float32', data: Array.from(values) }));
      for (const input of [npy, json]) {
        const result = tinyedge(['run', sharedModel(testCase.model), '--input', input, '--json']);
        expect(result.stderr).toBe('');
        expect(JSON.parse(result.stdout).outputs[0].data).toEqual(testCase.expected[0]!.data);
      }
    }
  });

  it.skipIf(!hasShared)('reads .bin in the input\'s external dtype: raw float32 for an int8 input is refused', () => {
    const file = readFileSync(sharedModel('mlperf-tiny/ad_dcase01_normal_id_01_00000000_hist_librosa.bin'));
    const bin = scratchFile('ad-float.bin', file.subarray(0, 2560));
    const result = tinyedge(['run', sharedModel('mlperf-tiny/ad01_int8.tflite'), '--input', bin]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toMatch(/input '.+' expects int8\[1,640\] \(640 values\); .*ad-float\.bin holds int8\[2560\] \(2560 values\)/);
  });
});

describe.skipIf(!hasShared)('tinyedge run on a uint8 model', () => {
  it('takes uint8 data, or float32 to be quantized, and answers in uint8', () => {
    const model = sharedModel('tflite-uint8/conv.uint8.tflite');
    const { inputs } = JSON.parse(tinyedge(['inspect', model, '--json']).stdout);
    const { scale, zeroPoint } = inputs[0];
    const pixels = Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256);
    const uint8 = scratchFile('pixels.npy', encodeNpy({ dtype: 'uint8', shape: [1, 4, 4, 3], data: pixels }));
    const real = Float32Array.from(pixels, (q) => (q - zeroPoint) * scale);
    const float32 = scratchFile('pixels-real.npy', encodeNpy({ dtype: 'float32', shape: [1, 4, 4, 3], data: real }));
    const fromUint8 = tinyedge(['run', model, '--input', uint8, '--json']);
    const fromFloat = tinyedge(['run', model, '--input', float32, '--json']);
    expect(fromUint8.stderr).toBe('');
    const outputs = JSON.parse(fromUint8.stdout).outputs;
    expect(outputs[0]).toMatchObject({ dtype: 'uint8', shape: [1, 4, 4, 3] });
    expect(outputs[0].data.every((v: number) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    expect(new Set(outputs[0].data).size).toBeGreaterThan(4);
    expect(JSON.parse(fromFloat.stdout).outputs).toEqual(outputs);
  });
});

describe('tinyedge run on an ONNX QDQ model', () => {
  it('agrees with onnxruntime within one output step, NCHW and float32 at the boundary', async () => {
    const ort = await import('onnxruntime-node');
    const modelBytes = qdqConvModel();
    const model = scratchFile('qdq-conv.onnx', modelBytes);
    // Exact ties of x / 0.02 (0.01 -> 0.5, -0.01 -> -0.5, 0.03 -> 1.5) that half-to-even and half-away round apart.
    const x = Float32Array.from({ length: 50 }, (_, i) => (i < 4 ? [0.01, -0.01, 0.03, -0.05][i]! : Math.sin(i * 0.7) * 2.2));
    const input = scratchFile('qdq-x.npy', encodeNpy({ dtype: 'float32', shape: [1, 2, 5, 5], data: x }));
    const result = tinyedge(['run', model, '--input', input, '--json']);
    expect(result.stderr).toBe('');
    const ours = JSON.parse(result.stdout).outputs[0];
    expect(ours).toMatchObject({ name: 'y', dtype: 'float32', shape: [1, 3, 5, 5] });

    const session = await ort.InferenceSession.create(modelBytes);
    const theirs = (await session.run({ x: new ort.Tensor('float32', x, [1, 2, 5, 5]) })).y!.data as Float32Array;
    const steps = (ours.data as number[]).map((value, i) => Math.round((value - theirs[i]!) / 0.03));
    expect(steps.every((step) => Math.abs(step) <= 1)).toBe(true);
    expect(steps.filter((step) => step === 0).length).toBeGreaterThanOrEqual(70);
  });
});

describe('user mistakes: one line on stderr, no stack trace, the documented exit code', () => {
  const kwsBytes = readFileSync(kwsExample);
  const randomBytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);

  it.each([
    ['a missing model file', () => join(scratch, 'nope.tflite'), /nope\.tflite: no such file/],
    ['an empty file', () => scratchFile('empty.onnx', ''), /empty\.onnx: is empty/],
    ['random bytes', () => scratchFile('random.tflite', randomBytes), /random\.tflite: is neither a TFLite flatbuffer nor an ONNX model/],
    ['a truncated TFLite file', () => scratchFile('truncated.tflite', kwsBytes.subarray(0, 20_000)), /truncated\.tflite/],
    ['a TFLite file cut in its header', () => scratchFile('cut.tflite', kwsBytes.subarray(0, 64)), /cut\.tflite/],
  ])('%s: exit 3 (model)', (_, model, message) => {
    for (const command of [['inspect', model()], ['run', model(), '--input', kwsInput]]) {
      const result = tinyedge(command);
      expect(result.code).toBe(ExitCode.model);
      expect(expectOneLineError(result)).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  it.skipIf(!hasShared)('a float model: exit 3 (model)', () => {
    const model = sharedModel('onnx-contrib-tests/mnist-8-float/model.onnx');
    const input = scratchFile('mnist.json', JSON.stringify({ dtype: 'float32', data: new Array(784).fill(0) }));
    const result = tinyedge(['run', model, '--input', input]);
    expect(result.code).toBe(ExitCode.model);
    expect(expectOneLineError(result)).toContain('model.onnx');
  });

  it('an unsupported op: run fails naming node and op (exit 3); inspect reports it (exit 0)', () => {
    const model = scratchFile('erf.onnx', erfModel());
    const input = scratchFile('erf.json', JSON.stringify({ dtype: 'float32', data: [0, 0.1, 0.2, 0.3] }));
    const run = tinyedge(['run', model, '--input', input]);
    expect(run.code).toBe(ExitCode.model);
    expect(expectOneLineError(run)).toMatch(/Erf.*the_erf|the_erf.*Erf/);
    const inspect = tinyedge(['inspect', model, '--json']);
    expect(inspect.stderr).toBe('');
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout).unsupported).toEqual([{ node: 'the_erf', op: 'Erf' }]);
  });

  it('an input of the wrong size: exit 4, naming input, expected shape and dtype, and what was given', () => {
    const input = scratchFile('short.npy', encodeNpy({ dtype: 'int8', shape: [1, 48, 10], data: new Int8Array(480) }));
    const result = tinyedge(['run', kwsExample, '--input', input]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toMatch(/input '.+' expects int8\[1,49,10,1\] \(490 values\); .*short\.npy holds int8\[1,48,10\] \(480 values\)/);
  });

  it.each([
    ['a missing input file', () => ['--input', join(scratch, 'none.npy')], /none\.npy: no such file/],
    ['a truncated .npy', () => ['--input', scratchFile('cut.npy', readFileSync(kwsInput).subarray(0, 300))], /cut\.npy: not a valid \.npy file: truncated data/],
    ['two inputs for a one-input model', () => ['--input', kwsInput, '--input', kwsInput], /the model has 1 input \('.+', in this order\); 2 --input given/],
    ['uint8 data for an int8 input', () => ['--input', scratchFile('u8.npy', encodeNpy({ dtype: 'uint8', shape: [490], data: new Uint8Array(490) }))], /expects int8\[1,49,10,1\] \(or float32, to be quantized\)/],
  ])('%s: exit 4 (input)', (_, inputArgs, message) => {
    const result = tinyedge(['run', kwsExample, ...inputArgs()]);
    expect(result.code).toBe(ExitCode.input);
    expect(expectOneLineError(result)).toMatch(message);
  });

  it.each([
    ['no command', [], /no command given/],
    ['an unknown command', ['deploy-everything'], /Unknown argument/],
    ['run without --input', ['run', kwsExample], /Missing required argument: input/],
    ['an unknown engine', ['run', kwsExample, '--input', kwsInput, '--engine', 'gpu'], /Invalid values: .*engine.*gpu/],
    ['an unknown option', ['inspect', kwsExample, '--jsn'], /Unknown argument: jsn/],
    ['a non-.npy --output', ['run', kwsExample, '--input', kwsInput, '--output', 'out.txt'], /only \.npy output files/],
  ])('%s: exit 2 (usage)', (_, args, message) => {
    const result = tinyedge(args as string[]);
    expect(result.code).toBe(ExitCode.usage);
    expect(expectOneLineError(result)).toMatch(message);
  });

  it('TINYEDGE_DEBUG=1 adds the stack trace, same exit code', () => {
    const result = tinyedge(['inspect', join(scratch, 'nope.tflite')], { TINYEDGE_DEBUG: '1' });
    expect(result.code).toBe(ExitCode.model);
    expect(result.stderr.split('\n')[0]).toMatch(/^tinyedge: .*nope\.tflite: no such file$/);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('--help lists the commands and exits 0', () => {
    const result = tinyedge(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tinyedge inspect <model>/);
    expect(result.stdout).toMatch(/tinyedge run <model>/);
  });
});
