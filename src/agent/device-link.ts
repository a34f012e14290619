/**
 * A conversation with the tinyedge firmware over any byte stream (a serial port, a socket to QEMU): requests go out
 * as frames with a fresh sequence number; the reply with that number is awaited with a time-out. A damaged reply,
 * a request the device reports as damaged, or silence is retried; stale replies to earlier attempts are ignored;
 * unsolicited READY and FAULT frames end the request at once with a typed error.
 */
import type { Duplex } from 'node:stream';
import {
  DeviceClosedError,
  DeviceError,
  DeviceFaultError,
  DeviceProtocolError,
  DeviceReplyError,
  DeviceResetError,
  DeviceTimeoutError,
} from './errors.js';
import { encodeFrame, FrameDecoder, MAX_PAYLOAD, PROTOCOL_VERSION, type Frame } from './frame.js';
import {
  decodeError,
  decodeFault,
  decodeGetOutputReply,
  decodeHello,
  decodeLayerInfo,
  decodeReady,
  decodeRunDone,
  decodeRunTimes,
  decodeSetInputReply,
  DeviceErrorCode,
  encodeGetOutput,
  encodeLayerInfo,
  encodeRun,
  encodeSetInput,
  Message,
  type Hello,
  type RunTimes,
  type TimerUnit,
} from './protocol.js';

export interface DeviceLinkOptions {
  /** How errors name the device: a serial port path, or the emulator and its socket. */
  port: string;
  /** How long to wait for a reply (for RUN: between two frames of the reply). */
  timeoutMs?: number;
  /** Further attempts after a time-out or a damaged frame. */
  retries?: number;
}

export interface LinkStats {
  requests: number;
  retries: number;
  staleFrames: number;
}

export interface RunResult {
  unit: TimerUnit;
  unitsPerTick: number;
  /** Per timed run: the whole inference and each layer, in `unit`. */
  runs: { total: number; layers: number[] }[];
}

/** What one attempt came to: a value, or a reason to try again. */
type Outcome<T> = { value: T } | { retry: string };

interface Pending {
  sequence: number;
  onFrame(frame: Frame): void;
  onRetry(reason: string): void;
  fail(error: Error): void;
}

/** Collects the frames of one reply; returns the value when the reply is complete, `retry` when it cannot be. */
type Collector<T> = (frame: Frame) => { done: T } | { retry: string } | undefined;

export class DeviceLink {
  readonly port: string;
  readonly stats: LinkStats = { requests: 0, retries: 0, staleFrames: 0 };
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly decoder: FrameDecoder;
  private sequence = 0;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closedError: DeviceError | undefined;
  private readyFrame: { firmwareVersion: string; target: string } | undefined;
  private readyWaiters: (() => void)[] = [];
  private helloCache: Hello | undefined;

  constructor(
    private readonly stream: Duplex,
    options: DeviceLinkOptions,
  ) {
    this.port = options.port;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.retries = options.retries ?? 3;
    this.decoder = new FrameDecoder({
      frame: (frame) => this.onFrame(frame),
      damaged: (header) => {
        if (this.pending && header.sequence === this.pending.sequence) this.pending.onRetry('a damaged reply');
      },
    });
    stream.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    stream.on('error', (error: Error) => this.shutDown(new DeviceClosedError(this.port, `stream error: ${error.message}`)));
    stream.on('close', () => this.shutDown(new DeviceClosedError(this.port, 'the device closed the connection')));
  }

  /** Bytes and frames the decoder dropped. */
  get decoderStats() {
    return this.decoder.stats;
  }

