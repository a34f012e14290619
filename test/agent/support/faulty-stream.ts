/**
 * A byte stream between the host and a real device that damages traffic on request: flips a bit, drops a byte,
 * swallows a whole frame, slips garbage in, or holds incoming bytes back (a slow or congested line). Outgoing faults are addressed by frame (the link writes one frame
 * per write), incoming ones by byte offset from "now".
 */
import { Duplex } from 'node:stream';

export type Fault = 'flip' | 'drop' | 'garbage';

export class FaultyStream extends Duplex {
  private framesWritten = 0;
  private bytesReceived = 0;
  private readonly outgoing: { frame: number; byte: number; fault: Fault | 'swallow' }[] = [];
  private readonly incoming: { offset: number; fault: Fault }[] = [];
  private incomingDelayMs = 0;
  /** When the last held-back chunk is released: later chunks never overtake it. */
  private lastRelease = 0;

  constructor(private readonly inner: Duplex) {
    super();
    inner.on('data', (chunk: Buffer) => this.deliver(this.mangleIncoming(chunk)));
    inner.on('end', () => this.push(null));
    inner.on('close', () => this.destroy());
  }

  /** Damages byte `byte` of the n-th frame written from now (0 = the next one). */
  damageWrite(byte: number, fault: Fault, n = 0): void {
    this.outgoing.push({ frame: this.framesWritten + n, byte, fault });
  }

  /** Lets the next `count` frames vanish entirely. */
  swallowWrites(count: number): void {
    for (let i = 0; i < count; i++) this.outgoing.push({ frame: this.framesWritten + i, byte: 0, fault: 'swallow' });
  }

  /** Damages the byte `offset` bytes after everything received so far. */
  damageRead(offset: number, fault: Fault): void {
    this.incoming.push({ offset: this.bytesReceived + offset, fault });
  }

  /** Holds every incoming chunk back by `ms` from now on (0: deliver at once again); order is kept. */
  delayReads(ms: number): void {
    this.incomingDelayMs = ms;
  }

  override _read(): void {}

  private deliver(bytes: Buffer): void {
    const now = Date.now();
    if (this.incomingDelayMs === 0 && this.lastRelease <= now) {
      this.push(bytes);
      return;
    }
    const releaseAt = Math.max(now + this.incomingDelayMs, this.lastRelease);
    this.lastRelease = releaseAt;
    setTimeout(() => this.push(bytes), releaseAt - now);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const frame = this.framesWritten++;
    let bytes: Buffer = Buffer.from(chunk);
    for (const plan of this.outgoing.filter((p) => p.frame === frame)) {
      if (plan.fault === 'swallow') return callback();
      bytes = apply(bytes, plan.byte, plan.fault);
    }
    this.inner.write(bytes, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  private mangleIncoming(chunk: Buffer): Buffer {
    const start = this.bytesReceived;
    this.bytesReceived += chunk.length;
    let bytes: Buffer = Buffer.from(chunk);
    // Highest offset first, so that dropping or inserting does not move the later positions.
    const due = this.incoming.filter((p) => p.offset >= start && p.offset < start + chunk.length).sort((a, b) => b.offset - a.offset);
    for (const plan of due) bytes = apply(bytes, plan.offset - start, plan.fault);
    return bytes;
  }
}

function apply(bytes: Buffer, index: number, fault: Fault): Buffer {
  switch (fault) {
    case 'flip': {
      const copy = Buffer.from(bytes);
      copy[index]! ^= 0x04;
      return copy;
    }
    case 'drop':
      return Buffer.concat([bytes.subarray(0, index), bytes.subarray(index + 1)]);
    case 'garbage':
      return Buffer.concat([bytes.subarray(0, index), Buffer.from([0xa5, 0x01, 0x84, 0x00, 0xa5, 0x13, 0x37]), bytes.subarray(index)]);
  }
}
