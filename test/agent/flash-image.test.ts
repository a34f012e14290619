/**
 * Firmware images: our ELF32 reader against binutils' objcopy (an independent ELF-to-flat conversion) on a real
 * arm-none-eabi-gcc firmware, .bin pass-through, and clear errors for files that cannot be flashed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ImageError } from '../../src/agent/flash/errors.js';
import { loadFirmwareImage } from '../../src/agent/flash/image.js';
import { buildHelloFirmware, type HelloFirmware } from '../board/support/hello-firmware.js';

const flash = { origin: 0x0800_0000, size: 1024 * 1024 };
let dir: string;
let firmware: HelloFirmware;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-image-test-'));
  firmware = await buildHelloFirmware(dir);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('loadFirmwareImage', () => {
  test('an ELF becomes the same flat image objcopy -O binary --gap-fill 0xff makes, at the flash origin', async () => {
    const image = await loadFirmwareImage(firmware.elf, flash);
    const objcopy = await readFile(firmware.bin);
    expect(image.format).toBe('elf');
    expect(image.address).toBe(0x0800_0000);
    expect(Buffer.compare(Buffer.from(image.bytes), objcopy)).toBe(0);
    // The initialised data (the board name) is in the image, at its load address in flash.
    expect(Buffer.from(image.bytes).includes(Buffer.from('tinyedge\0'))).toBe(true);
  });

  test('an ELF linked at the boot alias 0x0 is placed at the flash origin', async () => {
    const aliased = path.join(dir, 'hello-at-0.elf');
    await execa('arm-none-eabi-objcopy', ['--change-section-lma', '*-0x08000000', firmware.elf, aliased]);
    const image = await loadFirmwareImage(aliased, flash);
    expect(image.address).toBe(0x0800_0000);
    expect(Buffer.compare(Buffer.from(image.bytes), await readFile(firmware.bin))).toBe(0);
  });

  test('a .bin (anything that is not an ELF) goes to the flash origin as is, whatever its name', async () => {
    const file = path.join(dir, 'firmware.elf.backup');
    await writeFile(file, Uint8Array.of(1, 2, 3));
    expect(await loadFirmwareImage(file, flash)).toEqual({ file, format: 'bin', address: 0x0800_0000, bytes: Uint8Array.of(1, 2, 3) });
  });

  test('files that cannot be flashed are ImageErrors naming the file and the reason', async () => {
    const tooBig = path.join(dir, 'big.bin');
    await writeFile(tooBig, new Uint8Array(flash.size + 4));
    await expect(loadFirmwareImage(tooBig, flash)).rejects.toThrow(
      new ImageError(tooBig, '1048580 bytes at 0x08000000 do not fit the target\'s flash 0x08000000..0x080fffff'),
    );

    const truncated = path.join(dir, 'truncated.elf');
    await writeFile(truncated, (await readFile(firmware.elf)).subarray(0, 40));
    await expect(loadFirmwareImage(truncated, flash)).rejects.toThrow(`${truncated}: truncated ELF header`);

    const object = path.join(dir, 'hello.o');
    const source = path.join(dir, 'x.c');
    await writeFile(source, 'int x = 1;\n');
    await execa('arm-none-eabi-gcc', ['-mcpu=cortex-m4', '-mthumb', '-c', '-o', object, source]);
    await expect(loadFirmwareImage(object, flash)).rejects.toThrow(/no program headers \(an object file, not a linked firmware\?\)/);

    const empty = path.join(dir, 'empty.bin');
    await writeFile(empty, new Uint8Array(0));
    await expect(loadFirmwareImage(empty, flash)).rejects.toThrow(`${empty}: the firmware image is empty`);

    await expect(loadFirmwareImage(path.join(dir, 'missing.bin'), flash)).rejects.toThrow(/missing\.bin: cannot read the firmware image \(ENOENT\)/);
  });

  test('an ELF whose code lies outside the flash is refused', async () => {
    const inRam = path.join(dir, 'hello-in-ram.elf');
    await execa('arm-none-eabi-objcopy', ['--change-section-lma', '*+0x18000000', firmware.elf, inRam]);
    await expect(loadFirmwareImage(inRam, flash)).rejects.toThrow(/bytes at 0x20000000 do not fit the target's flash/);
  });
});
