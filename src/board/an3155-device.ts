import {
  ACK,
  Command,
  MASS_ERASE,
  NACK,
  SYNC,
  commandName,
  decodeAddressFrame,
  encodeGetIdReply,
  encodeGetReply,
  xorChecksum,
} from '../agent/bootloader/protocol.js';
import type { Stm32Memory } from './stm32-memory.js';

/** What the ROM reports about itself (Get, Get Version, Get ID). */
export interface RomIdentity {
  productId: number;
  /** 0x31 = v3.1. */
  version: number;
  /** The command codes Get lists, in the ROM's order. */
  commands: number[];
  /** Get Version's two option bytes (0 on the UART ROMs of F4 parts). */
  options: [number, number];
}

/** The STM32F405/F407 system-memory ROM, bootloader v3.1 (AN2606/AN3155). */
export const stm32f405Rom: RomIdentity = {
  productId: 0x413,
  version: 0x31,
  commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92],
  options: [0x00, 0x00],
};

export type DeviceEvent =
  | { type: 'synced' }
  | { type: 'command'; command: string; address?: number; length?: number }
  | { type: 'erase'; sectors: number[] | 'all' }
  | { type: 'nack'; command: string; reason: string }
  | { type: 'reset'; reason: string }
  | { type: 'go'; address: number };

/** Why a session ended: the ROM jumped to an application, or reset itself (after write/readout unprotect). */
type SessionEnd = { kind: 'go'; address: number } | { kind: 'reset'; reason: string };

/** A session asks for exactly this many bytes and resumes with them. */
type Session = Generator<number, SessionEnd, Uint8Array>;

/**
 * The device side of AN3155 as the STM32 ROM plays it, over an in-memory flash model. Bytes go in through feed()
 * in chunks of any size; replies go out through `send`. The protocol is a generator that asks for exactly the
 * bytes each step needs, so fragmentation never reaches the protocol logic.
 */
export class An3155Device {
  private session: Session;
  private wanted: number;
  private buffer: Uint8Array = new Uint8Array(0);
  private jumpedTo: number | undefined;

  constructor(
    readonly memory: Stm32Memory,
    private readonly rom: RomIdentity,
    private readonly send: (bytes: Uint8Array) => void,
    private readonly onEvent: (event: DeviceEvent) => void = () => {},
    /** Called after the ACK of Go: from here on the application owns the UART. */
    private readonly onGo: (address: number) => void = () => {},
  ) {
    [this.session, this.wanted] = this.start();
  }

  /** Address of the Go that ended bootloader mode, until restart(). */
  get applicationAddress(): number | undefined {
    return this.jumpedTo;
  }

  /** Back to the state after a reset with BOOT0 high: waiting for 0x7F. Flash keeps its content. */
  restart(): void {
    this.jumpedTo = undefined;
    this.buffer = new Uint8Array(0);
    [this.session, this.wanted] = this.start();
  }

  feed(chunk: Uint8Array): void {
    if (this.jumpedTo !== undefined) return;
    this.buffer = concat(this.buffer, chunk);
    while (this.buffer.length >= this.wanted) {
      const bytes = this.buffer.slice(0, this.wanted);
      this.buffer = this.buffer.slice(this.wanted);
      const step = this.session.next(bytes);
      if (!step.done) {
        this.wanted = step.value;
        continue;
      }
      if (step.value.kind === 'go') {
        this.jumpedTo = step.value.address;
        this.buffer = new Uint8Array(0);
        this.onEvent({ type: 'go', address: step.value.address });
        this.onGo(step.value.address);
        return;
      }
      this.onEvent({ type: 'reset', reason: step.value.reason });
      this.buffer = new Uint8Array(0);
      [this.session, this.wanted] = this.start();
    }
  }

  private start(): [Session, number] {
    const session = this.run();
    const first = session.next();
    if (first.done) throw new Error('bootloader session ended before reading anything');
    return [session, first.value];
  }

  private *run(): Session {
    // Autobaud: the ROM measures the first 0x7F; anything before it is line noise it never sees as data.
    while ((yield 1)[0] !== SYNC);
    this.send(Uint8Array.of(ACK));
    this.onEvent({ type: 'synced' });
    for (;;) {
      const [code, complement] = yield 2;
      if ((code ^ complement) !== 0xff || !this.rom.commands.includes(code)) {
        this.nack(commandName(code), (code ^ complement) !== 0xff ? 'bad complement' : 'unknown command');
        continue;
      }
      this.send(Uint8Array.of(ACK));
      const end = yield* this.execute(code);
      if (end) return end;
    }
  }

