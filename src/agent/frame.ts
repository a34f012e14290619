/**
 * Frames of the device protocol (layout in templates/firmware/protocol.h): encoding, and a decoder that takes bytes
 * in whatever chunks a stream delivers them, drops garbage and damaged frames, and re-synchronises on the next sync
 * byte. A damaged frame is counted and reported, never handed on: a flipped or lost byte cannot become a number.
 */
import { crc16Ccitt, crc32 } from './crc.js';

export const PROTOCOL_SYNC = 0xa5;
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 8;
export const TRAILER_BYTES = 4;
/** The largest payload the firmware's receive buffer takes (and the host's default chunk size follows). */
export const MAX_PAYLOAD = 1024;

export interface Frame {
  version: number;
  type: number;
  sequence: number;
  payload: Uint8Array;
}

export function encodeFrame(type: number, sequence: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new Error(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const frame = new Uint8Array(HEADER_BYTES + payload.length + TRAILER_BYTES);
  const view = new DataView(frame.buffer);
  frame.set([PROTOCOL_SYNC, PROTOCOL_VERSION, type & 0xff, sequence & 0xff]);
  view.setUint16(4, payload.length, true);
  view.setUint16(6, crc16Ccitt(frame.subarray(0, 6)), true);
  frame.set(payload, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + payload.length, crc32(frame.subarray(0, HEADER_BYTES + payload.length)), true);
  return frame;
}

/** What the decoder threw away, for diagnostics and tests. */
export interface DecoderStats {
  framesDecoded: number;
  /** Bytes skipped while hunting for a sync byte or after a bad header. */
  bytesDiscarded: number;
  /** Frames whose header was good but whose CRC-32 failed. */
  damagedFrames: number;
}

export interface DecodeEvents {
  frame(frame: Frame): void;
  /** A frame with a good header but a bad payload check: its sender can be asked again at once. */
  damaged?(header: { version: number; type: number; sequence: number }): void;
}

export class FrameDecoder {
  private buffer = new Uint8Array(4 * (HEADER_BYTES + MAX_PAYLOAD + TRAILER_BYTES));
  private count = 0;
  readonly stats: DecoderStats = { framesDecoded: 0, bytesDiscarded: 0, damagedFrames: 0 };

  constructor(private readonly events: DecodeEvents) {}

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const room = this.buffer.length - this.count;
      const take = Math.min(room, chunk.length - offset);
      this.buffer.set(chunk.subarray(offset, offset + take), this.count);
      this.count += take;
      offset += take;
      this.parse();
    }
  }

  /** Bytes waiting for the rest of a frame. */
  get pending(): number {
    return this.count;
  }

  /** Drops `skip` bytes, then everything up to the next sync byte: nothing before it can start a frame. */
  private discard(skip: number): void {
    while (skip < this.count && this.buffer[skip] !== PROTOCOL_SYNC) skip++;
    this.buffer.copyWithin(0, skip, this.count);
    this.count -= skip;
    this.stats.bytesDiscarded += skip;
  }

  private parse(): void {
    for (;;) {
      this.discard(0);
      if (this.count < HEADER_BYTES) return;
      const view = new DataView(this.buffer.buffer, 0, this.count);
      const length = view.getUint16(4, true);
      if (crc16Ccitt(this.buffer.subarray(0, 6)) !== view.getUint16(6, true) || length > MAX_PAYLOAD) {
        this.discard(1);
        continue;
      }
      const total = HEADER_BYTES + length + TRAILER_BYTES;
      if (this.count < total) return;
      const header = { version: this.buffer[1]!, type: this.buffer[2]!, sequence: this.buffer[3]! };
      if (crc32(this.buffer.subarray(0, HEADER_BYTES + length)) !== view.getUint32(HEADER_BYTES + length, true)) {
        this.stats.damagedFrames++;
        this.discard(1);
        this.events.damaged?.(header);
        continue;
      }
      const payload = this.buffer.slice(HEADER_BYTES, HEADER_BYTES + length);
      this.count -= total;
      this.buffer.copyWithin(0, total, total + this.count);
      this.stats.framesDecoded++;
      this.events.frame({ ...header, payload });
    }
  }
}
