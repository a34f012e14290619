/**
 * Writes a generated library so that DIR is either the complete new library or untouched: the files go to a sibling
 * temporary directory first, which is renamed onto DIR at the end. An existing DIR is replaced only with `force`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface WriteOptions {
  /** Replace an existing DIR. */
  force?: boolean;
}

export async function writeLibraryAtomically(dir: string, files: ReadonlyMap<string, string>, options: WriteOptions = {}): Promise<void> {
  for (const name of files.keys()) {
    if (name !== path.basename(name) || name === '.' || name === '..') throw new Error(`generated file name '${name}' is not a plain file name`);
  }
  const target = path.resolve(dir);
  const existing = await stat(target).catch(() => null);
  if (existing && !existing.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
  if (existing && !options.force) throw new UsageError(`${dir} already exists; use --force to replace it`);

  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tinyedge-new-${suffix}`);
  const retired = path.join(parent, `.${path.basename(target)}.tinyedge-old-${suffix}`);
  try {
    await mkdir(staging);
    for (const [name, content] of files) await writeFile(path.join(staging, name), content);
    if (existing) await rename(target, retired);
    try {
      await rename(staging, target);
    } catch (error) {
      if (existing) await rename(retired, target); // put the old library back
      throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}
