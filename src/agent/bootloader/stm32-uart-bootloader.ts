import type { Duplex } from 'node:stream';
import { ByteReader, ReadTimeout, StreamClosed } from './byte-reader.js';
import { describeProductId, sectorsCovering, type Stm32Chip } from './chips.js';
import { BootloaderError } from './errors.js';
import {
  ACK,
  Command,
  MAX_TRANSFER,
  NACK,
  SYNC,
  addressFrame,
  commandFrame,
  decodeGetReply,
  decodeProductId,
  extendedEraseFrame,
  hex32,
  hex8,
  legacyEraseFrame,
  massEraseFrame,
  readLengthFrame,
  writeDataFrame,
  type GetReply,
  type VersionReply,
} from './protocol.js';

export type FlashPhase = 'erase' | 'write' | 'verify';

/** Bytes done of bytes total in the current phase (erase counts the bytes of the sectors erased). */
export interface FlashProgress {
  phase: FlashPhase;
  done: number;
  total: number;
}

export interface BootloaderOptions {
  /** How errors name the port, e.g. "/dev/ttyUSB0". */
  port: string;
  /** Wait for an ACK or a reply (ms). A real ROM answers within microseconds; USB adapters add milliseconds. */
  ackTimeoutMs?: number;
  /** Tries per command (and per sync) before giving up. */
  attempts?: number;
  onProgress?: (progress: FlashProgress) => void;
}

export interface ProgramOptions {
  /** Where the image goes; the flash origin for a normal firmware. */
  address: number;
  chip: Stm32Chip;
  /** Flash size of the part when smaller than the chip line's largest (limits the sector map). */
  flashSize?: number;
  /** Read everything back and compare (default true). */
  verify?: boolean;
}

export interface DeviceInfo {
  bootloaderVersion: number;
  commands: number[];
  productId: number;
  option1: number;
  option2: number;
}

/** The device NACKed. Internal: retried, then reported as a BootloaderError. */
class Nack extends Error {}

/** Garbage where an ACK/NACK belongs: the exchange is out of step. Internal, like Nack. */
class Unexpected extends Error {}

const ERASE_MS_PER_KIB = 32; // STM32F4 worst case: 4 s for a 128 KB sector (datasheet tERASE128KB max)
const MASS_ERASE_TIMEOUT_MS = 40_000;
const WRITE_TIMEOUT_MS = 1000; // 256 bytes at the slowest word programming time, with margin
const RESYNC_QUIET_MS = 50;

/**
 * Host side of the STM32 system-memory bootloader over a UART (ST AN3155), on any Node Duplex: a serialport
 * SerialPort for a real board, a socket or pty for a virtual one. 8E1 framing is the port's business.
 *
 * Every command is retried a bounded number of times: a NACK leaves the ROM waiting for the next command, so the
 * command is simply sent again; a timeout may leave it inside a frame, so the line is resynchronised first.
 */
export class Stm32UartBootloader {
  readonly port: string;
  private readonly reader: ByteReader;
  private readonly ackTimeoutMs: number;
  private readonly attempts: number;
  private readonly onProgress: (progress: FlashProgress) => void;
  private getReply: GetReply | undefined;

  constructor(
    private readonly stream: Duplex,
    options: BootloaderOptions,
  ) {
    this.port = options.port;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 1000;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.onProgress = options.onProgress ?? (() => {});
    this.reader = new ByteReader(stream);
  }

  /** Stops listening to the stream (the stream itself stays open: its owner closes it). */
  detach(): void {
    this.reader.detach();
  }

