/**
 * The `tinyedge` command line. This is the one place where errors become messages and exit codes: a TinyedgeError is
 * the user's problem and prints as one line; anything else is a bug in tinyedge and says so.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { ExitCode, TinyedgeError, UsageError } from '../errors.js';
import { compileCommand } from './commands/compile.js';
import { convertCommand } from './commands/convert.js';
import { quantizeCommand } from './commands/quantize.js';
import { inspectCommand } from './commands/inspect.js';
import { runCommand } from './commands/run.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs the command line `args` (without node and the script) and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const parser = yargs(args)
    .scriptName('tinyedge')
    .usage('$0 <command> [options]')
    // Each command lives in its own module under commands/.
    .command(inspectCommand)
    .command(runCommand)
    .command(compileCommand)
    .command(convertCommand)
    .command(quantizeCommand)
    .command((await import('./commands/deploy.js')).deployCommands)
    .command((await import('./commands/bench.js')).benchCommand)
    .demandCommand(1, 'no command given')
    .strict()
    .version(PACKAGE.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    // yargs reports its own validation failures (unknown option, missing argument) with a message and no error;
    // errors thrown by a command's handler come back here too and are passed on untouched.
    .fail((message: string | undefined, error: Error | undefined) => {
      if (error && error.name !== 'YError') throw error;
      throw new UsageError(`${oneLine(message ?? error?.message ?? 'invalid command line')} (see 'tinyedge --help')`);
    });
  try {
    await parser.parseAsync();
    return ExitCode.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  const debug = process.env.TINYEDGE_DEBUG === '1';
  if (error instanceof TinyedgeError) {
    process.stderr.write(`tinyedge: ${oneLine(error.message)}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tinyedge: internal error: ${oneLine(message)}\n`);
  process.stderr.write(
    debug && error instanceof Error && error.stack
      ? `${error.stack}\n`
      : 'This is a bug in tinyedge: please report it with the command and model (TINYEDGE_DEBUG=1 shows the stack).\n',
  );
  return ExitCode.internal;
}

/** Messages are one line by contract; yargs' own messages can span several. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
