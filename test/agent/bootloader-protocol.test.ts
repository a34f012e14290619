/**
 * AN3155 frames, the fragment-proof byte reader, the chip sector maps, and the device model fed in arbitrary
 * fragments. No port needed: bytes in, bytes out.
 */
import { describe, expect, test } from 'vitest';
import { ByteReader, ReadTimeout } from '../../src/agent/bootloader/byte-reader.js';
import { chipByPart, chipByProductId, describeProductId, flashBytes, sectorsCovering } from '../../src/agent/bootloader/chips.js';
import {
  ACK,
  NACK,
  addressFrame,
  commandFrame,
  decodeAddressFrame,
  extendedEraseFrame,
  legacyEraseFrame,
  massEraseFrame,
  readLengthFrame,
  writeDataFrame,
} from '../../src/agent/bootloader/protocol.js';
import { Stm32UartBootloader } from '../../src/agent/bootloader/stm32-uart-bootloader.js';
import { An3155Device, stm32f405Rom } from '../../src/board/an3155-device.js';
import { Stm32Memory } from '../../src/board/stm32-memory.js';
import { DeviceWire } from '../board/support/device-wire.js';

const FLASH = 0x0800_0000;
const KiB = 1024;
const f405 = chipByProductId(0x413)!;

describe('AN3155 frames', () => {
  test('command = code + complement; address = 4 bytes big-endian + XOR', () => {
    expect([...commandFrame(0x31)]).toEqual([0x31, 0xce]);
    expect([...addressFrame(0x0800_0100)]).toEqual([0x08, 0x00, 0x01, 0x00, 0x09]);
    expect(decodeAddressFrame(addressFrame(0x2000_3a5c))).toBe(0x2000_3a5c);
    expect(decodeAddressFrame(Uint8Array.of(0x08, 0x00, 0x01, 0x00, 0x08))).toBeUndefined();
  });

  test('write payload = N-1, data, XOR of N-1 and data; lengths are checked', () => {
    expect([...writeDataFrame(Uint8Array.of(1, 2, 3, 4))]).toEqual([3, 1, 2, 3, 4, 3 ^ 1 ^ 2 ^ 3 ^ 4]);
    expect(() => writeDataFrame(Uint8Array.of(1, 2, 3))).toThrow(/multiple of 4/);
    expect(() => writeDataFrame(new Uint8Array(260))).toThrow(/1\.\.256/);
    expect([...readLengthFrame(256)]).toEqual([0xff, 0x00]);
  });

  test('erase frames: extended (2-byte numbers), mass erase, legacy (1-byte numbers)', () => {
    expect([...extendedEraseFrame([0x0b])]).toEqual([0x00, 0x00, 0x00, 0x0b, 0x0b]);
    expect([...extendedEraseFrame([2, 3, 4])]).toEqual([0x00, 0x02, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 2 ^ 2 ^ 3 ^ 4]);
    expect([...massEraseFrame()]).toEqual([0xff, 0xff, 0x00]);
    expect([...legacyEraseFrame([5, 6])]).toEqual([1, 5, 6, 1 ^ 5 ^ 6]);
  });
});

describe('ByteReader', () => {
  test('exact-length reads out of fragmented and glued chunks', async () => {
    const reader = new ByteReader();
    const first = reader.read(3, 1000);
    reader.push(Uint8Array.of(1));
    reader.push(Uint8Array.of(2));
    reader.push(Uint8Array.of(3, 4, 5)); // completes the first read and starts the next reply
    expect([...(await first)]).toEqual([1, 2, 3]);
    expect([...(await reader.read(2, 1000))]).toEqual([4, 5]);
    reader.push(Uint8Array.of(6, 7, 8, 9));
    expect(await reader.readByte(1000)).toBe(6);
    expect([...(await reader.read(3, 1000))]).toEqual([7, 8, 9]);
    expect(reader.available).toBe(0);
  });

  test('a short reply times out, saying how much did arrive', async () => {
    const reader = new ByteReader();
    reader.push(Uint8Array.of(1, 2));
    const error = await reader.read(5, 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadTimeout);
    expect(error).toMatchObject({ expected: 5, received: 2 });
  });
});

