/**
 * The bytes of the STM32 system-memory bootloader protocol over USART (ST AN3155), shared by the host-side client
 * (stm32-uart-bootloader.ts) and the virtual board (src/board). Pure functions: frames in, frames out.
 */

export const SYNC = 0x7f;
export const ACK = 0x79;
export const NACK = 0x1f;

export const Command = {
  get: 0x00,
  getVersion: 0x01,
  getId: 0x02,
  readMemory: 0x11,
  go: 0x21,
  writeMemory: 0x31,
  erase: 0x43,
  extendedErase: 0x44,
  writeProtect: 0x63,
  writeUnprotect: 0x73,
  readoutProtect: 0x82,
  readoutUnprotect: 0x92,
} as const;
export type CommandCode = (typeof Command)[keyof typeof Command];

const commandNames: Record<number, string> = {
  0x00: 'Get',
  0x01: 'Get Version',
  0x02: 'Get ID',
  0x11: 'Read Memory',
  0x21: 'Go',
  0x31: 'Write Memory',
  0x43: 'Erase',
  0x44: 'Extended Erase',
  0x63: 'Write Protect',
  0x73: 'Write Unprotect',
  0x82: 'Readout Protect',
  0x92: 'Readout Unprotect',
};

export function commandName(code: number): string {
  return commandNames[code] ?? `command 0x${hex8(code)}`;
}

/** Largest payload of one Read Memory / Write Memory command. */
export const MAX_TRANSFER = 256;

/** Extended Erase special codes (instead of a sector count). */
export const MASS_ERASE = 0xffff;

export function xorChecksum(bytes: ArrayLike<number>, seed = 0): number {
  let sum = seed;
  for (let i = 0; i < bytes.length; i++) sum ^= bytes[i];
  return sum & 0xff;
}

/** A command goes out as its code and the code's complement. */
export function commandFrame(code: number): Uint8Array {
  return Uint8Array.of(code, code ^ 0xff);
}

/** 4-byte big-endian address followed by the XOR of those 4 bytes. */
export function addressFrame(address: number): Uint8Array {
  const frame = new Uint8Array(5);
  new DataView(frame.buffer).setUint32(0, address >>> 0, false);
  frame[4] = xorChecksum(frame.subarray(0, 4));
  return frame;
}

export function decodeAddressFrame(frame: Uint8Array): number | undefined {
  if (frame.length !== 5 || xorChecksum(frame.subarray(0, 4)) !== frame[4]) return undefined;
  return new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, false);
}

/** Read Memory length: N-1 and its complement. */
export function readLengthFrame(length: number): Uint8Array {
  checkTransferLength(length);
  return commandFrame(length - 1);
}

/** Write Memory payload: N-1, the N data bytes, the XOR of all of them. N must already be a multiple of 4. */
export function writeDataFrame(data: Uint8Array): Uint8Array {
  checkTransferLength(data.length);
  if (data.length % 4 !== 0) throw new Error(`write block of ${data.length} bytes is not a multiple of 4`);
  const frame = new Uint8Array(data.length + 2);
  frame[0] = data.length - 1;
  frame.set(data, 1);
  frame[frame.length - 1] = xorChecksum(frame.subarray(0, frame.length - 1));
  return frame;
}

/** Extended Erase of listed sectors/pages: N-1 (2 bytes BE), each number (2 bytes BE), XOR of everything. */
export function extendedEraseFrame(sectors: readonly number[]): Uint8Array {
  if (sectors.length === 0 || sectors.length > 0xfff0) throw new Error(`cannot erase ${sectors.length} sectors in one command`);
  const frame = new Uint8Array(2 + 2 * sectors.length + 1);
  const view = new DataView(frame.buffer);
  view.setUint16(0, sectors.length - 1, false);
  sectors.forEach((sector, i) => view.setUint16(2 + 2 * i, sector, false));
  frame[frame.length - 1] = xorChecksum(frame.subarray(0, frame.length - 1));
  return frame;
}

export function massEraseFrame(): Uint8Array {
  return Uint8Array.of(0xff, 0xff, 0x00);
}

/** Legacy Erase (0x43) of listed pages: N-1, one byte per page, XOR of everything. */
export function legacyEraseFrame(pages: readonly number[]): Uint8Array {
  if (pages.length === 0 || pages.length > 255) throw new Error(`cannot erase ${pages.length} pages in one legacy Erase`);
  const frame = Uint8Array.of(pages.length - 1, ...pages, 0);
  frame[frame.length - 1] = xorChecksum(frame.subarray(0, frame.length - 1));
  return frame;
}

/** Answer of Get after its first ACK: N, bootloader version, N command codes (then ACK). */
export interface GetReply {
  version: number;
  commands: number[];
}

/** Answer of Get Version after its first ACK: version and two option bytes (then ACK). */
export interface VersionReply {
  version: number;
  option1: number;
  option2: number;
}

/** `body` = the N+1 bytes that follow the count byte of a Get reply. */
export function decodeGetReply(body: Uint8Array): GetReply {
  return { version: body[0], commands: Array.from(body.subarray(1)) };
}

export function encodeGetReply(reply: GetReply): Uint8Array {
  return Uint8Array.of(reply.commands.length, reply.version, ...reply.commands);
}

/** `body` = the N+1 bytes of a Get ID reply (product id, big-endian, usually 2 bytes). */
export function decodeProductId(body: Uint8Array): number {
  let id = 0;
  for (const byte of body) id = (id << 8) | byte;
  return id >>> 0;
}

export function encodeGetIdReply(productId: number): Uint8Array {
  return Uint8Array.of(1, (productId >> 8) & 0xff, productId & 0xff);
}

/** The bootloader version byte 0x31 means v3.1. */
export function formatVersion(version: number): string {
  return `${version >> 4}.${version & 0x0f}`;
}

export function hex8(value: number): string {
  return value.toString(16).padStart(2, '0');
}

export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

function checkTransferLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_TRANSFER) {
    throw new Error(`transfer of ${length} bytes: the bootloader moves 1..${MAX_TRANSFER} bytes per command`);
  }
}
