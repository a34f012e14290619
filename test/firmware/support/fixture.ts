/**
 * The hand-written fixture model library (test/firmware/fixtures/add-one): two layers, add one to every byte then
 * reverse them. It exercises the firmware harness, not a model.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FirmwareModel } from '../../../src/build/firmware.js';

export const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/add-one');
export const FIXTURE_BYTES = 2048;

export const fixtureModel = (bytes = FIXTURE_BYTES): FirmwareModel => ({
  prefix: 'fixture',
  inputBytes: [bytes],
  outputBytes: [bytes],
  layerCount: 2,
});

/** What the fixture computes: reversed(input + 1), wrapping in int8. */
export function fixtureOutput(input: Int8Array): Int8Array {
  const plusOne = Int8Array.from(input, (v) => v + 1);
  return plusOne.reverse();
}

export function fixtureInput(bytes = FIXTURE_BYTES, seed = 7): Int8Array {
  return Int8Array.from({ length: bytes }, (_, i) => (i * seed + (i >> 3)) & 0xff);
}

const created: string[] = [];

/** A fresh directory under the system temp folder, removed by removeTemporaryDirectories. */
export function temporaryDirectory(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tinyedge-${prefix}-`));
  created.push(dir);
  return dir;
}

export function removeTemporaryDirectories(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A copy of the fixture with other sizes (or extra C appended to the model source). */
export function fixtureVariant(config: {
  bytes?: number;
  arenaBytes?: number;
  weightBytes?: number;
  extraSource?: string;
  trap?: boolean;
}): string {
  const dir = temporaryDirectory('fixture');
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  const bytes = config.bytes ?? FIXTURE_BYTES;
  writeFileSync(
    path.join(dir, 'fixture_config.h'),
    `#define FIXTURE_BYTES ${bytes}u\n#define FIXTURE_ARENA_BYTES ${config.arenaBytes ?? bytes}u\n#define FIXTURE_WEIGHT_BYTES ${config.weightBytes ?? 16}u\n` +
      (config.trap ? '#define FIXTURE_TRAP 1\n' : ''),
  );
  if (config.extraSource) writeFileSync(path.join(dir, 'tinyedge_fixture_extra.c'), config.extraSource);
  return dir;
}