describe('chip table', () => {
  test('STM32F405 sector map: 4 x 16 KB, 1 x 64 KB, 7 x 128 KB = 1 MB', () => {
    expect(flashBytes(f405)).toBe(1024 * KiB);
    const indices = (start: number, length: number) => sectorsCovering(f405, start, length)?.map((s) => s.index);
    expect(indices(FLASH, 1)).toEqual([0]);
    expect(indices(FLASH, 16 * KiB)).toEqual([0]);
    expect(indices(FLASH, 16 * KiB + 1)).toEqual([0, 1]);
    expect(indices(FLASH, 100 * KiB)).toEqual([0, 1, 2, 3, 4]);
    expect(indices(FLASH, 128 * KiB + 1)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(indices(FLASH + 0x4_0000, 0x2_0000)).toEqual([6]);
    expect(indices(FLASH, 1024 * KiB)).toHaveLength(12);
    expect(indices(FLASH, 1024 * KiB + 4)).toBeUndefined();
    expect(indices(FLASH - 4, 8)).toBeUndefined();
  });

  test('parts and sizes: F446 512 KB, F767 2 MB of 32/128/256 KB sectors, H743 16 x 128 KB, smaller parts cut the map', () => {
    expect(chipByPart('stm32f446re')?.productId).toBe(0x421);
    expect(flashBytes(chipByPart('STM32F446RE')!)).toBe(512 * KiB);
    expect(flashBytes(chipByPart('STM32F767ZI')!)).toBe(2048 * KiB);
    expect(sectorsCovering(chipByPart('STM32F767ZI')!, FLASH, 129 * KiB)?.map((s) => s.size / KiB)).toEqual([32, 32, 32, 32, 128]);
    expect(chipByPart('STM32H743ZI')?.writeAlign).toBe(32);
    expect(flashBytes(f405, 512 * KiB)).toBe(512 * KiB);
    expect(sectorsCovering(f405, FLASH, 600 * KiB, 512 * KiB)).toBeUndefined();
    expect(describeProductId(0x413)).toBe('0x413 (STM32F405/F407/F415/F417)');
    expect(describeProductId(0x999)).toBe('0x999 (unknown part)');
  });
});

describe('AN3155 device model', () => {
  /** A host session: sync, Get ID, write 8 bytes, read them back, erase sector 0, read again. */
  const session = [
    [0x7f],
    [...commandFrame(0x02)],
    [...commandFrame(0x31)],
    [...addressFrame(FLASH)],
    [...writeDataFrame(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))],
    [...commandFrame(0x11)],
    [...addressFrame(FLASH)],
    [...readLengthFrame(8)],
    [...commandFrame(0x44)],
    [...extendedEraseFrame([0])],
    [...commandFrame(0x11)],
    [...addressFrame(FLASH)],
    [...readLengthFrame(4)],
    [0x12, 0x34], // an invalid command: NACK
  ].flat();
  const expectedReplies = [
    ACK,
    ...[ACK, 0x01, 0x04, 0x13, ACK],
    ...[ACK, ACK, ACK],
    ...[ACK, ACK, ACK, 1, 2, 3, 4, 5, 6, 7, 8],
    ...[ACK, ACK],
    ...[ACK, ACK, ACK, 0xff, 0xff, 0xff, 0xff],
    NACK,
  ];

  function run(chunks: number[][]): number[] {
    const replies: number[] = [];
    const memory = new Stm32Memory(f405, undefined, { start: 0x2000_0000, size: 128 * KiB, reservedBytes: 0x3000 });
    const device = new An3155Device(memory, stm32f405Rom, (bytes) => replies.push(...bytes));
    for (const chunk of chunks) device.feed(Uint8Array.from(chunk));
    return replies;
  }

  test('answers the same whatever the fragmentation of its input', () => {
    expect(run([session])).toEqual(expectedReplies);
    expect(run(session.map((byte) => [byte]))).toEqual(expectedReplies);
    // Deterministic pseudo-random cuts (1..7 bytes).
    for (let seed = 1; seed <= 20; seed++) {
      const chunks: number[][] = [];
      let state = seed;
      for (let i = 0; i < session.length; ) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const size = 1 + (state % 7);
        chunks.push(session.slice(i, i + size));
        i += size;
      }
      expect(run(chunks)).toEqual(expectedReplies);
    }
  });

  test('ignores line noise before the first 0x7F, like the ROM autobaud', () => {
    expect(run([[0x00, 0x55, 0xff], session])).toEqual(expectedReplies);
  });

  test('refuses what the ROM refuses: bad checksums, unknown sectors, writes outside memory or into its RAM', () => {
    const replies = run([
      [0x7f],
      [...commandFrame(0x31), 0x08, 0x00, 0x00, 0x00, 0x00], // address checksum wrong
      [...commandFrame(0x31), ...addressFrame(0x1000_0000)], // no memory there
      [...commandFrame(0x31), ...addressFrame(0x2000_0000), 3, 1, 2, 3, 4, 3 ^ 1 ^ 2 ^ 3 ^ 4], // ROM's own RAM
      [...commandFrame(0x31), ...addressFrame(FLASH), 3, 1, 2, 3, 4, 0x55], // data checksum wrong
      [...commandFrame(0x44), ...extendedEraseFrame([12])], // the F405 has sectors 0..11
      [...commandFrame(0x43)], // legacy Erase is not in the F4 ROM's list
    ]);
    expect(replies).toEqual([ACK, ACK, NACK, ACK, NACK, ACK, ACK, NACK, ACK, ACK, NACK, ACK, NACK, NACK]);
  });
});