  /**
   * 0x7F lets the ROM measure the baud rate; it answers ACK. A ROM synced earlier takes 0x7F as the first byte of a
   * command: it either NACKs at once or waits for the complement, and a second 0x7F (not the complement) gets NACK.
   * Either way the line is then in step.
   */
  async sync(): Promise<void> {
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      this.reader.discard();
      this.write(Uint8Array.of(SYNC));
      try {
        const reply = await this.reader.readByte(this.ackTimeoutMs);
        if (reply === ACK || reply === NACK) return;
        await this.reader.drain(RESYNC_QUIET_MS);
      } catch (error) {
        if (!(error instanceof ReadTimeout)) throw this.wrap('sync', error);
        // NACK: a synced ROM paired the two 0x7F. ACK: the first 0x7F was lost and this one did the autobaud.
        this.write(Uint8Array.of(SYNC));
        try {
          const reply = await this.reader.readByte(this.ackTimeoutMs);
          if (reply === NACK || reply === ACK) return;
        } catch (second) {
          if (!(second instanceof ReadTimeout)) throw this.wrap('sync', second);
        }
      }
    }
    throw new BootloaderError(
      this.port,
      'sync (0x7F)',
      `no ACK in ${this.attempts} attempts: is the board in its ROM bootloader (BOOT0 high during reset) and the line set to the right baud rate and parity?`,
    );
  }

  /** sync, Get, Get Version, Get ID; checks the product id when one is expected. */
  async connect(expectedProductId?: number): Promise<DeviceInfo> {
    await this.sync();
    const get = await this.get();
    const version = await this.getVersion();
    const productId = await this.getId();
    if (expectedProductId !== undefined && productId !== expectedProductId) {
      throw new BootloaderError(
        this.port,
        'Get ID',
        `expected product id ${describeProductId(expectedProductId)}, found ${describeProductId(productId)}: wrong board or wrong target?`,
      );
    }
    return {
      bootloaderVersion: get.version,
      commands: get.commands,
      productId,
      option1: version.option1,
      option2: version.option2,
    };
  }

  async get(): Promise<GetReply> {
    const reply = await this.transact('Get', '', async () => {
      await this.command(Command.get);
      const count = await this.reader.readByte(this.ackTimeoutMs);
      const body = await this.reader.read(count + 1, this.ackTimeoutMs);
      await this.expectAck(this.ackTimeoutMs);
      return decodeGetReply(body);
    });
    this.getReply = reply;
    return reply;
  }

  async getVersion(): Promise<VersionReply> {
    return this.transact('Get Version', '', async () => {
      await this.command(Command.getVersion);
      const [version, option1, option2] = await this.reader.read(3, this.ackTimeoutMs);
      await this.expectAck(this.ackTimeoutMs);
      return { version, option1, option2 };
    });
  }

  async getId(): Promise<number> {
    return this.transact('Get ID', '', async () => {
      await this.command(Command.getId);
      const count = await this.reader.readByte(this.ackTimeoutMs);
      const body = await this.reader.read(count + 1, this.ackTimeoutMs);
      await this.expectAck(this.ackTimeoutMs);
      return decodeProductId(body);
    });
  }

  async readMemory(address: number, length: number): Promise<Uint8Array> {
    return this.transact('Read Memory', ` at ${hex32(address)}`, async () => {
      await this.command(Command.readMemory);
      this.write(addressFrame(address));
      await this.expectAck(this.ackTimeoutMs);
      this.write(readLengthFrame(length));
      await this.expectAck(this.ackTimeoutMs);
      return this.reader.read(length, this.ackTimeoutMs);
    });
  }

  /** Writes up to 256 bytes; pads to a multiple of `align` (4, or the chip's flash word) with erased-flash 0xFF. */
  async writeMemory(address: number, data: Uint8Array, align = 4): Promise<void> {
    const padded = padTo(data, align);
    await this.transact('Write Memory', ` at ${hex32(address)}`, async () => {
      await this.command(Command.writeMemory);
      this.write(addressFrame(address));
      await this.expectAck(this.ackTimeoutMs);
      this.write(writeDataFrame(padded));
      await this.expectAck(WRITE_TIMEOUT_MS + this.ackTimeoutMs);
    });
  }

  /**
   * Erases the listed sectors (pages on parts that have pages) with Extended Erase, or with the legacy Erase when
   * Get reports only that one. `sectorBytes` sizes the timeout: erase time grows with the area.
   */
  async eraseSectors(sectors: readonly number[], sectorBytes: number): Promise<void> {
    const commands = (await this.commands()).commands;
    const timeoutMs = this.ackTimeoutMs + Math.ceil((sectorBytes / 1024) * ERASE_MS_PER_KIB);
    const list = `sectors ${sectors.join(',')}`;
    if (commands.includes(Command.extendedErase)) {
      await this.transact('Extended Erase', ` of ${list}`, async () => {
        await this.command(Command.extendedErase);
        this.write(extendedEraseFrame(sectors));
        await this.expectAck(timeoutMs);
      });
    } else if (commands.includes(Command.erase)) {
      await this.transact('Erase', ` of pages ${sectors.join(',')}`, async () => {
        await this.command(Command.erase);
        this.write(legacyEraseFrame(sectors));
        await this.expectAck(timeoutMs);
      });
    } else {
      throw new BootloaderError(this.port, 'Erase', 'the bootloader offers neither Erase (0x43) nor Extended Erase (0x44)');
    }
  }

  async massErase(): Promise<void> {
    const commands = (await this.commands()).commands;
    if (commands.includes(Command.extendedErase)) {
      await this.transact('Extended Erase', ' (mass erase)', async () => {
        await this.command(Command.extendedErase);
        this.write(massEraseFrame());
        await this.expectAck(MASS_ERASE_TIMEOUT_MS);
      });
    } else {
      await this.transact('Erase', ' (global)', async () => {
        await this.command(Command.erase);
        this.write(Uint8Array.of(0xff, 0x00));
        await this.expectAck(MASS_ERASE_TIMEOUT_MS);
      });
    }
  }

  /** The ROM jumps to the application whose vector table is at `address` (SP, then reset handler). */
  async go(address: number): Promise<void> {
    await this.transact('Go', ` to ${hex32(address)}`, async () => {
      await this.command(Command.go);
      this.write(addressFrame(address));
      await this.expectAck(this.ackTimeoutMs);
    });
  }

  /** Erase only the sectors the image covers, write it in 256-byte blocks, read it back. */
  async program(image: Uint8Array, options: ProgramOptions): Promise<void> {
    const { address, chip } = options;
    if (address % 4 !== 0) throw new BootloaderError(this.port, 'Write Memory', `address ${hex32(address)} is not word-aligned`);
    const sectors = sectorsCovering(chip, address, image.length, options.flashSize);
    if (!sectors) {
      throw new BootloaderError(
        this.port,
        'Write Memory',
        `${image.length} bytes at ${hex32(address)} do not fit the flash of ${chip.parts[0]}`,
      );
    }
    const eraseTotal = sectors.reduce((sum, sector) => sum + sector.size, 0);
    let erased = 0;
    this.onProgress({ phase: 'erase', done: 0, total: eraseTotal });
    // One sector per command: progress moves, and each timeout matches one sector's erase time.
    for (const sector of sectors) {
      await this.eraseSectors([sector.index], sector.size);
      erased += sector.size;
      this.onProgress({ phase: 'erase', done: erased, total: eraseTotal });
    }

    const blocks = splitBlocks(image, address);
    this.onProgress({ phase: 'write', done: 0, total: image.length });
    let written = 0;
    for (const block of blocks) {
      // Erased flash already reads 0xFF: writing all-0xFF blocks would change nothing.
      if (!block.data.every((byte) => byte === 0xff)) await this.writeMemory(block.address, block.data, chip.writeAlign);
      written += block.data.length;
      this.onProgress({ phase: 'write', done: written, total: image.length });
    }

    if (options.verify === false) return;
    this.onProgress({ phase: 'verify', done: 0, total: image.length });
    let verified = 0;
    for (const block of blocks) {
      const readBack = await this.readMemory(block.address, block.data.length);
      const at = firstDifference(block.data, readBack);
      if (at >= 0) {
        throw new BootloaderError(
          this.port,
          'verify',
          `flash at ${hex32(block.address + at)} reads 0x${hex8(readBack[at])}, image has 0x${hex8(block.data[at])}`,
        );
      }
      verified += block.data.length;
      this.onProgress({ phase: 'verify', done: verified, total: image.length });
    }
  }

  /** Reads `length` bytes from `address` in 256-byte commands. */
  async read(address: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += MAX_TRANSFER) {
      const size = Math.min(MAX_TRANSFER, length - offset);
      out.set(await this.readMemory(address + offset, size), offset);
    }
    return out;
  }

  private async commands(): Promise<GetReply> {
    return this.getReply ?? (await this.get());
  }

  private async command(code: number): Promise<void> {
    this.write(commandFrame(code));
    await this.expectAck(this.ackTimeoutMs);
  }

  private async expectAck(timeoutMs: number): Promise<void> {
    const reply = await this.reader.readByte(timeoutMs);
    if (reply === ACK) return;
    if (reply === NACK) throw new Nack();
    throw new Unexpected(`0x${hex8(reply)} instead of ACK/NACK`);
  }

  /**
   * Runs one command exchange, retrying a bounded number of times. A NACK returns the ROM to waiting for a
   * command; a timeout or garbage may leave it inside a frame, so the line is resynchronised before the retry.
   */
  private async transact<T>(name: string, where: string, exchange: () => Promise<T>): Promise<T> {
    let problem = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        return await exchange();
      } catch (error) {
        if (error instanceof Nack) {
          problem = 'NACK';
          await this.reader.drain(RESYNC_QUIET_MS);
        } else if (error instanceof ReadTimeout) {
          problem = `no answer within ${error.timeoutMs} ms (${error.received} of ${error.expected} bytes)`;
          if (attempt < this.attempts) await this.resync(name);
        } else if (error instanceof Unexpected) {
          problem = error.message;
          if (attempt < this.attempts) await this.resync(name);
        } else {
          throw this.wrap(name + where, error);
        }
      }
    }
    const hint = problem === 'NACK' ? hintForNack(name) : '';
    throw new BootloaderError(this.port, name + where, `${problem} after ${this.attempts} attempts${hint}`);
  }

  /**
   * After a lost byte the ROM may sit inside a frame. 0xFF filler completes any frame without harm (an address of
   * 0xFFFFFFFF or a count of 0xFFFF fails its checksum; a data frame almost surely fails it too, and one that
   * passes by chance leaves bytes the verify pass reports), then every 0xFF pair is an invalid command and gets
   * NACK. sync() then realigns to a command boundary.
   */
  private async resync(name: string): Promise<void> {
    await this.reader.drain(RESYNC_QUIET_MS);
    this.write(new Uint8Array(MAX_TRANSFER + 2).fill(0xff));
    await this.reader.drain(RESYNC_QUIET_MS * 2);
    try {
      await this.sync();
    } catch (error) {
      if (error instanceof BootloaderError) {
        throw new BootloaderError(this.port, name, `lost contact with the bootloader (${error.detail})`);
      }
      throw error;
    }
  }

  /**
   * Queues bytes without waiting for the port's write callback: the reply awaited next cannot come before the
   * bytes have left, so waiting would only add a round through the event loop per frame. A port that refuses
   * bytes (unplugged adapter, closed pty) fails the pending read at once.
   */
  private write(bytes: Uint8Array): void {
    this.stream.write(bytes, (error) => {
      if (error) this.reader.abort(new StreamClosed(`write failed: ${error.message}`));
    });
  }

  private wrap(command: string, error: unknown): Error {
    if (error instanceof BootloaderError) return error;
    if (error instanceof StreamClosed) return new BootloaderError(this.port, command, error.message);
    return error instanceof Error ? error : new Error(String(error));
  }
}

