/**
 * The messages of the device protocol: their type codes, error codes, and payload layouts (little-endian), for the
 * host side. The firmware's constants are generated from these (templates/firmware/protocol_ids.h.hbs), so the two
 * sides cannot drift apart.
 */
import { MAX_PAYLOAD, PROTOCOL_SYNC, PROTOCOL_VERSION } from './frame.js';

export const Message = {
  hello: 0x01,
  layerInfo: 0x02,
  setInput: 0x03,
  run: 0x04,
  getOutput: 0x05,
  /** Responses are the request's code with the top bit set. */
  helloReply: 0x81,
  layerInfoReply: 0x82,
  setInputReply: 0x83,
  runDone: 0x84,
  getOutputReply: 0x85,
  /** One per timed run (more when a run has too many layers for one frame), before runDone. */
  runTimes: 0x90,
  error: 0xee,
  /** Unsolicited: the firmware is up and listening. */
  ready: 0xf0,
  /** Unsolicited: the firmware took a fault and has stopped. */
  fault: 0xf1,
} as const;

export const DeviceErrorCode = {
  badFrame: 1,
  unknownCommand: 2,
  badLength: 3,
  badIndex: 4,
  outOfRange: 5,
  modelFailed: 6,
  badVersion: 7,
  modelMismatch: 8,
} as const;

export type TimerUnit = 'cycles' | 'instructions' | 'none';
const TIMER_UNITS: TimerUnit[] = ['cycles', 'instructions', 'none'];

/** What the firmware says about itself and its model. */
export interface Hello {
  protocolVersion: number;
  firmwareVersion: string;
  target: string;
  /** The core clock actually running (the reset clock when the PLL did not lock, as always in QEMU). */
  clockHz: number;
  pllLocked: boolean;
  timerUnit: TimerUnit;
  /** Timer ticks are multiplied by this to give timerUnit (40 for the 25 MHz CMSDK timer under -icount). */
  unitsPerTick: number;
  modelName: string;
  modelHash: string;
  inputBytes: number[];
  outputBytes: number[];
  layerCount: number;
  arenaBytes: number;
  maxPayload: number;
  /** The library's own info disagrees with the sizes the firmware was built for: RUN will refuse. */
  modelMismatch: boolean;
}

export interface RunTimes {
  run: number;
  totalTicks: number;
  firstLayer: number;
  layerTicks: number[];
}

export interface Fault {
  exception: number;
  pc: number;
  lr: number;
  xpsr: number;
  cfsr: number;
  hfsr: number;
  mmfar: number;
  bfar: number;
}

export interface ErrorReply {
  request: number;
  code: number;
  message: string;
}

/** Reads a payload front to back; running past the end is a malformed payload. */
export class PayloadReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.data.length) throw new RangeError(`payload ends at byte ${this.data.length}`);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  string(): string {
    const length = this.u8();
    return new TextDecoder().decode(this.bytes(length));
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const slice = this.data.slice(this.offset, this.offset + n);
    this.offset += n;
    return slice;
  }

  rest(): Uint8Array {
    return this.bytes(this.data.length - this.offset);
  }
}

export class PayloadWriter {
  private readonly parts: number[] = [];

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  bytes(data: Uint8Array): this {
    for (const b of data) this.parts.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export const encodeSetInput = (index: number, offset: number, chunk: Uint8Array) =>
  new PayloadWriter().u8(index).u32(offset).bytes(chunk).finish();
export const encodeRun = (runs: number, warmups: number) => new PayloadWriter().u32(runs).u32(warmups).finish();
export const encodeGetOutput = (index: number, offset: number, length: number) =>
  new PayloadWriter().u8(index).u32(offset).u16(length).finish();
export const encodeLayerInfo = (index: number) => new PayloadWriter().u32(index).finish();

export function decodeHello(payload: Uint8Array): Hello {
  const r = new PayloadReader(payload);
  const protocolVersion = r.u8();
  const firmwareVersion = r.string();
  const target = r.string();
  const clockHz = r.u32();
  const timerUnit = TIMER_UNITS[r.u8()] ?? 'none';
  const unitsPerTick = r.u32();
  const modelName = r.string();
  const modelHash = r.string();
  const inputBytes = Array.from({ length: r.u32() }, () => r.u32());
  const outputBytes = Array.from({ length: r.u32() }, () => r.u32());
  const layerCount = r.u32();
  const arenaBytes = r.u32();
  const maxPayload = r.u16();
  const flags = r.u8();
  return {
    protocolVersion,
    firmwareVersion,
    target,
    clockHz,
    pllLocked: (flags & 1) !== 0,
    timerUnit,
    unitsPerTick,
    modelName,
    modelHash,
    inputBytes,
    outputBytes,
    layerCount,
    arenaBytes,
    maxPayload,
    modelMismatch: (flags & 2) !== 0,
  };
}

export function decodeLayerInfo(payload: Uint8Array): { index: number; name: string; op: string } {
  const r = new PayloadReader(payload);
  return { index: r.u32(), name: r.string(), op: r.string() };
}

export function decodeSetInputReply(payload: Uint8Array): { index: number; offset: number; length: number } {
  const r = new PayloadReader(payload);
  return { index: r.u8(), offset: r.u32(), length: r.u32() };
}

export function decodeRunTimes(payload: Uint8Array): RunTimes {
  const r = new PayloadReader(payload);
  const run = r.u32();
  const totalTicks = r.u32();
  const firstLayer = r.u32();
  const count = r.u16();
  return { run, totalTicks, firstLayer, layerTicks: Array.from({ length: count }, () => r.u32()) };
}

export function decodeRunDone(payload: Uint8Array): { runs: number; layerCount: number } {
  const r = new PayloadReader(payload);
  return { runs: r.u32(), layerCount: r.u32() };
}

export function decodeGetOutputReply(payload: Uint8Array): { index: number; offset: number; data: Uint8Array } {
  const r = new PayloadReader(payload);
  return { index: r.u8(), offset: r.u32(), data: r.rest() };
}

export function decodeError(payload: Uint8Array): ErrorReply {
  const r = new PayloadReader(payload);
  return { request: r.u8(), code: r.u8(), message: r.string() };
}

export function decodeReady(payload: Uint8Array): { firmwareVersion: string; target: string } {
  const r = new PayloadReader(payload);
  return { firmwareVersion: r.string(), target: r.string() };
}

export function decodeFault(payload: Uint8Array): Fault {
  const r = new PayloadReader(payload);
  return {
    exception: r.u32(),
    pc: r.u32(),
    lr: r.u32(),
    xpsr: r.u32(),
    cfsr: r.u32(),
    hfsr: r.u32(),
    mmfar: r.u32(),
    bfar: r.u32(),
  };
}

/** The constants the firmware is compiled with (protocol_ids.h). */
export function protocolDefines(maxPayload = MAX_PAYLOAD): { name: string; value: string }[] {
  const hex = (v: number) => `0x${v.toString(16).toUpperCase().padStart(2, '0')}u`;
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return [
    { name: 'PROTOCOL_SYNC', value: hex(PROTOCOL_SYNC) },
    { name: 'PROTOCOL_VERSION', value: `${PROTOCOL_VERSION}u` },
    { name: 'PROTOCOL_MAX_PAYLOAD', value: `${maxPayload}u` },
    ...Object.entries(Message).map(([name, code]) => ({ name: `MESSAGE_${snake(name)}`, value: hex(code) })),
    ...Object.entries(DeviceErrorCode).map(([name, code]) => ({ name: `ERROR_${snake(name)}`, value: `${code}u` })),
  ];
}
