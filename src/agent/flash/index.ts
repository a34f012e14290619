import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { mainFlash, type Target } from '../../targets/index.js';
import type { BootPins } from '../bootloader/boot-pins.js';
import type { FlashProgress } from '../bootloader/stm32-uart-bootloader.js';
import { FlashError } from './errors.js';
import { flashWithTool, type ExternalToolMethod } from './external-tools.js';
import { loadFirmwareImage, type FirmwareImage } from './image.js';
import { flashOverMassStorage } from './mass-storage.js';
import { stm32ChipOf } from './target-chip.js';
import { flashOverUartBootloader } from './uart-bootloader.js';

export { FlashError, ImageError } from './errors.js';
export { loadFirmwareImage, type FirmwareImage } from './image.js';
export { findStlinkDrives } from './mass-storage.js';

export const FLASH_METHODS = ['uart-bootloader', 'mass-storage', 'st-flash', 'openocd', 'stm32-programmer', 'pyocd'] as const;
export type FlashMethod = (typeof FLASH_METHODS)[number];

/** targets/*.json call the ROM bootloader method "stm32-bootloader". */
const METHOD_ALIASES: Record<string, FlashMethod> = { 'stm32-bootloader': 'uart-bootloader' };

export interface FlashFirmwareOptions {
  /** A .bin (programmed at the flash origin) or an ELF (its load segments), told apart by content. */
  image: string;
  target: Target;
  method: FlashMethod | string;
  /** Serial port for uart-bootloader; the drive's mount point for mass-storage (found by label when absent). */
  port?: string;
  /** uart-bootloader line settings (default 115200 8E1; 8N1 on a pseudo-terminal). */
  baudRate?: number;
  parity?: 'even' | 'none';
  /** uart-bootloader on boards whose DTR/RTS drive NRST/BOOT0. */
  bootPins?: BootPins;
  /** Read back and compare (default true; the drive method cannot). */
  verify?: boolean;
  /** Start the firmware afterwards (default true). */
  run?: boolean;
  pyocdTarget?: string;
  onProgress?: (progress: FlashProgress) => void;
}

export interface FlashResult {
  method: FlashMethod;
  /** Port, drive or tool that did it. */
  via: string;
  address: number;
  bytes: number;
  verified: boolean;
  durationMs: number;
}

/** Puts a firmware image into the target's flash by one of the supported methods. */
export async function flashFirmware(options: FlashFirmwareOptions): Promise<FlashResult> {
  const method = resolveMethod(options.method);
  const { target } = options;
  const flash = mainFlash(target);
  const chip = stm32ChipOf(target);
  if (!chip) {
    throw new FlashError(method, `target ${target.name} names no STM32 tinyedge knows (flash.bootloaderProductId or the part in its description)`);
  }
  const image = await loadFirmwareImage(options.image, flash);
  const started = Date.now();
  const verify = options.verify ?? true;
  const run = options.run ?? true;
  const done = (via: string, verified: boolean): FlashResult => ({
    method,
    via,
    address: image.address,
    bytes: image.bytes.length,
    verified,
    durationMs: Date.now() - started,
  });

  switch (method) {
    case 'uart-bootloader': {
      if (!options.port) throw new UsageError('flashing over the ROM bootloader needs a serial port (--port); `tinyedge ports` lists them');
      await flashOverUartBootloader(image, {
        port: options.port,
        chip,
        productId: target.flash.bootloaderProductId ?? chip.productId,
        flashSize: flash.size,
        baudRate: options.baudRate,
        parity: options.parity,
        bootPins: options.bootPins,
        verify,
        run,
        onProgress: options.onProgress,
      });
      return done(options.port, verify);
    }
    case 'mass-storage': {
      const drive = await flashOverMassStorage(image, { drive: options.port, flashOrigin: flash.origin });
      return done(drive, false);
    }
    default: {
      await withBinFile(image, (binFile) =>
        flashWithTool(method, { binFile, address: image.address, chip, verify, run, pyocdTarget: options.pyocdTarget }),
      );
      return done(method, verify && method !== 'pyocd');
    }
  }
}

function resolveMethod(name: string): FlashMethod {
  const method = METHOD_ALIASES[name] ?? name;
  if (!(FLASH_METHODS as readonly string[]).includes(method)) {
    throw new UsageError(`unknown flash method '${name}'; methods: ${FLASH_METHODS.join(', ')}`);
  }
  return method as FlashMethod;
}

/** External flashers take a file: the flat image (an ELF already converted) in a temporary folder. */
async function withBinFile<T>(image: FirmwareImage, use: (binFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-flash-'));
  try {
    const binFile = path.join(dir, `${path.basename(image.file).replace(/\.[^.]*$/, '') || 'firmware'}.bin`);
    await writeFile(binFile, image.bytes);
    return await use(binFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type { ExternalToolMethod };
