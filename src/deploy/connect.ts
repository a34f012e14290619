/**
 * The moment the host first speaks to a freshly started firmware: open the console, wait for READY, ask HELLO, and
 * refuse a device that is not running what we built (another model, another target, a library that disagrees with
 * its harness, no timer). Every refusal names the port and says what was found instead.
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { DeviceLink } from '../agent/device-link.js';
import { DeviceError } from '../agent/errors.js';
import type { Hello } from '../agent/protocol.js';
import type { Graph } from '../ir/types.js';
import type { Target } from '../targets/index.js';
import type { CompiledModel } from './compile.js';
import { firmwareHash } from './model.js';

/** What the firmware must say about itself. */
export interface ExpectedFirmware {
  target: string;
  modelName: string;
  /** First 16 hex digits of the model file's sha-256. */
  hash: string;
  inputBytes: number[];
  outputBytes: number[];
  layerCount: number;
}

export interface ConnectedDevice {
  link: DeviceLink;
  hello: Hello;
  /** Names the device in messages: a serial port, or the emulator. */
  port: string;
  /** The console stream (destroyed once the conversation is over). */
  stream: Duplex;
  /** Ends the conversation and releases the port. */
  close(): Promise<void>;
}

/** What a firmware built from `compiled` (for `graph` of the model with `sha256`) says in HELLO. */
export function expectedFirmware(target: Target, graph: Graph, sha256: string, compiled: CompiledModel): ExpectedFirmware {
  return {
    target: target.name,
    modelName: graph.name,
    hash: firmwareHash(sha256),
    inputBytes: compiled.inputBytes,
    outputBytes: compiled.outputBytes,
    layerCount: graph.nodes.length,
  };
}

/** Requests other than RUN answer within milliseconds on any board; retries cover a lost frame. */
export const REQUEST_TIMEOUT_MS = 2000;
export const REQUEST_RETRIES = 2;
/** A board that has just been flashed announces READY once its clock and console are up. */
export const READY_TIMEOUT_MS = 3000;

export async function connectDevice(stream: Duplex, port: string, expected: ExpectedFirmware, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ConnectedDevice> {
  const link = new DeviceLink(stream, { port, timeoutMs, retries: REQUEST_RETRIES });
  const close = async () => {
    await link.close();
    // Destroying a SerialPort stream does not close its file descriptor (nor drop its lock): close it as a port.
    if (stream instanceof SerialPort && stream.isOpen) await new Promise<void>((resolve) => stream.close(() => resolve()));
  };
  try {
    const hello = await link.connect(READY_TIMEOUT_MS);
    checkHello(port, hello, expected);
    return { link, hello, port, stream, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export function checkHello(port: string, hello: Hello, expected: ExpectedFirmware): void {
  if (hello.modelHash.toLowerCase() !== expected.hash) {
    throw new DeviceError(
      port,
      `the board runs model '${hello.modelName}' (hash ${hello.modelHash}), not '${expected.modelName}' (hash ${expected.hash}): refusing to measure the wrong model`,
    );
  }
  if (hello.target !== expected.target) {
    throw new DeviceError(port, `the firmware on the board was built for ${hello.target}, not ${expected.target}: wrong board or wrong --target`);
  }
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (hello.modelMismatch || !same(hello.inputBytes, expected.inputBytes) || !same(hello.outputBytes, expected.outputBytes) || hello.layerCount !== expected.layerCount) {
    throw new DeviceError(port, `the firmware's model library disagrees with the model (inputs, outputs or layers): rebuild the firmware`);
  }
  if (hello.timerUnit === 'none') {
    throw new DeviceError(port, `the firmware on ${hello.target} found no working timer: nothing can be measured`);
  }
}

/** Opens a serial port at 8N1 (the firmware console's framing), as a typed device error when it cannot. */
export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const serial = new SerialPort({ path, baudRate, dataBits: 8, stopBits: 1, parity: 'none', autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    serial.open((error) => (error ? reject(new DeviceError(path, `cannot open the serial port: ${error.message}`)) : resolve())),
  );
  return serial;
}
