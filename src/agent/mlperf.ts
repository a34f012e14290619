/**
 * The host side of the MLPerf Tiny DUT text protocol (templates/firmware/mlperf.c, MLPERF_TINY_PROTOCOL.md): a
 * command goes out as ASCII ending in '%'; the answer is lines ending in "\r\n", the last one "m-ready". Timeouts
 * are the MLCommons runner's: 5 s for each line, 30 s for each line of `infer`.
 *
 * The console also carries the framed protocol (frame.ts), and the firmware announces itself with a READY frame:
 * bytes are told apart the way the firmware tells them apart — a sync byte starts a frame, which takes every byte
 * until it is complete or found damaged; everything else is text. So this client and a DeviceLink can share one
 * stream, and a READY or FAULT frame in the middle of a command ends it with a typed error.
 */
import type { Duplex } from 'node:stream';
import { DeviceClosedError, DeviceError, DeviceFaultError, DeviceProtocolError, DeviceResetError, DeviceTimeoutError } from './errors.js';
import { FrameDecoder, PROTOCOL_SYNC, PROTOCOL_VERSION, type Frame } from './frame.js';
import { decodeFault, Message } from './protocol.js';

/** The firmware's command buffer: longer commands are refused. */
export const MLPERF_COMMAND_BYTES = 80;
export const MLPERF_LINE_TIMEOUT_MS = 5_000;
export const MLPERF_INFER_LINE_TIMEOUT_MS = 30_000;
/** The runner sends 31 bytes per `db` command (62 hex digits: "db " + 62 = 65 characters). */
export const MLPERF_DB_CHUNK_BYTES = 31;

/** Every line the DUT sends, as the protocol document and the runner's parser have them. */
export const MLPERF_LINES = {
  name: /^m-name-dut-\[([^\]]+)\]$/,
  profile: /^m-profile-\[([^\]]+)\]$/,
  model: /^m-model-\[([^\]]+)\]$/,
  expecting: /^m-\[Expecting ([0-9]+) bytes\]$/,
  loadDone: /^m-load-done$/,
  warmupStart: /^m-warmup-start-([0-9]+)$/,
  warmupDone: /^m-warmup-done$/,
  inferStart: /^m-infer-start-([0-9]+)$/,
  lap: /^m-lap-us-([0-9]+)$/,
  inferDone: /^m-infer-done$/,
  results: /^m-results-\[([^\]]+)\]$/,
  error: /^e-\[([^\]]*)\]$/,
  ready: /^m-ready$/,
} as const;

/** The DUT answered a command with e-[...]. */
export class MlperfReplyError extends DeviceError {
  constructor(
    port: string,
    readonly command: string,
    readonly reason: string,
  ) {
    super(port, `the device refused '${command}': ${reason}`);
  }
}

export interface MlperfClientOptions {
  /** Names the device in errors. */
  port: string;
  lineTimeoutMs?: number;
  inferLineTimeoutMs?: number;
}

export interface MlperfInference {
  warmups: number;
  runs: number;
  /** m-lap-us before and after the timed runs: microseconds since boot (instructions / MHz in QEMU). */
  startUs: number;
  endUs: number;
  elapsedUs: number;
  results: number[];
}

export interface MlperfStats {
  commands: number;
  /** Lines that arrived while no command was waiting (the tail of a command that timed out). */
  strayLines: number;
  /** Frames seen on the shared console (READY, FAULT, a DeviceLink's replies). */
  frames: number;
}

/**
 * The comma-separated values of m-results-[...] as the runner reads them (Python float(); empty items skipped):
 * undefined for an item that is not a number.
 */
export function parseResultValues(text: string): (number | undefined)[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => {
      const special = /^([+-]?)(nan|inf|infinity)$/i.exec(item);
      if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
      return /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(item) ? Number(item) : undefined;
    });
}

