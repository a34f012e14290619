/**
 * A virtual board: qemu-system-arm running the firmware ELF of an emulated target, with its console UART on a unix
 * socket. QEMU waits for our connection before it starts the guest (so no output is lost), and `-icount shift=0`
 * makes every timer reading an exact, repeatable instruction count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { findProgram, pathDirectories } from '../build/toolchain-programs.js';
import { DeviceError } from './errors.js';
import type { Target } from '../targets/index.js';

export const INSTALL_QEMU = 'sudo apt-get install -y qemu-system-arm';

export interface QemuOptions {
  target: Target;
  elf: string;
  /** How long QEMU may take to come up and accept the console connection. */
  startTimeoutMs?: number;
}

export interface QemuExit {
  code: number | undefined;
  signal: string | undefined;
  /** What QEMU printed on stderr (a guest lock-up is reported there). */
  stderr: string;
}

export interface QemuBoard {
  /** The console UART. */
  stream: net.Socket;
  /** Names the board in errors: "qemu-stm32f405 (netduinoplus2)". */
  port: string;
  pid: number | undefined;
  /** Settles when QEMU exits, for whatever reason. */
  exited: Promise<QemuExit>;
  /** Closes the console, ends QEMU (SIGTERM, then SIGKILL) and removes the socket directory. */
  stop(): Promise<void>;
}

/** The command line: no display, no monitor, exact instruction counting, console on a socket we connect to. */
export function qemuArguments(target: Target, elf: string, socketPath: string): string[] {
  if (!target.qemu) throw new DeviceError(target.name, 'is a real board, not an emulated one: flash it instead');
  return [
    '-M',
    target.qemu.machine,
    ...(target.qemu.cpu ? ['-cpu', target.qemu.cpu] : []),
    '-nographic',
    '-monitor',
    'none',
    '-icount',
    'shift=0',
    '-no-reboot',
    '-kernel',
    elf,
    '-chardev',
    `socket,id=console,path=${socketPath},server=on,wait=on`,
    '-serial',
    'chardev:console',
  ];
}

export function findQemu(): string {
  const qemu = findProgram('qemu-system-arm', pathDirectories());
  if (!qemu) throw new DeviceError('qemu-system-arm', `not found on PATH; install it with: ${INSTALL_QEMU}`);
  return qemu;
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export async function startQemu(options: QemuOptions): Promise<QemuBoard> {
  const { target, elf } = options;
  const qemu = findQemu();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-qemu-'));
  const socketPath = path.join(directory, 'console.sock');
  const port = `${target.name} (${target.qemu?.machine ?? 'not emulated'})`;
  let child: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;
  try {
    child = execa(qemu, qemuArguments(target, elf, socketPath), { reject: false, stdin: 'ignore', buffer: false });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }

  let stderr = '';
  const exited = new Promise<QemuExit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code: code ?? undefined, signal: signal ?? undefined, stderr }));
  });
  child.stdout?.resume();

  let stopping: Promise<void> | undefined;
  const stop = (socket?: net.Socket) => {
    stopping ??= (async () => {
      socket?.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  // QEMU says it waits for the client only once its socket listens: connect then, not on a guess.
  const listening = new Promise<void>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const timer = setTimeout(() => reject(new DeviceError(port, `QEMU did not open its console socket within ${timeoutMs} ms`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('waiting for connection')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new DeviceError(port, `qemu-system-arm exited (${exit.code ?? exit.signal}) before the firmware started: ${exit.stderr.trim()}`));
    });
  });

  try {
    await listening;
    const socket = await connect(socketPath);
    return { stream: socket, port, pid: child.pid, exited, stop: () => stop(socket) };
  } catch (error) {
    await stop();
    throw error;
  }
}
