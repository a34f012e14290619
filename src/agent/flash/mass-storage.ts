import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hex32 } from '../bootloader/protocol.js';
import { FlashError } from './errors.js';
import type { FirmwareImage } from './image.js';

/** Where desktop automounters (udisks: /media/USER, /run/media/USER) and people (/mnt) put USB drives. */
export const DEFAULT_MOUNT_ROOTS = ['/media', '/run/media', '/mnt'];

/** The ST-LINK/V2-1 and V3 drives are labelled NODE_<board>, e.g. NODE_F446RE. */
const STLINK_LABEL = /^NODE_/;

export interface MassStorageOptions {
  /** The drive's mount point; found by label when absent. */
  drive?: string;
  /** The image must start here (the drive programs a .bin at the flash origin). */
  flashOrigin: number;
  mountRoots?: string[];
  /** How long the ST-LINK may take to program and come back (default 60 s). */
  timeoutMs?: number;
  pollMs?: number;
}

/** Mount points of ST-LINK drives: NODE_* directly under a root, or one level down (a user's folder). */
export async function findStlinkDrives(roots: readonly string[] = DEFAULT_MOUNT_ROOTS): Promise<string[]> {
  const found = new Set<string>();
  for (const root of roots) {
    for (const entry of await listDirs(root)) {
      const full = path.join(root, entry);
      if (STLINK_LABEL.test(entry)) found.add(full);
      else for (const inner of await listDirs(full)) if (STLINK_LABEL.test(inner)) found.add(path.join(full, inner));
    }
  }
  if (roots === DEFAULT_MOUNT_ROOTS) for (const mount of await stlinkMountsFromProc()) found.add(mount);
  return [...found].sort();
}

/**
 * Copies the .bin to the drive; the ST-LINK programs it, then drops off the USB bus and comes back (the drive is
 * unmounted and mounted again). Success is a drive back without FAIL.TXT.
 */
export async function flashOverMassStorage(image: FirmwareImage, options: MassStorageOptions): Promise<string> {
  if (image.address !== options.flashOrigin) {
    throw new FlashError(
      'mass-storage',
      `the ST-LINK drive writes a .bin at the flash origin ${hex32(options.flashOrigin)}; this image starts at ${hex32(image.address)}`,
    );
  }
  const roots = options.mountRoots ?? DEFAULT_MOUNT_ROOTS;
  const drive = options.drive ?? (await pickDrive(roots));
  const before = await identity(drive);
  if (!before) throw new FlashError('mass-storage', `${drive} is not a mounted drive`);

  const destination = path.join(drive, `${path.basename(image.file).replace(/\.[^.]*$/, '') || 'firmware'}.bin`);
  try {
    await writeFile(destination, image.bytes);
    // The ST-LINK starts programming when the file is complete on the device, not when it sits in our page cache.
    const handle = await open(destination, 'r+');
    await handle.sync();
    await handle.close();
  } catch (error) {
    // The drive may vanish mid-close when the ST-LINK is quick: that is the success path below.
    if ((await identity(drive)) === before) {
      throw new FlashError('mass-storage', `cannot copy to ${drive}: ${(error as Error).message}`);
    }
  }

  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  // There is no event for a USB drive coming and going that works under every automounter: poll the mount.
  while ((await identity(drive)) === before) {
    if (Date.now() > deadline) {
      throw new FlashError('mass-storage', `${drive} did not re-enumerate within ${timeoutMs / 1000} s: the ST-LINK did not take the image`);
    }
    await delay(pollMs);
  }
  let back: string | undefined;
  while (!(back = await reappeared(drive, roots))) {
    if (Date.now() > deadline) {
      throw new FlashError(
        'mass-storage',
        `${drive} went away after the copy and did not come back within ${timeoutMs / 1000} s: is automounting on?`,
      );
    }
    await delay(pollMs);
  }
  const failure = await readFile(path.join(back, 'FAIL.TXT'), 'utf8').catch(() => undefined);
  if (failure !== undefined) {
    throw new FlashError('mass-storage', `the ST-LINK reports: ${failure.trim().replace(/\s+/g, ' ')}`);
  }
  return back;
}

async function pickDrive(roots: readonly string[]): Promise<string> {
  const drives = await findStlinkDrives(roots);
  if (drives.length === 1) return drives[0];
  if (drives.length === 0) {
    throw new FlashError(
      'mass-storage',
      `no ST-LINK drive (NODE_*) mounted under ${roots.join(', ')}: plug the board in and mount its drive, or pass the drive path as the port`,
    );
  }
  throw new FlashError('mass-storage', `several ST-LINK drives mounted (${drives.join(', ')}): pass one as the port`);
}

/** A drive that is mounted again: the same path, or the automounter's new one (NODE_F446RE -> NODE_F446RE1). */
async function reappeared(drive: string, roots: readonly string[]): Promise<string | undefined> {
  const label = path.basename(drive);
  const sameLabel = (d: string) => path.basename(d).startsWith(label) && /^\d*$/.test(path.basename(d).slice(label.length));
  const candidates = [drive, ...(await findStlinkDrives(roots)).filter(sameLabel)];
  for (const candidate of candidates) {
    // A mounted ST-LINK drive always shows its files (DETAILS.TXT, MBED.HTM); an empty folder is no drive.
    const entries = await readdir(candidate).catch(() => []);
    if (entries.length > 0) return candidate;
  }
  return undefined;
}

/** Device and inode of the mount point: they change when the drive is unmounted, even if the folder stays. */
async function identity(drive: string): Promise<string | undefined> {
  const info = await stat(drive).catch(() => undefined);
  return info ? `${info.dev}:${info.ino}` : undefined;
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

async function stlinkMountsFromProc(): Promise<string[]> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  return mounts
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((mount): mount is string => !!mount && STLINK_LABEL.test(path.basename(mount)));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
