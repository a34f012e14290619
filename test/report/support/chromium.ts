/**
 * A real headless Chromium for the HTML report tests: load a file, get the DOM after its scripts ran and every
 * console message (a script error or a Content-Security-Policy refusal is logged there), or a screenshot.
 *
 * Debian's package: `apt-get install -y chromium`. CHROMIUM=/path overrides the search.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { findProgram, pathDirectories } from '../../../src/build/toolchain-programs.js';

export const INSTALL_CHROMIUM = 'apt-get install -y chromium';

export function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const found = findProgram(name, pathDirectories());
    if (found) return found;
  }
  return undefined;
}

/** Quiet, offline, sandbox-free (containers run as root) and with a throw-away profile. */
function baseArguments(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
  ];
}

async function withProfile<T>(job: (profile: string) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-chromium-'));
  try {
    return await job(profile);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export interface LoadedPage {
  /** The serialized DOM after the page's scripts ran. */
  dom: string;
  /** What the page's console received: script errors, CSP refusals, blocked loads. */
  console: string[];
}

export async function loadPage(chromium: string, file: string): Promise<LoadedPage> {
  return withProfile(async (profile) => {
    const result = await execa(
      chromium,
      [...baseArguments(profile), '--enable-logging=stderr', '--v=0', '--dump-dom', pathToFileURL(file).href],
      { timeout: 60_000 },
    );
    const console = result.stderr.split('\n').filter((line) => line.includes(':CONSOLE'));
    return { dom: result.stdout, console };
  });
}

export async function screenshot(chromium: string, file: string, png: string, size: { width: number; height: number }): Promise<void> {
  await withProfile(async (profile) => {
    await execa(
      chromium,
      [...baseArguments(profile), '--hide-scrollbars', `--window-size=${size.width},${size.height}`, `--screenshot=${png}`, pathToFileURL(file).href],
      { timeout: 60_000 },
    );
  });
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
