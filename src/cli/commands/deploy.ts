/**
 * `tinyedge deploy MODEL [--target T] [--port P] [--method M] [--input FILE ...] [--runs N] [--warmups N]
 *  [--report FILE.json] [--html FILE] [--json] [--keep DIR] [--force]`: compile, build, flash, run, validate and
 * report, with progress on stderr. The report goes to stdout (a table, or JSON with --json) and to the files asked
 * for, all written only once the whole deploy has succeeded: a fault leaves nothing that looks like a result.
 *
 * This module also gathers the deploy owner's commands for main.ts: build, flash, deploy, board, ports, report.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { deploy, validationFailure, DEFAULT_RUNS, DEFAULT_WARMUPS, type DeployOutcome } from '../../deploy/index.js';
import { assertDirectoryWritable } from '../../deploy/atomic-dir.js';
import { ProgressPrinter } from '../../deploy/progress.js';
import { assertWritable, writeFileAtomic } from '../../io/output-files.js';
import { formatReportText, renderReportHtml, reportJson, shouldColor } from '../../report/index.js';
import { boardCommand } from './board.js';
import { buildCommand } from './build.js';
import { flashCommand } from './flash.js';
import { portsCommand } from './ports.js';
import { reportCommand } from './report.js';

interface DeployArgs {
  model: string;
  target?: string;
  port?: string;
  method?: string;
  input?: string[];
  runs: number;
  warmups: number;
  report?: string;
  html?: string;
  json: boolean;
  keep?: string;
  optimize: boolean;
  force: boolean;
}

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy <model>',
  describe: 'Compile, build, flash, run and validate a model on a board (default: the virtual STM32F405), and report',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('target', {
        alias: 't',
        type: 'string',
        requiresArg: true,
        describe: "Board: a target name, a .json description, or 'stm32' for the connected ST board (default: qemu-stm32f405)",
      })
      .option('port', { alias: 'p', type: 'string', requiresArg: true, describe: 'Serial port of the board (real, or one `tinyedge board serve` serves)' })
      .option('method', { alias: 'm', type: 'string', requiresArg: true, describe: 'Flash method (uart-bootloader, mass-storage, st-flash, openocd, stm32-programmer, pyocd)' })
      .option('input', {
        alias: 'i',
        type: 'string',
        requiresArg: true,
        describe: 'Input file (.npy, .bin or .json), one per model input; default: seeded random inputs',
        coerce: (value: string | string[]) => ([] as string[]).concat(value),
      })
      .option('runs', { type: 'number', default: DEFAULT_RUNS, requiresArg: true, describe: 'Timed runs' })
      .option('warmups', { type: 'number', default: DEFAULT_WARMUPS, requiresArg: true, describe: 'Untimed runs before them' })
      .option('report', { type: 'string', requiresArg: true, describe: 'Write the JSON report to this file' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Write the HTML report (per-layer chart, memory) to this file' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the JSON report on stdout instead of the table' })
      .option('keep', { type: 'string', requiresArg: true, describe: 'Keep the firmware project (Makefile, sources, ELF) in this directory' })
      .option('optimize', { type: 'boolean', default: true, describe: 'Run the optimization passes first (--no-optimize: deploy the graph as imported)' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite existing --report/--html files and --keep directory' }) as unknown as Argv<DeployArgs>,
  handler: async (args) => {
    if (!Number.isInteger(args.runs) || args.runs < 1) throw new UsageError(`--runs ${args.runs}: must be a whole number, at least 1`);
    if (!Number.isInteger(args.warmups) || args.warmups < 0) throw new UsageError(`--warmups ${args.warmups}: must be a whole number, at least 0`);
    const files = [args.report, args.html].filter((f): f is string => f !== undefined);
    if (args.report !== undefined && args.report === args.html) throw new UsageError(`--report and --html name the same file ${args.report}`);
    // Checked first, so a deploy is not wasted on files that cannot be written.
    await assertWritable(files, args.force);
    if (args.keep !== undefined) await assertDirectoryWritable(args.keep, args.force);

    const progress = new ProgressPrinter(process.stderr);
    let outcome: DeployOutcome;
    try {
      outcome = await deploy({
        model: args.model,
        ...(args.target !== undefined ? { target: args.target } : {}),
        ...(args.port !== undefined ? { port: args.port } : {}),
        ...(args.method !== undefined ? { method: args.method } : {}),
        ...(args.input ? { inputFiles: args.input } : {}),
        runs: args.runs,
        warmups: args.warmups,
        ...(args.keep !== undefined ? { keepDir: args.keep } : {}),
        force: args.force,
        optimize: args.optimize,
        onEvent: progress.handle,
      });
    } finally {
      progress.finish();
    }

    const { report } = outcome;
    if (args.report !== undefined) {
      await writeFileAtomic(args.report, new TextEncoder().encode(reportJson(report)), args.force);
      process.stderr.write(`wrote ${args.report}\n`);
    }
    if (args.html !== undefined) {
      await writeFileAtomic(args.html, new TextEncoder().encode(renderReportHtml(report)), args.force);
      process.stderr.write(`wrote ${args.html}\n`);
    }
    if (outcome.buildDir) process.stderr.write(`kept the firmware project in ${outcome.buildDir}\n`);
    process.stdout.write(args.json ? reportJson(report) : `${formatReportText(report, { color: shouldColor(process.stdout) })}\n`);
    if (!outcome.validation.bitExact) throw validationFailure(args.model, outcome);
  },
};

/** Everything the deploy owner adds to the command line, registered by main.ts in one line. */
export const deployCommands = [buildCommand, flashCommand, deployCommand, boardCommand, portsCommand, reportCommand] as CommandModule[];
