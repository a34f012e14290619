/**
 * Writing result files: atomically (a reader never sees half a file, a crash leaves no partial file) and never over
 * an existing file unless asked to.
 */
import { randomBytes } from 'node:crypto';
import { access, link, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Where each of `count` outputs goes for `--output FILE.npy`: the first output to FILE.npy itself, output i >= 1 to
 * FILE.i.npy, so a single-output model writes exactly the file named.
 */
export function outputPaths(file: string, count: number): string[] {
  const extension = extname(file);
  const stem = file.slice(0, file.length - extension.length);
  return Array.from({ length: count }, (_, i) => (i === 0 ? file : `${stem}.${i}${extension}`));
}

/** Fails with a UsageError naming the first of `files` that exists (before anything is written). */
export async function assertWritable(files: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const file of files) {
    if (await exists(file)) throw new UsageError(`${file} already exists (use --force to overwrite it)`);
  }
}

/** Writes `bytes` to a temporary file beside `file`, then moves it into place. */
export async function writeFileAtomic(file: string, bytes: Uint8Array, force: boolean): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`${file}: no such directory '${dirname(file)}'`);
    if (code === 'EACCES' || code === 'EROFS') throw new UsageError(`${file}: cannot write there (${code})`);
    throw error;
  }
  try {
    if (force) {
      await rename(temporary, file);
    } else {
      // link() refuses an existing target atomically, where a check followed by rename() could race.
      await link(temporary, file);
      await unlink(temporary);
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file} already exists (use --force to overwrite it)`);
    }
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
