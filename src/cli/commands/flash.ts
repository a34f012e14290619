/**
 * `tinyedge flash FIRMWARE [--target T] [--port P] [--method M] [--json]`: writes a firmware image (.elf or .bin)
 * into a board's flash, reads it back to verify, and starts it; a progress bar on stderr.
 */
import type { Argv, CommandModule } from 'yargs';
import { flashFirmware, type FlashResult } from '../../agent/flash/index.js';
import { defaultFlashMethod } from '../../deploy/board-serial.js';
import { ProgressPrinter } from '../../deploy/progress.js';
import { chooseTarget } from '../../deploy/target.js';
import { UsageError } from '../../errors.js';

interface FlashArgs {
  firmware: string;
  target?: string;
  port?: string;
  method?: string;
  verify: boolean;
  json: boolean;
}

export const flashCommand: CommandModule<object, FlashArgs> = {
  command: 'flash <firmware>',
  describe: 'Write a firmware image (.elf or .bin) into a board, verify it and start it',
  builder: (yargs: Argv) =>
    yargs
      .positional('firmware', { type: 'string', demandOption: true, describe: 'firmware.elf or firmware.bin (from tinyedge build)' })
      .option('target', { alias: 't', type: 'string', requiresArg: true, describe: "The board's target, or 'stm32' for the connected ST board (default: qemu-stm32f405)" })
      .option('port', { alias: 'p', type: 'string', requiresArg: true, describe: 'Serial port (uart-bootloader) or ST-LINK drive (mass-storage)' })
      .option('method', { alias: 'm', type: 'string', requiresArg: true, describe: 'uart-bootloader, mass-storage, st-flash, openocd, stm32-programmer or pyocd (default: the first the target lists that is available)' })
      .option('verify', { type: 'boolean', default: true, describe: 'Read back and compare (--no-verify skips it)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout' }) as unknown as Argv<FlashArgs>,
  handler: async (args) => {
    const choice = await chooseTarget(args.target);
    const target = choice.target;
    const port = args.port ?? choice.port;
    if (target.emulated && port === undefined) {
      throw new UsageError(`${target.name} is a virtual board: serve one with \`tinyedge board serve --target ${target.name} --link PATH\` and flash it with --port PATH`);
    }
    const method = args.method ?? defaultFlashMethod(target);
    const progress = new ProgressPrinter(process.stderr);
    let result: FlashResult;
    try {
      result = await flashFirmware({
        image: args.firmware,
        target,
        method,
        ...(port !== undefined ? { port } : {}),
        verify: args.verify,
        onProgress: (p) => progress.handle({ type: 'flash', progress: p }),
      });
    } finally {
      progress.finish();
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ image: args.firmware, target: target.name, ...result })}\n`);
      return;
    }
    const address = `0x${result.address.toString(16).padStart(8, '0')}`;
    process.stdout.write(
      `flashed ${result.bytes.toLocaleString('en-US')} bytes of ${args.firmware} at ${address} on ${target.name} with ${result.method} via ${result.via}` +
        `${result.verified ? ', read back and verified' : ''} (${(result.durationMs / 1000).toFixed(1)} s)\n`,
    );
  },
};