function hintForNack(command: string): string {
  switch (command) {
    case 'Write Memory':
      return ' (address outside writable memory, or flash write-protected?)';
    case 'Read Memory':
      return ' (readout protection active, or address outside memory?)';
    case 'Extended Erase':
    case 'Erase':
      return ' (sector number beyond this part, or flash write-protected?)';
    case 'Go':
      return ' (address outside memory?)';
    default:
      return '';
  }
}

interface Block {
  address: number;
  data: Uint8Array;
}

/** 256-byte blocks from `address`; the last one shorter (writeMemory pads it). */
function splitBlocks(image: Uint8Array, address: number): Block[] {
  const blocks: Block[] = [];
  for (let offset = 0; offset < image.length; offset += MAX_TRANSFER) {
    blocks.push({ address: address + offset, data: image.subarray(offset, offset + MAX_TRANSFER) });
  }
  return blocks;
}

function padTo(data: Uint8Array, align: number): Uint8Array {
  const length = Math.ceil(data.length / align) * align;
  if (length === data.length) return data;
  const padded = new Uint8Array(length).fill(0xff);
  padded.set(data);
  return padded;
}

function firstDifference(expected: Uint8Array, actual: Uint8Array): number {
  for (let i = 0; i < expected.length; i++) if (expected[i] !== actual[i]) return i;
  return -1;
}
