/**
 * `tinyedge board serve [--target qemu-stm32f405] --link PATH`: a virtual STM32 at PATH that any AN3155 client
 * (`tinyedge flash`, `tinyedge deploy --port`, stm32flash -m 8n1) flashes through its ROM bootloader and whose
 * firmware then talks on the same serial device. Runs until SIGINT or SIGTERM; one log line per event on stderr.
 */
import type { Argv, CommandModule } from 'yargs';
import { describeBoardEvent, serveVirtualBoard } from '../../board/virtual-stm32.js';
import { DEFAULT_TARGET } from '../../targets/index.js';

interface ServeArgs {
  target: string;
  link: string;
}

const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve a virtual STM32 in its ROM bootloader on a serial device until interrupted',
  builder: (yargs: Argv) =>
    yargs
      .option('target', { alias: 't', type: 'string', default: DEFAULT_TARGET, requiresArg: true, describe: 'An emulated STM32 target' })
      .option('link', { type: 'string', demandOption: true, requiresArg: true, describe: 'Path of the serial device to create (a symlink to a pty)' }) as unknown as Argv<ServeArgs>,
  handler: async (args) => {
    const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
    const board = await serveVirtualBoard({
      target: args.target,
      link: args.link,
      onEvent: (event) => {
        const line = describeBoardEvent(event);
        if (line) log(line);
      },
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log(`${signal}: stopping`);
    await board.close();
    log(`${args.link} closed`);
  },
};

export const boardCommand: CommandModule = {
  command: 'board',
  describe: 'Virtual boards: `board serve` plays an STM32 in its ROM bootloader on a serial device',
  builder: (yargs: Argv) => yargs.command(serveCommand).demandCommand(1, 'board: name an action (serve)'),
  handler: () => {},
};
