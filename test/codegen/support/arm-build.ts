/**
 * The generated model compiled alone with arm-none-eabi-gcc in strict C99 (-pedantic -Wall -Wextra -Werror), one
 * object per core: the warning-free check the kernel tests share.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { libraryFileNames, type GeneratedLibrary } from '../../../src/codegen/index.js';

/** Per core, gcc's exit code and its messages. */
export async function strictArmBuilds(library: GeneratedLibrary, cpus: readonly string[]): Promise<{ cpu: string; exitCode: number; messages: string }[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-strict-arm-'));
  try {
    for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
    const results = [];
    for (const cpu of cpus) {
      const args = [`-mcpu=${cpu}`, '-mthumb', '-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror', '-O2', '-c', libraryFileNames(library.prefix).model];
      const result = await execa('arm-none-eabi-gcc', args, { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } });
      results.push({ cpu, exitCode: result.exitCode ?? -1, messages: result.all ?? '' });
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
