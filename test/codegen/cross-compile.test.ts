/**
 * The generated C is portable C99 for the target: it compiles warning-free with arm-none-eabi-gcc for a Cortex-M4F,
 * for the MLPerf Tiny models and for a program holding every kernel template (every op family and variant).
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLibrary, libraryFileNames } from '../../src/codegen/index.js';
import type { Graph } from '../../src/ir/types.js';
import { LAYER_KINDS, mergeLayers, randomLayer } from './support/layers.js';
import { loadSharedModel, MLPERF_TINY, SHARED_PRESENT } from './support/models.js';

const ARM_CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', '-O2', '-c'];

/** Compiles the library for the Cortex-M4 and returns the .text bytes of the model object (code, no weights). */
async function crossCompile(graph: Graph, hash: string): Promise<{ codeBytes: number }> {
  const library = generateLibrary(graph, { modelHash: hash });
  const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-arm-'));
  try {
    for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
    const names = libraryFileNames(library.prefix);
    const result = await execa('arm-none-eabi-gcc', [...ARM_CFLAGS, names.model, names.weights], { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } });
    expect(result.exitCode, result.all).toBe(0);
    const size = await execa('arm-none-eabi-size', [names.model.replace(/\.c$/, '.o')], { cwd: dir });
    return { codeBytes: Number(size.stdout.split('\n')[1]!.trim().split(/\s+/)[0]) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('arm-none-eabi-gcc -mcpu=cortex-m4 -Wall -Wextra -Werror -pedantic', () => {
  it('compiles every kernel template (3 random layers of every kind in one library)', async () => {
    const layers = LAYER_KINDS.flatMap((kind, k) => [0, 1, 2].map((i) => randomLayer(kind, 9000 + k * 10 + i, `l${k}_${i}`)));
    const { graph } = mergeLayers('all_kernels', layers);
    await crossCompile(graph, '0'.repeat(16));
  });

  (SHARED_PRESENT ? it : it.skip)('compiles the MLPerf Tiny models', async () => {
    for (const model of MLPERF_TINY) {
      const { graph, hash } = loadSharedModel(model.file);
      const { codeBytes } = await crossCompile(graph, hash);
      console.log(`${model.name}: ${codeBytes} bytes of code for the Cortex-M4 (-O2, portable C kernels)`);
      expect(codeBytes).toBeGreaterThan(0);
    }
  });
});