  /** The READY announcement, if one came (a board that booted before the host connected sent it to nobody). */
  async waitForReady(timeoutMs: number): Promise<{ firmwareVersion: string; target: string } | undefined> {
    if (this.readyFrame || this.closedError) return this.readyFrame;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.readyWaiters.push(done);
    });
    return this.readyFrame;
  }

  /** Waits briefly for READY, then asks HELLO (retried, so a board that was already up answers too). */
  async connect(readyTimeoutMs = 2000): Promise<Hello> {
    await this.waitForReady(readyTimeoutMs);
    return this.hello();
  }

  async hello(): Promise<Hello> {
    const hello = await this.request('HELLO', Message.hello, new Uint8Array(0), this.single(Message.helloReply, decodeHello));
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      throw new DeviceProtocolError(this.port, `the firmware speaks protocol ${hello.protocolVersion}, this host ${PROTOCOL_VERSION}: rebuild the firmware`);
    }
    this.helloCache = hello;
    return hello;
  }

  async layerInfo(index: number): Promise<{ index: number; name: string; op: string }> {
    return this.request('LAYER_INFO', Message.layerInfo, encodeLayerInfo(index), this.single(Message.layerInfoReply, decodeLayerInfo));
  }

  /** Writes a whole input tensor, in chunks that fit a frame. */
  async setInput(index: number, data: Uint8Array | Int8Array): Promise<void> {
    const hello = this.helloCache ?? (await this.hello());
    const expected = hello.inputBytes[index];
    if (expected === undefined) throw new DeviceError(this.port, `the model has no input ${index}`);
    if (data.byteLength !== expected) {
      throw new DeviceError(this.port, `input ${index} takes ${expected} bytes, got ${data.byteLength}`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const chunk = this.chunkBytes(hello);
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      const part = bytes.subarray(offset, Math.min(offset + chunk, bytes.length));
      const reply = await this.request(
        'SET_INPUT',
        Message.setInput,
        encodeSetInput(index, offset, part),
        this.single(Message.setInputReply, decodeSetInputReply),
      );
      if (reply.index !== index || reply.offset !== offset || reply.length !== part.length) {
        throw new DeviceProtocolError(this.port, `SET_INPUT acknowledged ${reply.length} bytes at ${reply.offset}, sent ${part.length} at ${offset}`);
      }
    }
  }

  /** Reads a whole output tensor. */
  async getOutput(index: number): Promise<Int8Array> {
    const hello = this.helloCache ?? (await this.hello());
    const size = hello.outputBytes[index];
    if (size === undefined) throw new DeviceError(this.port, `the model has no output ${index}`);
    const result = new Int8Array(size);
    const chunk = this.chunkBytes(hello);
    for (let offset = 0; offset < size; offset += chunk) {
      const length = Math.min(chunk, size - offset);
      const reply = await this.request(
        'GET_OUTPUT',
        Message.getOutput,
        encodeGetOutput(index, offset, length),
        this.single(Message.getOutputReply, decodeGetOutputReply),
      );
      if (reply.index !== index || reply.offset !== offset || reply.data.length !== length) {
        throw new DeviceProtocolError(this.port, `GET_OUTPUT returned ${reply.data.length} bytes at ${reply.offset}, asked ${length} at ${offset}`);
      }
      result.set(new Int8Array(reply.data.buffer, reply.data.byteOffset, length), offset);
    }
    return result;
  }

  /** Warm-up runs, then `runs` timed runs; times come back per run and per layer. */
  async run(options: { runs: number; warmups?: number; timeoutMs?: number }): Promise<RunResult> {
    const hello = this.helloCache ?? (await this.hello());
    const { runs } = options;
    const warmups = options.warmups ?? 0;
    const collected = new Map<number, { total: number; layers: (number | undefined)[] }>();
    const collect: Collector<RunResult> = (frame) => {
      if (frame.type === Message.runTimes) {
        const times: RunTimes = decodeRunTimes(frame.payload);
        const entry = collected.get(times.run) ?? { total: times.totalTicks, layers: new Array(hello.layerCount) };
        times.layerTicks.forEach((ticks, i) => (entry.layers[times.firstLayer + i] = ticks));
        collected.set(times.run, entry);
        return undefined;
      }
      if (frame.type !== Message.runDone) return { retry: `an unexpected message 0x${frame.type.toString(16)}` };
      const done = decodeRunDone(frame.payload);
      const complete =
        done.runs === runs &&
        collected.size === runs &&
        [...collected.values()].every((r) => r.layers.length === done.layerCount && r.layers.every((t) => t !== undefined));
      if (!complete) return { retry: 'frames of the run results were lost' };
      const scale = hello.unitsPerTick;
      return {
        done: {
          unit: hello.timerUnit,
          unitsPerTick: scale,
          runs: [...Array(runs).keys()].map((i) => {
            const r = collected.get(i)!;
            return { total: r.total * scale, layers: r.layers.map((t) => t! * scale) };
          }),
        },
      };
    };
    return this.request('RUN', Message.run, encodeRun(runs, warmups), collect, options.timeoutMs, () => collected.clear());
  }

  /** Stops listening and closes the stream. */
  async close(): Promise<void> {
    this.shutDown(new DeviceClosedError(this.port, 'the link was closed'));
    if (!this.stream.destroyed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.end();
        this.stream.destroy();
      });
    }
  }

  private chunkBytes(hello: Hello): number {
    return Math.min(hello.maxPayload || MAX_PAYLOAD, MAX_PAYLOAD) - 5;
  }

  private single<T>(replyType: number, decode: (payload: Uint8Array) => T): Collector<T> {
    return (frame) => {
      if (frame.type !== replyType) return { retry: `an unexpected message 0x${frame.type.toString(16)}` };
      try {
        return { done: decode(frame.payload) };
      } catch (error) {
        throw new DeviceProtocolError(this.port, `malformed reply 0x${replyType.toString(16)}: ${(error as Error).message}`);
      }
    };
  }

  /** Requests run one at a time, in call order. */
  private request<T>(
    name: string,
    type: number,
    payload: Uint8Array,
    collect: Collector<T>,
    timeoutMs = this.timeoutMs,
    beforeAttempt?: () => void,
  ): Promise<T> {
    const result = this.queue.then(async () => {
      this.stats.requests++;
      let reason = 'no reply';
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        if (attempt > 0) this.stats.retries++;
        beforeAttempt?.();
        const outcome = await this.attempt(name, type, payload, collect, timeoutMs);
        if ('value' in outcome) return outcome.value;
        reason = outcome.retry;
      }
      throw new DeviceTimeoutError(this.port, `${name} failed after ${this.retries + 1} attempts: ${reason}`);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private attempt<T>(name: string, type: number, payload: Uint8Array, collect: Collector<T>, timeoutMs: number): Promise<Outcome<T>> {
    if (this.closedError) return Promise.reject(this.closedError);
    this.sequence = (this.sequence + 1) & 0xff;
    const sequence = this.sequence;
    return new Promise<Outcome<T>>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const finish = () => {
        clearTimeout(timer);
        this.pending = undefined;
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish();
          resolve({ retry: `no reply within ${timeoutMs} ms` });
        }, timeoutMs);
      };
      this.pending = {
        sequence,
        onFrame: (frame) => {
          arm();
          if (frame.type === Message.error) {
            const error = decodeError(frame.payload);
            finish();
            if (error.code === DeviceErrorCode.badFrame) resolve({ retry: 'the device received a damaged request' });
            else reject(new DeviceReplyError(this.port, error.code, error.message, name));
            return;
          }
          try {
            const step = collect(frame);
            if (step === undefined) return;
            finish();
            resolve('done' in step ? { value: step.done } : { retry: step.retry });
          } catch (error) {
            finish();
            reject(error);
          }
        },
        onRetry: (reason) => {
          finish();
          resolve({ retry: reason });
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      arm();
      this.stream.write(encodeFrame(type, sequence, payload));
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.version !== PROTOCOL_VERSION) {
      this.pending?.fail(
        new DeviceProtocolError(this.port, `the firmware speaks protocol ${frame.version}, this host ${PROTOCOL_VERSION}: rebuild the firmware`),
      );
      return;
    }
    if (frame.type === Message.ready) {
      this.readyFrame = decodeReady(frame.payload);
      this.helloCache = undefined;
      for (const wake of this.readyWaiters.splice(0)) wake();
      this.pending?.fail(new DeviceResetError(this.port, 'the device restarted during a request'));
      return;
    }
    if (frame.type === Message.fault) {
      const error = new DeviceFaultError(this.port, decodeFault(frame.payload));
      this.closedError = error;
      this.pending?.fail(error);
      return;
    }
    if (!this.pending || frame.sequence !== this.pending.sequence) {
      this.stats.staleFrames++;
      return;
    }
    this.pending.onFrame(frame);
  }

  private shutDown(error: DeviceError): void {
    this.closedError ??= error;
    for (const wake of this.readyWaiters.splice(0)) wake();
    this.pending?.fail(this.closedError);
  }
}