  private *execute(code: number): Generator<number, SessionEnd | undefined, Uint8Array> {
    const name = commandName(code);
    switch (code) {
      case Command.get:
        this.onEvent({ type: 'command', command: name });
        this.send(concat(encodeGetReply({ version: this.rom.version, commands: this.rom.commands }), Uint8Array.of(ACK)));
        return;
      case Command.getVersion:
        this.onEvent({ type: 'command', command: name });
        this.send(Uint8Array.of(this.rom.version, ...this.rom.options, ACK));
        return;
      case Command.getId:
        this.onEvent({ type: 'command', command: name });
        this.send(concat(encodeGetIdReply(this.rom.productId), Uint8Array.of(ACK)));
        return;
      case Command.readMemory:
        return yield* this.readMemory();
      case Command.writeMemory:
        return yield* this.writeMemory();
      case Command.extendedErase:
        return yield* this.extendedErase();
      case Command.erase:
        return yield* this.legacyErase();
      case Command.go:
        return yield* this.go();
      case Command.writeUnprotect:
        this.send(Uint8Array.of(ACK));
        return { kind: 'reset', reason: 'Write Unprotect resets the chip' };
      case Command.readoutUnprotect:
        this.memory.eraseAll();
        this.onEvent({ type: 'erase', sectors: 'all' });
        this.send(Uint8Array.of(ACK));
        return { kind: 'reset', reason: 'Readout Unprotect mass-erases and resets the chip' };
      default:
        // Write Protect and Readout Protect: option bytes are not modelled; refusing is safer than pretending.
        this.nack(name, 'option bytes are not modelled by the virtual board');
        return;
    }
  }

  private *readMemory(): Generator<number, undefined, Uint8Array> {
    const address = decodeAddressFrame(yield 5);
    if (address === undefined || this.memory.read(address, 1) === undefined) {
      this.nack('Read Memory', address === undefined ? 'address checksum' : 'address outside memory');
      return;
    }
    this.send(Uint8Array.of(ACK));
    const [count, complement] = yield 2;
    const data = this.memory.read(address, count + 1);
    if ((count ^ complement) !== 0xff || !data) {
      this.nack('Read Memory', data ? 'length complement' : 'range leaves memory');
      return;
    }
    this.onEvent({ type: 'command', command: 'Read Memory', address, length: count + 1 });
    this.send(concat(Uint8Array.of(ACK), data));
  }

  private *writeMemory(): Generator<number, undefined, Uint8Array> {
    const address = decodeAddressFrame(yield 5);
    if (address === undefined || this.memory.read(address, 1) === undefined) {
      this.nack('Write Memory', address === undefined ? 'address checksum' : 'address outside memory');
      return;
    }
    this.send(Uint8Array.of(ACK));
    const [count] = yield 1;
    const rest = yield count + 2;
    const data = rest.subarray(0, count + 1);
    if (xorChecksum(data, count) !== rest[count + 1]) {
      this.nack('Write Memory', 'data checksum');
      return;
    }
    if (!this.memory.write(address, data)) {
      this.nack('Write Memory', 'range not writable');
      return;
    }
    this.onEvent({ type: 'command', command: 'Write Memory', address, length: count + 1 });
    this.send(Uint8Array.of(ACK));
  }

  private *extendedErase(): Generator<number, undefined, Uint8Array> {
    const head = yield 2;
    const count = (head[0] << 8) | head[1];
    if (count >= 0xfff0) {
      const [checksum] = yield 1;
      // 0xFFFE/0xFFFD erase one bank of dual-bank parts; the F405 has a single bank.
      if (count !== MASS_ERASE || checksum !== (head[0] ^ head[1])) {
        this.nack('Extended Erase', `special code 0x${count.toString(16)}`);
        return;
      }
      this.memory.eraseAll();
      this.onEvent({ type: 'erase', sectors: 'all' });
      this.send(Uint8Array.of(ACK));
      return;
    }
    const body = yield 2 * (count + 1) + 1;
    if (xorChecksum(body.subarray(0, body.length - 1), xorChecksum(head)) !== body[body.length - 1]) {
      this.nack('Extended Erase', 'checksum');
      return;
    }
    const sectors: number[] = [];
    for (let i = 0; i <= count; i++) sectors.push((body[2 * i] << 8) | body[2 * i + 1]);
    this.eraseOrNack('Extended Erase', sectors);
  }

  private *legacyErase(): Generator<number, undefined, Uint8Array> {
    const [count] = yield 1;
    if (count === 0xff) {
      const [checksum] = yield 1;
      if (checksum !== 0x00) {
        this.nack('Erase', 'global erase checksum');
        return;
      }
      this.memory.eraseAll();
      this.onEvent({ type: 'erase', sectors: 'all' });
      this.send(Uint8Array.of(ACK));
      return;
    }
    const body = yield count + 2;
    if (xorChecksum(body.subarray(0, count + 1), count) !== body[count + 1]) {
      this.nack('Erase', 'checksum');
      return;
    }
    this.eraseOrNack('Erase', Array.from(body.subarray(0, count + 1)));
  }

  private eraseOrNack(command: string, sectors: number[]): void {
    if (sectors.some((sector) => sector >= this.memory.sectorCount)) {
      this.nack(command, `no sector ${Math.max(...sectors)} on this part`);
      return;
    }
    for (const sector of sectors) this.memory.eraseSector(sector);
    this.onEvent({ type: 'erase', sectors });
    this.send(Uint8Array.of(ACK));
  }

  private *go(): Generator<number, SessionEnd | undefined, Uint8Array> {
    const address = decodeAddressFrame(yield 5);
    if (address === undefined || this.memory.read(address, 8) === undefined) {
      this.nack('Go', address === undefined ? 'address checksum' : 'address outside memory');
      return;
    }
    this.send(Uint8Array.of(ACK));
    return { kind: 'go', address };
  }

  private nack(command: string, reason: string): void {
    this.onEvent({ type: 'nack', command, reason });
    this.send(Uint8Array.of(NACK));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
