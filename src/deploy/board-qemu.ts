/**
 * Virtual boards without a ROM bootloader (the MPS2 machines behind qemu-cortex-m3/m4/m7): QEMU loads the ELF
 * itself, as a debugger would, and the console is QEMU's socket.
 */
import { startQemu, type QemuBoard } from '../agent/qemu.js';
import type { FirmwareBuild } from '../build/firmware.js';
import type { Target } from '../targets/index.js';
import type { Board, BoardEvent, LoadedFirmware } from './board.js';
import { connectDevice, type ExpectedFirmware } from './connect.js';

export async function openQemuBoard(target: Target, options: { onEvent: (event: BoardEvent) => void; timeoutMs?: number }): Promise<Board> {
  const { onEvent } = options;
  let qemu: QemuBoard | undefined;
  let loaded: LoadedFirmware | undefined;
  const description = `virtual ${target.name} (QEMU ${target.qemu?.machine ?? '?'}, firmware loaded by QEMU)`;
  onEvent({ type: 'board', description });

  const stop = async () => {
    const previous = loaded;
    loaded = undefined;
    await previous?.close();
    await qemu?.stop();
    qemu = undefined;
  };

  return {
    target,
    description,
    persistent: false,
    async load(build: FirmwareBuild, expected: ExpectedFirmware): Promise<LoadedFirmware> {
      if (loaded && loaded.build === build && !loaded.stream.destroyed) return loaded;
      await stop();
      const started = await startQemu({ target, elf: build.elf });
      qemu = started;
      // QEMU ending (a lock-up) ends the conversation with its reason, not a time-out.
      void started.exited.then((exit) => {
        if (!started.stream.destroyed) {
          const reason = exit.stderr.split('\n').find((line) => /fatal|error/i.test(line)) ?? `status ${exit.code ?? exit.signal}`;
          started.stream.destroy(new Error(`QEMU exited: ${reason}`));
        }
      });
      onEvent({ type: 'started', how: `QEMU ${target.qemu?.machine} running ${build.elf}` });
      const device = await connectDevice(started.stream, started.port, expected, options.timeoutMs);
      loaded = { ...device, build };
      return loaded;
    },
    close: stop,
  };
}