describe('Stm32UartBootloader over the device model', () => {
  test('falls back to the legacy Erase (0x43) when Get lists only that (STM32F103 ROM v2.2)', async () => {
    const rom = { productId: 0x410, version: 0x22, commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92], options: [0, 0] as [number, number] };
    const wire = new DeviceWire({}, rom);
    const bootloader = new Stm32UartBootloader(wire, { port: 'wire', ackTimeoutMs: 200 });
    const info = await bootloader.connect(0x410);
    expect(info.bootloaderVersion).toBe(0x22);
    const image = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);
    await bootloader.program(image, { address: FLASH, chip: chipByProductId(0x410)! });
    expect(wire.events.filter((e) => e.type === 'erase')).toEqual([
      { type: 'erase', sectors: [0] },
      { type: 'erase', sectors: [1] },
      { type: 'erase', sectors: [2] },
    ]);
    expect(Buffer.compare(Buffer.from(wire.memory.flash.subarray(0, image.length)), Buffer.from(image))).toBe(0);
    bootloader.detach();
  });

  test('pads the last block to a multiple of 4 with 0xFF and skips all-0xFF blocks', async () => {
    const wire = new DeviceWire();
    const bootloader = new Stm32UartBootloader(wire, { port: 'wire', ackTimeoutMs: 200 });
    await bootloader.connect();
    const image = new Uint8Array(256 * 3 + 5).fill(0xff);
    image[0] = 0x11;
    image[image.length - 1] = 0x22;
    await bootloader.program(image, { address: FLASH, chip: f405 });
    const writes = wire.events.filter((e) => e.type === 'command' && e.command === 'Write Memory');
    expect(writes).toEqual([
      { type: 'command', command: 'Write Memory', address: FLASH, length: 256 },
      { type: 'command', command: 'Write Memory', address: FLASH + 768, length: 8 },
    ]);
    expect(wire.memory.flash[768 + 4]).toBe(0x22);
    expect([...wire.memory.flash.subarray(768 + 5, 768 + 8)]).toEqual([0xff, 0xff, 0xff]);
    bootloader.detach();
  });
});
