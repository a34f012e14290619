import { readFile } from 'node:fs/promises';
import { hex32 } from '../bootloader/protocol.js';
import { ImageError } from './errors.js';
import { isElf, readLoadSegments } from './elf32.js';

export interface FlashRegion {
  origin: number;
  size: number;
}

/** A flat image: the bytes to program from `address` on, gaps filled with erased-flash 0xFF. */
export interface FirmwareImage {
  file: string;
  format: 'bin' | 'elf';
  address: number;
  bytes: Uint8Array;
}

/**
 * Reads a .bin (placed at the flash origin) or an ELF (its PT_LOAD segments placed at their load addresses), told
 * apart by content, not by extension. Everything must land inside `flash`.
 */
export async function loadFirmwareImage(file: string, flash: FlashRegion): Promise<FirmwareImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new ImageError(file, `cannot read the firmware image (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return firmwareImageFrom(file, bytes, flash);
}

export function firmwareImageFrom(file: string, bytes: Uint8Array, flash: FlashRegion): FirmwareImage {
  if (bytes.length === 0) throw new ImageError(file, 'the firmware image is empty');
  if (!isElf(bytes)) {
    checkFits(file, flash.origin, bytes.length, flash);
    return { file, format: 'bin', address: flash.origin, bytes };
  }
  let segments;
  try {
    segments = readLoadSegments(bytes);
  } catch (error) {
    throw new ImageError(file, (error as Error).message);
  }
  // Cortex-M parts alias the boot flash at 0: an image linked there is the same bytes at the flash origin.
  const linkedAtAlias = flash.origin !== 0 && segments.every((s) => s.address + s.data.length <= flash.size);
  const placed = segments.map((s) => ({ address: linkedAtAlias ? s.address + flash.origin : s.address, data: s.data }));
  const start = placed[0].address;
  const end = Math.max(...placed.map((s) => s.address + s.data.length));
  for (const segment of placed) checkFits(file, segment.address, segment.data.length, flash);
  const flat = new Uint8Array(end - start).fill(0xff);
  for (const segment of placed) flat.set(segment.data, segment.address - start);
  return { file, format: 'elf', address: start, bytes: flat };
}

function checkFits(file: string, address: number, length: number, flash: FlashRegion): void {
  const flashEnd = flash.origin + flash.size;
  if (address < flash.origin || address + length > flashEnd) {
    throw new ImageError(
      file,
      `${length} bytes at ${hex32(address)} do not fit the target's flash ${hex32(flash.origin)}..${hex32(flashEnd - 1)}`,
    );
  }
}
