import { realpath } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { resetIntoApplication, resetIntoBootloader, type BootPins } from '../bootloader/boot-pins.js';
import { Stm32UartBootloader, type DeviceInfo, type FlashProgress } from '../bootloader/stm32-uart-bootloader.js';
import type { Stm32Chip } from '../bootloader/chips.js';
import { FlashError } from './errors.js';
import type { FirmwareImage } from './image.js';

export interface UartFlashOptions {
  port: string;
  chip: Stm32Chip;
  /** The id Get ID must report (the target's, else the chip's). */
  productId: number;
  flashSize: number;
  baudRate?: number;
  /** The ROM wants 8E1; a pseudo-terminal cannot carry parity, so ptys default to 8N1. */
  parity?: 'even' | 'none';
  bootPins?: BootPins;
  verify?: boolean;
  /** Start the firmware afterwards: Go, or a reset with BOOT0 low when the board's modem lines are wired. */
  run?: boolean;
  onProgress?: (progress: FlashProgress) => void;
}

export async function flashOverUartBootloader(image: FirmwareImage, options: UartFlashOptions): Promise<DeviceInfo> {
  const parity = options.parity ?? ((await isPseudoTerminal(options.port)) ? 'none' : 'even');
  const serial = new SerialPort({
    path: options.port,
    baudRate: options.baudRate ?? 115200,
    dataBits: 8,
    stopBits: 1,
    parity,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) =>
    serial.open((error) =>
      error ? reject(new FlashError('uart-bootloader', `cannot open ${options.port}: ${error.message}`)) : resolve(),
    ),
  );
  const bootloader = new Stm32UartBootloader(serial, { port: options.port, onProgress: options.onProgress });
  try {
    if (options.bootPins) await resetIntoBootloader(options.port, serial, options.bootPins);
    const info = await bootloader.connect(options.productId);
    await bootloader.program(image.bytes, {
      address: image.address,
      chip: options.chip,
      flashSize: options.flashSize,
      verify: options.verify,
    });
    if (options.run !== false) {
      if (options.bootPins?.boot0) await resetIntoApplication(options.port, serial, options.bootPins);
      else await bootloader.go(options.chip.flashOrigin);
    }
    return info;
  } finally {
    bootloader.detach();
    await new Promise<void>((resolve) => (serial.isOpen ? serial.close(() => resolve()) : resolve()));
  }
}

async function isPseudoTerminal(port: string): Promise<boolean> {
  const real = await realpath(port).catch(() => port);
  return real.startsWith('/dev/pts/');
}

