import { lstat, readlink, unlink } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { BoardError } from './errors.js';

export interface PtyPair {
  /** The path users open (a symlink to /dev/pts/N). */
  hostPath: string;
  /** The board's end (a symlink to /dev/pts/M). */
  boardPath: string;
  close(): Promise<void>;
  /** Settles when socat ends (a closed pair is no serial device any more). */
  exited: Promise<void>;
}

/**
 * Two linked pseudo-terminals from socat: a user's tool opens `link` as it would /dev/ttyUSB0, the board opens
 * `link.board`. Raw, no echo: every byte passes untouched (ptys cannot carry parity, so the line is 8N1).
 */
export async function openPtyPair(board: string, link: string): Promise<PtyPair> {
  const boardPath = `${link}.board`;
  await removeStaleLink(board, link);
  await removeStaleLink(board, boardPath);
  let subprocess: ResultPromise;
  try {
    subprocess = execa('socat', ['-d', '-d', `pty,raw,echo=0,link=${link}`, `pty,raw,echo=0,link=${boardPath}`], {
      stdin: 'ignore',
      stdout: 'ignore',
      reject: false,
      buffer: false,
    });
  } catch (error) {
    throw new BoardError(board, `cannot start socat: ${(error as Error).message}`);
  }
  const exited = subprocess.then(() => undefined);
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      // socat prints this once both ptys exist and their links are made.
      if (log.includes('starting data transfer loop')) {
        subprocess.stderr?.off('data', onData);
        subprocess.stderr?.resume();
        resolve();
      }
    };
    subprocess.stderr?.on('data', onData);
    void exited.then(async () => {
      const result = await subprocess;
      const missing = (result as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(result.message ?? ''));
      reject(
        new BoardError(
          board,
          missing
            ? 'socat is not installed (Debian/Ubuntu: sudo apt install socat)'
            : `socat could not create ${link}: ${lastLine(log) || result.message}`,
        ),
      );
    });
  });
  return {
    hostPath: link,
    boardPath,
    exited,
    async close() {
      subprocess.kill('SIGTERM');
      await exited;
      await removeStaleLink(board, link).catch(() => {});
      await removeStaleLink(board, boardPath).catch(() => {});
    },
  };
}

/** A link left by an earlier board that died is ours to replace; any other file at that path is not. */
async function removeStaleLink(board: string, link: string): Promise<void> {
  const stat = await lstat(link).catch(() => undefined);
  if (!stat) return;
  const target = stat.isSymbolicLink() ? await readlink(link) : '';
  if (!target.startsWith('/dev/pts/')) {
    throw new BoardError(board, `${link} exists and is not a pseudo-terminal link: choose another --link path`);
  }
  await unlink(link);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.replace(/^.*? E /, '') ?? '';
}
