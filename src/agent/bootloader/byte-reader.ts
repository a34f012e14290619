import type { Duplex } from 'node:stream';

/** No (or not enough) bytes arrived in time. Internal to the client: it becomes a BootloaderError at the top. */
export class ReadTimeout extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
    readonly timeoutMs: number,
  ) {
    super(`${received} of ${expected} bytes within ${timeoutMs} ms`);
  }
}

/** The stream closed or failed while a reply was awaited. */
export class StreamClosed extends Error {}

interface PendingRead {
  count: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Turns the arbitrary chunks a serial port or socket delivers into exact-length reads with a deadline. A reply may
 * arrive one byte at a time or glued to the next one: only byte counts matter here, never chunk boundaries.
 */
export class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private pending: PendingRead | undefined;
  private closed: Error | undefined;
  private lastArrival = 0;
  private readonly onData = (chunk: Buffer | Uint8Array) => this.push(chunk);
  private readonly onError = (error: Error) => this.fail(new StreamClosed(error.message));
  private readonly onClose = () => this.fail(new StreamClosed('port closed'));

  constructor(private readonly stream?: Duplex) {
    stream?.on('data', this.onData);
    stream?.on('error', this.onError);
    stream?.on('close', this.onClose);
  }

  /** Bytes received and not yet read. */
  get available(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(new Uint8Array(chunk));
    this.buffered += chunk.length;
    this.lastArrival = Date.now();
    this.settle();
  }

  read(count: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.pending) return Promise.reject(new Error('ByteReader: one read at a time'));
    if (this.buffered >= count) return Promise.resolve(this.take(count));
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new ReadTimeout(count, this.buffered, timeoutMs));
      }, timeoutMs);
      this.pending = { count, resolve, reject, timer };
    });
  }

  async readByte(timeoutMs: number): Promise<number> {
    return (await this.read(1, timeoutMs))[0];
  }

  /** Drops everything received so far; returns how many bytes that was. */
  discard(): number {
    const dropped = this.buffered;
    this.chunks = [];
    this.buffered = 0;
    return dropped;
  }

  /**
   * Waits until the line has been quiet for `quietMs` (at most `limitMs` in all, so a babbling device cannot hold
   * us), then drops what came. Used only to recover from a lost frame, never as synchronisation of a good exchange.
   */
  async drain(quietMs: number, limitMs = 2000): Promise<number> {
    const start = Date.now();
    let dropped = this.discard();
    for (;;) {
      // Quiet counts from our start too: replies to bytes just written may not have begun to arrive.
      const sinceLast = Date.now() - Math.max(start, this.lastArrival);
      if (sinceLast >= quietMs || Date.now() - start >= limitMs || this.closed) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, quietMs - sinceLast)));
      dropped += this.discard();
    }
    return dropped + this.discard();
  }

  /** Fails the pending read and every later one with `error` (the port broke). */
  abort(error: Error): void {
    this.fail(error);
  }

  detach(): void {
    this.stream?.off('data', this.onData);
    this.stream?.off('error', this.onError);
    this.stream?.off('close', this.onClose);
    this.fail(new StreamClosed('reader detached'));
  }

  private fail(error: Error): void {
    this.closed ??= error;
    const pending = this.pending;
    if (pending) {
      clearTimeout(pending.timer);
      this.pending = undefined;
      pending.reject(this.closed);
    }
  }

  private settle(): void {
    const pending = this.pending;
    if (pending && this.buffered >= pending.count) {
      clearTimeout(pending.timer);
      this.pending = undefined;
      pending.resolve(this.take(pending.count));
    }
  }

  private take(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.chunks[0];
      const part = Math.min(head.length, count - filled);
      out.set(head.subarray(0, part), filled);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    this.buffered -= count;
    return out;
  }
}