interface PendingCommand {
  command: string;
  lines: string[];
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  resolve(lines: string[]): void;
  reject(error: Error): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class MlperfClient {
  readonly port: string;
  readonly stats: MlperfStats = { commands: 0, strayLines: 0, frames: 0 };
  private readonly lineTimeoutMs: number;
  private readonly inferLineTimeoutMs: number;
  private readonly frames: FrameDecoder;
  private inFrame = false;
  private line: number[] = [];
  private pending: PendingCommand | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closedError: DeviceError | undefined;
  private readyCount = 0;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly stream: Duplex,
    options: MlperfClientOptions,
  ) {
    this.port = options.port;
    this.lineTimeoutMs = options.lineTimeoutMs ?? MLPERF_LINE_TIMEOUT_MS;
    this.inferLineTimeoutMs = options.inferLineTimeoutMs ?? MLPERF_INFER_LINE_TIMEOUT_MS;
    this.frames = new FrameDecoder({ frame: (frame) => this.onFrame(frame) });
    stream.on('data', (chunk: Buffer) => this.onBytes(chunk));
    stream.on('error', (error: Error) => this.shutDown(new DeviceClosedError(this.port, `stream error: ${error.message}`)));
    stream.on('close', () => this.shutDown(new DeviceClosedError(this.port, 'the device closed the connection')));
  }

