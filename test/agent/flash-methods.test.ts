/**
 * Flash methods that need hardware this machine does not have: the ST-LINK USB drive (played by a folder that
 * disappears and comes back, as the drive does when the ST-LINK re-enumerates) and the external flashers (not
 * installed here: the missing-tool message, and a stand-in script that records its command line).
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chipByProductId } from '../../src/agent/bootloader/chips.js';
import { FlashError } from '../../src/agent/flash/errors.js';
import { externalTools, flashWithTool } from '../../src/agent/flash/external-tools.js';
import { flashFirmware } from '../../src/agent/flash/index.js';
import { findStlinkDrives, flashOverMassStorage } from '../../src/agent/flash/mass-storage.js';
import { UsageError } from '../../src/errors.js';
import { loadTarget } from '../../src/targets/index.js';

const FLASH = 0x0800_0000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-flash-test-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const image = { file: '/work/fw/kws.bin', format: 'bin' as const, address: FLASH, bytes: Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff) };

/** Plays the ST-LINK: once the copied .bin is complete, the drive goes away and comes back with `files`. */
async function reenumerateAfterCopy(drive: string, files: Record<string, string>): Promise<Uint8Array> {
  for (;;) {
    const copied = await readFile(path.join(drive, 'kws.bin')).catch(() => undefined);
    if (copied?.length === image.bytes.length) {
      await rm(drive, { recursive: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await mkdir(drive);
      for (const [name, text] of Object.entries(files)) await writeFile(path.join(drive, name), text);
      return copied;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('mass-storage (ST-LINK drive)', () => {
  test('finds NODE_* drives directly under a mount root or in a user folder', async () => {
    const roots = [path.join(dir, 'find/media'), path.join(dir, 'find/mnt')];
    await mkdir(path.join(roots[0], 'alice/NODE_F446RE'), { recursive: true });
    await mkdir(path.join(roots[0], 'alice/USBSTICK'), { recursive: true });
    await mkdir(path.join(roots[1], 'NODE_H743ZI'), { recursive: true });
    expect(await findStlinkDrives(roots)).toEqual([path.join(roots[0], 'alice/NODE_F446RE'), path.join(roots[1], 'NODE_H743ZI')]);
  });

  test('copies the .bin and waits for the drive to come back without FAIL.TXT', async () => {
    const root = path.join(dir, 'ok/media');
    const drive = path.join(root, 'bob/NODE_F405');
    await mkdir(drive, { recursive: true });
    await writeFile(path.join(drive, 'DETAILS.TXT'), 'Version: V2J40M27');
    const stlink = reenumerateAfterCopy(drive, { 'DETAILS.TXT': 'Version: V2J40M27', 'MBED.HTM': '<html>' });
    const back = await flashOverMassStorage(image, { flashOrigin: FLASH, mountRoots: [root], timeoutMs: 10_000, pollMs: 20 });
    expect(back).toBe(drive);
    expect(Buffer.compare(Buffer.from(await stlink), Buffer.from(image.bytes))).toBe(0);
  });

  test('FAIL.TXT after re-enumeration is the error, quoted', async () => {
    const root = path.join(dir, 'fail/mnt');
    const drive = path.join(root, 'NODE_F446RE');
    await mkdir(drive, { recursive: true });
    await writeFile(path.join(drive, 'MBED.HTM'), '<html>');
    void reenumerateAfterCopy(drive, { 'FAIL.TXT': 'The interface firmware FAILED to reset/halt the target MCU\r\n' });
    await expect(
      flashOverMassStorage(image, { flashOrigin: FLASH, mountRoots: [root], timeoutMs: 10_000, pollMs: 20 }),
    ).rejects.toThrow(new FlashError('mass-storage', 'the ST-LINK reports: The interface firmware FAILED to reset/halt the target MCU'));
  });

  test('no drive, several drives, a drive that never re-enumerates: each a clear error', async () => {
    const empty = path.join(dir, 'none/media');
    await mkdir(empty, { recursive: true });
    await expect(flashOverMassStorage(image, { flashOrigin: FLASH, mountRoots: [empty] })).rejects.toThrow(
      `flash (mass-storage): no ST-LINK drive (NODE_*) mounted under ${empty}: plug the board in and mount its drive, or pass the drive path as the port`,
    );

    const two = path.join(dir, 'two/media');
    await mkdir(path.join(two, 'NODE_A'), { recursive: true });
    await mkdir(path.join(two, 'NODE_B'), { recursive: true });
    await expect(flashOverMassStorage(image, { flashOrigin: FLASH, mountRoots: [two] })).rejects.toThrow(/several ST-LINK drives mounted/);

    const stuck = path.join(dir, 'stuck/NODE_F405');
    await mkdir(stuck, { recursive: true });
    await expect(flashOverMassStorage(image, { flashOrigin: FLASH, drive: stuck, timeoutMs: 200, pollMs: 20 })).rejects.toThrow(
      `${stuck} did not re-enumerate within 0.2 s: the ST-LINK did not take the image`,
    );

    await expect(flashOverMassStorage({ ...image, address: FLASH + 0x4000 }, { flashOrigin: FLASH, drive: stuck })).rejects.toThrow(
      /writes a \.bin at the flash origin 0x08000000; this image starts at 0x08004000/,
    );
  });
});

describe('external flashers', () => {
  const job = { binFile: '/tmp/fw.bin', address: FLASH, chip: chipByProductId(0x421)!, verify: true, run: true };

  test('a missing tool names the exact way to install it', async () => {
    const emptyPath = path.join(dir, 'empty-path');
    await mkdir(emptyPath, { recursive: true });
    const savedPath = process.env.PATH;
    process.env.PATH = emptyPath;
    try {
      await expect(flashWithTool('st-flash', job)).rejects.toThrow(
        'flash (st-flash): st-flash is not installed (not on PATH). Install it: Debian/Ubuntu: sudo apt install stlink-tools; macOS: brew install stlink',
      );
      await expect(flashWithTool('openocd', job)).rejects.toThrow(/sudo apt install openocd/);
      await expect(flashWithTool('pyocd', job)).rejects.toThrow(/pipx install pyocd/);
      await expect(flashWithTool('stm32-programmer', job)).rejects.toThrow(/STM32_Programmer_CLI is not installed .*STM32CubeProgrammer/);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test('each tool gets a command line that writes the .bin at the address, verifies and resets', () => {
    expect(externalTools['st-flash'].args(job)).toEqual(['--reset', 'write', '/tmp/fw.bin', '0x08000000']);
    expect(externalTools.openocd.args(job)).toEqual([
      '-f', 'interface/stlink.cfg', '-f', 'target/stm32f4x.cfg', '-c', 'program {/tmp/fw.bin} 0x08000000 verify reset exit',
    ]);
    expect(externalTools['stm32-programmer'].args(job)).toEqual(['-c', 'port=SWD', '-w', '/tmp/fw.bin', '0x08000000', '-v', '-rst']);
    expect(externalTools.pyocd.args({ ...job, pyocdTarget: 'stm32f446retx' })).toEqual([
      'flash', '--target', 'stm32f446retx', '--base-address', '0x08000000', '/tmp/fw.bin',
    ]);
    expect(externalTools.openocd.args({ ...job, chip: chipByProductId(0x450)!, verify: false, run: false })[5]).toBe(
      'program {/tmp/fw.bin} 0x08000000 exit',
    );
  });

  test('flashFirmware runs the tool found on PATH on the converted .bin; a failing tool is a FlashError with its output', async () => {
    const bin = path.join(dir, 'fake-bin');
    await mkdir(bin, { recursive: true });
    const log = path.join(dir, 'st-flash.log');
    // Stands in for st-flash: records its arguments and the image it was given.
    await writeFile(path.join(bin, 'st-flash'), `#!/bin/sh\necho "$@" > ${log}\ncp "$3" ${log}.bin\necho "Flash written and verified! jolly good!"\n`);
    await chmod(path.join(bin, 'st-flash'), 0o755);
    const firmware = path.join(dir, 'fw.bin');
    await writeFile(firmware, image.bytes);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    try {
      const result = await flashFirmware({ image: firmware, target: loadTarget('nucleo-f446re'), method: 'st-flash' });
      expect(result).toMatchObject({ method: 'st-flash', address: FLASH, bytes: 5000, verified: true });
      expect((await readFile(log, 'utf8')).trim()).toMatch(/^--reset write \/.*\/fw\.bin 0x08000000$/);
      expect(Buffer.compare(await readFile(`${log}.bin`), Buffer.from(image.bytes))).toBe(0);

      await writeFile(path.join(bin, 'st-flash'), '#!/bin/sh\necho "Couldn\'t find any ST-Link devices" >&2\nexit 255\n');
      await expect(flashFirmware({ image: firmware, target: loadTarget('nucleo-f446re'), method: 'st-flash' })).rejects.toThrow(
      "flash (st-flash): st-flash failed (exit status 255): Couldn't find any ST-Link devices",
      );
    } finally {
      process.env.PATH = savedPath;
    }
    // The temporary .bin is gone.
    expect((await readdir(os.tmpdir())).filter((n) => n.startsWith('tinyedge-flash-') && !n.startsWith('tinyedge-flash-test-'))).toEqual([]);
  });
});

describe('flashFirmware', () => {
  test('an unknown method and a missing port are usage errors', async () => {
    const target = loadTarget('nucleo-f446re');
    await expect(flashFirmware({ image: 'x.bin', target, method: 'jtag-magic' })).rejects.toThrow(
      new UsageError("unknown flash method 'jtag-magic'; methods: uart-bootloader, mass-storage, st-flash, openocd, stm32-programmer, pyocd"),
    );
    const firmware = path.join(dir, 'port.bin');
    await writeFile(firmware, Uint8Array.of(1, 2, 3, 4));
    await expect(flashFirmware({ image: firmware, target, method: 'uart-bootloader' })).rejects.toThrow(/needs a serial port \(--port\)/);
  });

  test('a port that does not exist is a FlashError naming it', async () => {
    const firmware = path.join(dir, 'noport.bin');
    await writeFile(firmware, Uint8Array.of(1, 2, 3, 4));
    await expect(
      flashFirmware({ image: firmware, target: loadTarget('qemu-stm32f405'), method: 'uart-bootloader', port: '/dev/ttyUSB77' }),
    ).rejects.toThrow(/^flash \(uart-bootloader\): cannot open \/dev\/ttyUSB77: /);
  });
});
