import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc16Ccitt, crc32 } from '../../src/agent/crc.js';
import { encodeFrame, FrameDecoder, HEADER_BYTES, MAX_PAYLOAD, PROTOCOL_SYNC, type Frame } from '../../src/agent/frame.js';

const ascii = (s: string) => new TextEncoder().encode(s);

/** A deterministic pseudo-random sequence (xorshift), so failures reproduce. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function decodeAll(chunks: Uint8Array[]) {
  const frames: Frame[] = [];
  const damaged: number[] = [];
  const decoder = new FrameDecoder({ frame: (f) => frames.push(f), damaged: (h) => damaged.push(h.sequence) });
  for (const chunk of chunks) decoder.push(chunk);
  return { frames, damaged, stats: decoder.stats };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Three frames whose payloads contain the sync byte, as real data does. */
const payloads = [
  Uint8Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff),
  Uint8Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? PROTOCOL_SYNC : (i * 11) & 0xff)),
  ascii('third frame'),
];
const frames = payloads.map((p, i) => encodeFrame(0x10 + i, i + 1, p));
const stream = concat(...frames);

describe('CRCs', () => {
  it('match the catalogued check values and zlib', () => {
    expect(crc16Ccitt(ascii('123456789'))).toBe(0x29b1); // CRC-16/CCITT-FALSE check value
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926); // CRC-32/ISO-HDLC check value
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    expect(crc32(data)).toBe(zlib.crc32(data));
  });
});

describe('frame codec', () => {
  it('round-trips frames delivered in chunks of every size', () => {
    const next = random(42);
    for (const size of [1, 2, 3, 7, 8, 13, 64, stream.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const { frames: got } = decodeAll(chunks);
      expect(got.map((f) => [f.type, f.sequence, Array.from(f.payload)])).toEqual(
        payloads.map((p, i) => [0x10 + i, i + 1, Array.from(p)]),
      );
    }
    // Random fragmentation.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.length; ) {
      const n = 1 + Math.floor(next() * 20);
      chunks.push(stream.subarray(i, i + n));
      i += n;
    }
    expect(decodeAll(chunks).frames).toHaveLength(3);
  });

  it('skips garbage (sync bytes included) before, between and after frames', () => {
    const next = random(7);
    const garbage = (n: number) => Uint8Array.from({ length: n }, () => (next() < 0.3 ? PROTOCOL_SYNC : Math.floor(next() * 256)));
    const noisy = concat(garbage(50), frames[0]!, garbage(9), frames[1]!, garbage(1), frames[2]!, garbage(30));
    const { frames: got, stats } = decodeAll([noisy]);
    expect(got.map((f) => Array.from(f.payload))).toEqual(payloads.map((p) => Array.from(p)));
    expect(stats.bytesDiscarded).toBeGreaterThanOrEqual(60);
  });

  it('never delivers a frame with a flipped bit, and recovers the frames around it', () => {
    const middle = frames[1]!;
    const start = frames[0]!.length;
    for (let position = 0; position < middle.length; position++) {
      for (const bit of [0x01, 0x80]) {
        const corrupted = stream.slice();
        corrupted[start + position]! ^= bit;
        const { frames: got } = decodeAll([corrupted]);
        expect(got.map((f) => f.sequence)).toEqual([1, 3]);
        for (const frame of got) expect(Array.from(frame.payload)).toEqual(Array.from(payloads[frame.sequence - 1]!));
      }
    }
  });

  it('never delivers a frame with a dropped byte, and recovers the frames around it', () => {
    const start = frames[0]!.length;
    for (let position = 0; position < frames[1]!.length; position++) {
      const dropped = concat(stream.subarray(0, start + position), stream.subarray(start + position + 1));
      const { frames: got } = decodeAll([dropped]);
      expect(got.map((f) => f.sequence)).toEqual([1, 3]);
    }
  });

  it('reports a frame whose header survived but whose payload did not, so it can be asked for again', () => {
    const corrupted = frames[1]!.slice();
    corrupted[HEADER_BYTES + 5]! ^= 0x10;
    const { frames: got, damaged, stats } = decodeAll([corrupted, frames[2]!]);
    expect(damaged).toEqual([2]);
    expect(stats.damagedFrames).toBe(1);
    expect(got.map((f) => f.sequence)).toEqual([3]);
  });

  it('rejects a header announcing more than the maximum payload even when its check is right', () => {
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    header.set([PROTOCOL_SYNC, 1, 0x10, 9]);
    view.setUint16(4, MAX_PAYLOAD + 1, true);
    view.setUint16(6, crc16Ccitt(header.subarray(0, 6)), true);
    const { frames: got } = decodeAll([header, frames[2]!]);
    expect(got.map((f) => f.sequence)).toEqual([3]);
    expect(() => encodeFrame(1, 1, new Uint8Array(MAX_PAYLOAD + 1))).toThrow(/exceeds 1024/);
  });
});
