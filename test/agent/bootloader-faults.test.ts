/**
 * Faults a real STM32 cannot be made to produce on demand — a NACKed write, a lost byte, a board gone silent —
 * injected between Stm32UartBootloader and the AN3155 device model. Retries are bounded and every failure is a
 * one-line BootloaderError naming the port and the command.
 */
import { Duplex } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { chipByProductId } from '../../src/agent/bootloader/chips.js';
import { BootloaderError } from '../../src/agent/bootloader/errors.js';
import { Stm32UartBootloader } from '../../src/agent/bootloader/stm32-uart-bootloader.js';
import { DeviceWire } from '../board/support/device-wire.js';

const FLASH = 0x0800_0000;
const f405 = chipByProductId(0x413)!;
const image = Uint8Array.from({ length: 2000 }, (_, i) => (i * 13 + 7) & 0xff);

function client(wire: Duplex, attempts = 3) {
  return new Stm32UartBootloader(wire, { port: '/dev/ttyTEST', ackTimeoutMs: 100, attempts });
}

function flashOf(wire: DeviceWire): Buffer {
  return Buffer.from(wire.memory.flash.subarray(0, image.length));
}

describe('Stm32UartBootloader under faults', () => {
  test('a NACKed write is sent again and the image still verifies', async () => {
    const wire = new DeviceWire({ nackWrites: [2, 5] });
    const bootloader = client(wire);
    await bootloader.connect(0x413);
    await bootloader.program(image, { address: FLASH, chip: f405 });
    expect(wire.nacksInjected).toBe(2);
    expect(Buffer.compare(flashOf(wire), Buffer.from(image))).toBe(0);
    bootloader.detach();
  });

  test('a write NACKed every time fails after exactly `attempts` tries, naming port, command and address', async () => {
    const wire = new DeviceWire({ nackWrites: [1, 2, 3, 4, 5, 6] });
    const bootloader = client(wire, 3);
    await bootloader.connect(0x413);
    const error = await bootloader.program(image, { address: FLASH, chip: f405 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as Error).message).toBe(
      '/dev/ttyTEST: bootloader Write Memory at 0x08000000: NACK after 3 attempts (address outside writable memory, or flash write-protected?)',
    );
    expect(wire.writes).toBe(3);
    bootloader.detach();
  });

  test('bytes lost inside a write frame: the line is resynchronised and the block written again', async () => {
    // Byte indices inside the first and third Write Memory data frames (after sync/Get/Get Version/Get ID/erase).
    const wire = new DeviceWire({ dropHostBytes: [60, 61, 700] });
    const bootloader = client(wire);
    await bootloader.connect(0x413);
    await bootloader.program(image, { address: FLASH, chip: f405 });
    expect(Buffer.compare(flashOf(wire), Buffer.from(image))).toBe(0);
    bootloader.detach();
  });

  test('a lost sync byte is retried', async () => {
    const wire = new DeviceWire({ dropHostBytes: [0] });
    const bootloader = client(wire);
    expect((await bootloader.connect(0x413)).productId).toBe(0x413);
    bootloader.detach();
  });

  test('a board that goes silent mid-write ends in a clear error, not a hang', async () => {
    const wire = new DeviceWire({ silentFrom: 400 });
    const bootloader = client(wire);
    await bootloader.connect(0x413);
    const error = await bootloader.program(image, { address: FLASH, chip: f405 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as Error).message).toMatch(/^\/dev\/ttyTEST: bootloader Write Memory: lost contact with the bootloader \(no ACK in 3 attempts: is the board in its ROM bootloader/);
    bootloader.detach();
  });

  test('nothing on the line at all: sync fails with what to check', async () => {
    const wire = new DeviceWire({ silentFrom: 0 });
    const bootloader = client(wire, 2);
    const error = await bootloader.connect(0x413).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as Error).message).toBe(
      '/dev/ttyTEST: bootloader sync (0x7F): no ACK in 2 attempts: is the board in its ROM bootloader (BOOT0 high during reset) and the line set to the right baud rate and parity?',
    );
  });

  test('a port that closes mid-command is an error naming the command', async () => {
    const wire = new DeviceWire();
    const bootloader = client(wire);
    await bootloader.connect(0x413);
    const reading = bootloader.readMemory(FLASH, 16);
    wire.destroy();
    const error = await reading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as Error).message).toMatch(/^\/dev\/ttyTEST: bootloader /);
  });

  test('an already-synced bootloader (NACK, or silence then NACK, on 0x7F) counts as synced', async () => {
    const wire = new DeviceWire();
    const first = client(wire);
    await first.connect(0x413);
    first.detach();
    // A second client, as after a tool that exited without resetting the board.
    const second = client(wire);
    expect((await second.connect(0x413)).productId).toBe(0x413);
    second.detach();
  });
});
