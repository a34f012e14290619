/**
 * `tinyedge convert`: a TFLite model written as ONNX QDQ through the real command; tinyedge reads the result back and
 * its reference gives the TFLite model's golden output, and onnxruntime runs it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, repoRoot, tinyedge } from './cli-harness.js';

const kws = resolve(repoRoot, 'examples/kws/kws_ref_model.tflite');
const kwsInput = resolve(repoRoot, 'examples/kws/input.npy');
const work = mkdtempSync(join(tmpdir(), 'tinyedge-convert-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('tinyedge convert', () => {
  it('KWS as ONNX QDQ: re-imported, the reference output equals the TFLite model\'s', async () => {
    const onnxFile = join(work, 'kws.onnx');
    const converted = tinyedge(['convert', kws, '-o', onnxFile]);
    expect(converted.code, converted.stderr).toBe(0);
    const fromOnnx = JSON.parse(tinyedge(['run', onnxFile, '--input', kwsInput, '--json']).stdout);
    const fromTflite = JSON.parse(tinyedge(['run', kws, '--input', kwsInput, '--json']).stdout);
    expect(fromOnnx.outputs[0].data).toEqual(fromTflite.outputs[0].data);

    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnxFile);
    expect(session.inputNames.length).toBe(1);
  });

  it('refuses to overwrite a file without --force and to write anything but .onnx', () => {
    const existing = join(work, 'mine.onnx');
    writeFileSync(existing, 'keep me');
    const refused = tinyedge(['convert', kws, '-o', existing]);
    expect(refused.code).toBe(2);
    expectOneLineError(refused);
    const wrongExtension = tinyedge(['convert', kws, '-o', join(work, 'x.tflite')]);
    expect(wrongExtension.code).toBe(2);
    expect(existsSync(join(work, 'x.tflite'))).toBe(false);
  });
});
