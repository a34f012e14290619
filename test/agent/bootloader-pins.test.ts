/**
 * DTR/RTS entry sequences for boards wired to reset into the ROM bootloader. No such board here: the order of
 * line changes is checked on a recorder; what a port without modem lines does (a real pty) is in
 * test/board/virtual-stm32.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { resetIntoApplication, resetIntoBootloader } from '../../src/agent/bootloader/boot-pins.js';
import { BootloaderError } from '../../src/agent/bootloader/errors.js';

function recorder() {
  const calls: { dtr?: boolean; rts?: boolean }[] = [];
  return {
    calls,
    set(options: { dtr?: boolean; rts?: boolean }, callback?: (error: Error | null) => void) {
      calls.push(options);
      callback?.(null);
    },
  };
}

describe('boot pins', () => {
  test('into the bootloader: BOOT0 asserted across a reset pulse; into the application: BOOT0 released', async () => {
    const lines = recorder();
    await resetIntoBootloader('/dev/ttyUSB0', lines, { reset: 'dtr', boot0: 'rts' });
    expect(lines.calls).toEqual([
      { rts: true, dtr: true },
      { rts: true, dtr: false },
    ]);
    lines.calls.length = 0;
    await resetIntoApplication('/dev/ttyUSB0', lines, { reset: 'dtr', boot0: 'rts' });
    expect(lines.calls).toEqual([
      { rts: false, dtr: true },
      { rts: false, dtr: false },
    ]);
  });

  test('reset only (BOOT0 on a jumper), wired to RTS', async () => {
    const lines = recorder();
    await resetIntoBootloader('/dev/ttyUSB0', lines, { reset: 'rts' });
    expect(lines.calls).toEqual([{ rts: true }, { rts: false }]);
  });

  test('a stream without modem lines (a socket) is a clear error', async () => {
    await expect(resetIntoBootloader('qemu.sock', {}, { reset: 'dtr', boot0: 'rts' })).rejects.toThrow(
      new BootloaderError('qemu.sock', 'reset', 'this port has no modem lines (DTR/RTS) to drive NRST/BOOT0'),
    );
  });
});