  /** Waits for the firmware's READY frame (sent once at boot); false when none came in time. */
  async waitForReady(timeoutMs: number): Promise<boolean> {
    if (this.readyCount > 0 || this.closedError) return this.readyCount > 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.readyWaiters.push(done);
    });
    return this.readyCount > 0;
  }

  /**
   * Sends `command` (without the '%') and returns the lines of the answer before m-ready, e-[...] lines included:
   * what the runner sees. Commands run one at a time, in call order.
   */
  sendCommand(command: string): Promise<string[]> {
    if (!/^[\x20-\x7e]*$/.test(command) || command.includes('%')) {
      return Promise.reject(new DeviceError(this.port, `an MLPerf command is printable ASCII without '%': ${JSON.stringify(command)}`));
    }
    const timeoutMs = /^infer( |$)/.test(command) ? this.inferLineTimeoutMs : this.lineTimeoutMs;
    const result = this.queue.then(() => this.exchange(command, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async name(): Promise<string> {
    return (await this.single('name', MLPERF_LINES.name))[1]!;
  }

  async profile(): Promise<{ profile: string; model: string }> {
    const lines = await this.checked('profile');
    return { profile: this.find('profile', lines, MLPERF_LINES.profile)[1]!, model: this.find('profile', lines, MLPERF_LINES.model)[1]! };
  }

  /** `db load N`, then the bytes in `db` commands of `chunkBytes` each, as the runner sends them. */
  async load(data: Uint8Array, chunkBytes = MLPERF_DB_CHUNK_BYTES): Promise<void> {
    const expecting = await this.single(`db load ${data.length}`, MLPERF_LINES.expecting);
    if (Number(expecting[1]) !== data.length) {
      throw new DeviceProtocolError(this.port, `db load ${data.length} was answered with ${expecting[0]}`);
    }
    for (let offset = 0; offset < data.length; offset += chunkBytes) {
      const chunk = data.subarray(offset, Math.min(offset + chunkBytes, data.length));
      const lines = await this.checked(`db ${Buffer.from(chunk).toString('hex')}`);
      const last = offset + chunk.length >= data.length;
      if (last !== lines.some((l) => MLPERF_LINES.loadDone.test(l))) {
        throw new DeviceProtocolError(this.port, `m-load-done ${last ? 'missing after the last' : 'before the last'} db command`);
      }
    }
  }

  async infer(runs: number, warmups: number): Promise<MlperfInference> {
    const command = `infer ${runs} ${warmups}`;
    const lines = await this.checked(command);
    const laps = lines.map((l) => MLPERF_LINES.lap.exec(l)).filter((m) => m !== null);
    if (laps.length !== 2) throw new DeviceProtocolError(this.port, `'${command}' gave ${laps.length} m-lap-us lines, not 2`);
    const startUs = Number(laps[0]![1]);
    const endUs = Number(laps[1]![1]);
    return { warmups, runs, startUs, endUs, elapsedUs: endUs - startUs, results: this.parseResults(command, lines) };
  }

  async results(): Promise<number[]> {
    return this.parseResults('results', await this.checked('results'));
  }

  /** Microseconds since boot. */
  async timestamp(): Promise<number> {
    return Number((await this.single('timestamp', MLPERF_LINES.lap))[1]);
  }

  /** Stops listening and closes the stream. */
  async close(): Promise<void> {
    this.shutDown(new DeviceClosedError(this.port, 'the client was closed'));
    if (!this.stream.destroyed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.end();
        this.stream.destroy();
      });
    }
  }

  /** The answer's lines, or MlperfReplyError for an e-[...] among them. */
  private async checked(command: string): Promise<string[]> {
    const lines = await this.sendCommand(command);
    const error = lines.map((l) => MLPERF_LINES.error.exec(l)).find((m) => m !== null);
    if (error) throw new MlperfReplyError(this.port, command, error[1]!);
    return lines;
  }

  private async single(command: string, pattern: RegExp): Promise<RegExpExecArray> {
    return this.find(command, await this.checked(command), pattern);
  }

  private find(command: string, lines: string[], pattern: RegExp): RegExpExecArray {
    for (const line of lines) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    throw new DeviceProtocolError(this.port, `'${command}' was answered without a line like ${pattern.source}: ${JSON.stringify(lines)}`);
  }

  private parseResults(command: string, lines: string[]): number[] {
    const match = this.find(command, lines, MLPERF_LINES.results);
    const values = parseResultValues(match[1]!);
    if (values.some((v) => v === undefined)) {
      throw new DeviceProtocolError(this.port, `'${command}' gave results that are not all numbers: ${match[0]}`);
    }
    return values as number[];
  }

  private exchange(command: string, timeoutMs: number): Promise<string[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    this.stats.commands++;
    return new Promise<string[]>((resolve, reject) => {
      this.pending = { command, lines: [], timeoutMs, timer: undefined, resolve, reject };
      this.armTimer();
      this.stream.write(`${command}%`, 'latin1');
    });
  }

  private armTimer(): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      this.finish(pending);
      const got = pending.lines.length ? ` after ${JSON.stringify(pending.lines.slice(-3))}` : '';
      pending.reject(new DeviceTimeoutError(this.port, `no line of the answer to '${pending.command}' within ${pending.timeoutMs} ms${got}`));
    }, pending.timeoutMs);
  }

  private finish(pending: PendingCommand): void {
    clearTimeout(pending.timer);
    if (this.pending === pending) this.pending = undefined;
  }

  private onBytes(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.inFrame || byte === PROTOCOL_SYNC) {
        this.frames.push(chunk.subarray(i, i + 1));
        this.inFrame = this.frames.pending > 0;
      } else if (byte === LF) {
        this.onLine(Buffer.from(this.line).toString('latin1'));
        this.line = [];
      } else if (byte !== CR && byte !== 0) {
        this.line.push(byte);
      }
    }
  }

  private onLine(line: string): void {
    const pending = this.pending;
    if (!pending) {
      this.stats.strayLines++;
      return;
    }
    if (MLPERF_LINES.ready.test(line)) {
      this.finish(pending);
      pending.resolve(pending.lines);
      return;
    }
    if (line.includes('m-ready')) {
      this.finish(pending);
      pending.reject(new DeviceProtocolError(this.port, `'${pending.command}': m-ready inside another line: ${JSON.stringify(line)}`));
      return;
    }
    pending.lines.push(line);
    this.armTimer();
  }

  private onFrame(frame: Frame): void {
    this.stats.frames++;
    if (frame.version !== PROTOCOL_VERSION) return;
    if (frame.type === Message.ready) {
      this.readyCount++;
      for (const wake of this.readyWaiters.splice(0)) wake();
      this.failPending(new DeviceResetError(this.port, 'the device restarted during an MLPerf command'));
    } else if (frame.type === Message.fault) {
      const error = new DeviceFaultError(this.port, decodeFault(frame.payload));
      this.closedError = error;
      this.failPending(error);
    }
  }

  private failPending(error: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.finish(pending);
    pending.reject(error);
  }

  private shutDown(error: DeviceError): void {
    this.closedError ??= error;
    for (const wake of this.readyWaiters.splice(0)) wake();
    this.failPending(this.closedError);
  }
}
