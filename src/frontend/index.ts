/**
 * Model loading: read the file, recognise its format by content (never by extension) and hand it to its importer.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { ModelError } from '../errors.js';
import type { Graph } from '../ir/types.js';
import { importOnnx } from './onnx/index.js';
import { importTflite } from './tflite/index.js';

const { onnx } = onnxProto;

export async function loadModel(file: string): Promise<Graph> {
  const bytes = await readModelFile(file);
  if (bytes.length === 0) throw new ModelError(file, 'is empty');
  const graph = importByContent(bytes, file);
  graph.source = { file, sha256: createHash('sha256').update(bytes).digest('hex') };
  return graph;
}

function importByContent(bytes: Uint8Array, file: string): Graph {
  if (isTflite(bytes)) return importTflite(bytes, file);
  if (isOnnx(bytes)) return importOnnx(bytes, file);
  throw new ModelError(file, 'is neither a TFLite flatbuffer nor an ONNX model');
}

async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelError(file, 'no such file');
    if (code === 'EISDIR') throw new ModelError(file, 'is a directory, not a model file');
    if (code === 'EACCES') throw new ModelError(file, 'permission denied');
    // Whatever else stops us reading the user's file (ELOOP, EIO, ...) is about that file, not a bug in tinyedge.
    if (code) throw new ModelError(file, `cannot be read (${code})`);
    throw error;
  }
}

/** A TFLite flatbuffer carries the file identifier "TFL3" right after its 4-byte root table offset. */
export function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

/**
 * ONNX has no magic number: a file is taken for ONNX when it decodes as a ModelProto that has a graph and an IR
 * version or opset (protobuf decodes some unrelated bytes without error, but not into that).
 */
export function isOnnx(bytes: Uint8Array): boolean {
  try {
    const model = onnx.ModelProto.decode(bytes);
    return model.graph != null && (Number(model.irVersion) > 0 || model.opsetImport.length > 0);
  } catch {
    return false;
  }
}
