/**
 * Bounds-checked reading of flatbuffer tables on top of the `flatbuffers` runtime.
 *
 * The runtime's accessors trust the bytes: an offset past the end reads `undefined` bits as zeros, so a truncated or
 * corrupt file would come out as a plausible but wrong model, or fail later far from the cause. Every position is
 * checked here before the runtime reads it, and a violation is a MalformedFlatbuffer saying what was being read.
 */
import { ByteBuffer } from 'flatbuffers';

/** The bytes are not the flatbuffer the schema describes; the message says what could not be read. */
export class MalformedFlatbuffer extends Error {}

const SIZE_OF_UOFFSET = 4;
const SIZE_OF_VTABLE_HEADER = 4;

export class FlatbufferFile {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  /** The 4 characters after the root offset. */
  identifier(): string {
    this.require(SIZE_OF_UOFFSET, 4, 'the file identifier');
    return String.fromCharCode(...this.bytes.subarray(SIZE_OF_UOFFSET, SIZE_OF_UOFFSET + 4));
  }

  root(what: string): TableView {
    this.require(0, SIZE_OF_UOFFSET, 'the root table offset');
    return this.table(this.bb.readUint32(0), what);
  }

  table(position: number, what: string): TableView {
    this.require(position, 4, what);
    const vtable = position - this.bb.readInt32(position);
    this.require(vtable, SIZE_OF_VTABLE_HEADER, `the field table of ${what}`);
    const vtableSize = this.bb.readUint16(vtable);
    const inlineSize = this.bb.readUint16(vtable + 2);
    if (vtableSize < SIZE_OF_VTABLE_HEADER || vtableSize % 2 !== 0) {
      throw new MalformedFlatbuffer(`the field table of ${what} at byte ${vtable} has an impossible size ${vtableSize}`);
    }
    this.require(vtable, vtableSize, `the field table of ${what}`);
    this.require(position, Math.max(inlineSize, 4), what);
    return new TableView(this, position, vtable, vtableSize, inlineSize, what);
  }

  /** Throws unless bytes [start, start + length) lie inside the file. */
  require(start: number, length: number, what: string): void {
    if (!Number.isSafeInteger(start) || start < 0 || length < 0 || start + length > this.size) {
      throw new MalformedFlatbuffer(
        `reading ${what} at byte ${start} (${length} bytes) falls outside the ${this.size}-byte file — ` +
          'truncated or corrupt',
      );
    }
  }
}

/** One table of the file: scalar fields with their schema defaults, and references checked before they are followed. */
export class TableView {
  constructor(
    private readonly file: FlatbufferFile,
    readonly position: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly inlineSize: number,
    readonly what: string,
  ) {}

  /** Absolute position of field `id` holding `size` bytes, or null when the field is absent (it takes its default). */
  private fieldPosition(id: number, size: number): number | null {
    const slot = SIZE_OF_VTABLE_HEADER + 2 * id;
    if (slot >= this.vtableSize) return null;
    const offset = this.file.bb.__offset(this.position, slot);
    if (offset === 0) return null;
    if (offset + size > this.inlineSize) {
      throw new MalformedFlatbuffer(`field ${id} of ${this.what} overruns its table`);
    }
    return this.position + offset;
  }

  int8(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 1);
    return at === null ? fallback : this.file.bb.readInt8(at);
  }

  uint8(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 1);
    return at === null ? fallback : this.file.bb.readUint8(at);
  }

  bool(id: number, fallback = false): boolean {
    const at = this.fieldPosition(id, 1);
    return at === null ? fallback : this.file.bb.readUint8(at) !== 0;
  }

  int32(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 4);
    return at === null ? fallback : this.file.bb.readInt32(at);
  }

  uint32(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 4);
    return at === null ? fallback : this.file.bb.readUint32(at);
  }

  float32(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 4);
    return at === null ? fallback : this.file.bb.readFloat32(at);
  }

  /** A ulong field as a number; values beyond 2^53 (never a real offset or size) are rejected. */
  uint64(id: number, fallback = 0): number {
    const at = this.fieldPosition(id, 8);
    if (at === null) return fallback;
    return this.safeNumber(this.file.bb.readUint64(at), `field ${id} of ${this.what}`);
  }

  /** Where the reference stored in field `id` points, or null when the field is absent. */
  private follow(id: number, what: string): number | null {
    const at = this.fieldPosition(id, SIZE_OF_UOFFSET);
    if (at === null) return null;
    const target = this.file.bb.__indirect(at);
    this.file.require(target, 4, what);
    return target;
  }

  table(id: number, what: string): TableView | null {
    const target = this.follow(id, what);
    return target === null ? null : this.file.table(target, what);
  }

  /** Start and length of a vector of `elementSize`-byte elements, or null when absent. */
  private vector(id: number, elementSize: number, what: string): { start: number; length: number } | null {
    const target = this.follow(id, what);
    if (target === null) return null;
    const length = this.file.bb.readUint32(target);
    const start = target + SIZE_OF_UOFFSET;
    this.file.require(start, length * elementSize, what);
    return { start, length };
  }

  tables(id: number, what: string): TableView[] {
    const vector = this.vector(id, SIZE_OF_UOFFSET, what);
    if (!vector) return [];
    const result: TableView[] = [];
    for (let i = 0; i < vector.length; i++) {
      const element = vector.start + SIZE_OF_UOFFSET * i;
      result.push(this.file.table(this.file.bb.__indirect(element), `${what} ${i}`));
    }
    return result;
  }

  int32s(id: number, what: string): number[] | null {
    const vector = this.vector(id, 4, what);
    if (!vector) return null;
    return Array.from({ length: vector.length }, (_, i) => this.file.bb.readInt32(vector.start + 4 * i));
  }

  float32s(id: number, what: string): number[] | null {
    const vector = this.vector(id, 4, what);
    if (!vector) return null;
    return Array.from({ length: vector.length }, (_, i) => this.file.bb.readFloat32(vector.start + 4 * i));
  }

  int64s(id: number, what: string): number[] | null {
    const vector = this.vector(id, 8, what);
    if (!vector) return null;
    return Array.from({ length: vector.length }, (_, i) =>
      this.safeNumber(this.file.bb.readInt64(vector.start + 8 * i), what),
    );
  }

  /** A [ubyte] vector as a view into the file (not a copy; unaligned). */
  bytes(id: number, what: string): Uint8Array | null {
    const vector = this.vector(id, 1, what);
    if (!vector) return null;
    return this.file.bytes.subarray(vector.start, vector.start + vector.length);
  }

  string(id: number, what: string): string | null {
    const at = this.fieldPosition(id, SIZE_OF_UOFFSET);
    if (at === null) return null;
    this.vector(id, 1, what);
    return this.file.bb.__string(at) as string;
  }

  private safeNumber(value: bigint, what: string): number {
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw new MalformedFlatbuffer(`${what} holds an impossible value ${value}`);
    return number;
  }
}
