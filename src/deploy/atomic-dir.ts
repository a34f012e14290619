/**
 * A directory that appears complete or not at all: it is filled under a temporary sibling name, then renamed into
 * place. An existing directory is replaced only when forced, and kept if anything fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

export async function assertDirectoryWritable(dir: string, force: boolean): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
  if (existing && !force) throw new UsageError(`${dir} already exists; use --force to replace it`);
}

/**
 * Calls `fill` with an empty staging directory beside `dir`; when it succeeds, the staging directory becomes `dir`.
 * `fill` receives the final path too, for anything that must name where its files will end up.
 */
export async function produceDirectory<T>(dir: string, force: boolean, fill: (staging: string) => Promise<T>): Promise<T> {
  const target = path.resolve(dir);
  await assertDirectoryWritable(target, force);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tinyedge-new-${suffix}`);
  const retired = path.join(parent, `.${path.basename(target)}.tinyedge-old-${suffix}`);
  try {
    await mkdir(staging);
    const result = await fill(staging);
    const existing = await stat(target).catch(() => null);
    if (existing && !force) throw new UsageError(`${dir} already exists; use --force to replace it`);
    if (existing) await rename(target, retired);
    try {
      await rename(staging, target);
    } catch (error) {
      if (existing) await rename(retired, target);
      throw error;
    }
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}
