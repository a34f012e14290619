/**
 * `tinyedge build MODEL [--target T] -o DIR [--json] [--force]`: the model's C library and the firmware project
 * around it, compiled and linked with arm-none-eabi-gcc into DIR (which appears complete or not at all), with the
 * sizes against the target's memories. Nothing is flashed or run: `tinyedge deploy` does that.
 */
import type { Argv, CommandModule } from 'yargs';
import { assertDirectoryWritable } from '../../deploy/atomic-dir.js';
import { buildForTarget } from '../../deploy/build.js';
import { compileModel } from '../../deploy/compile.js';
import { loadDeployModel } from '../../deploy/model.js';
import { ProgressPrinter } from '../../deploy/progress.js';
import { chooseTarget } from '../../deploy/target.js';
import type { Target } from '../../targets/index.js';
import { formatTable, groupDigits } from '../table.js';

interface BuildArgs {
  model: string;
  target?: string;
  output: string;
  json: boolean;
  force: boolean;
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <model>',
  describe: 'Compile a model and build the firmware for a board into a directory (sizes against its memories)',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('target', { alias: 't', type: 'string', requiresArg: true, describe: "Board: a target name, a .json description, or 'stm32' (default: qemu-stm32f405)" })
      .option('output', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'Directory for the firmware project (Makefile, sources, firmware.elf/.bin/.hex)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the build as JSON on stdout' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing output directory' }) as unknown as Argv<BuildArgs>,
  handler: async (args) => {
    await assertDirectoryWritable(args.output, args.force);
    const progress = new ProgressPrinter(process.stderr);
    try {
      const choice = await chooseTarget(args.target);
      const model = await loadDeployModel(args.model);
      progress.handle({ type: 'model', file: model.file, name: model.graph.name, layers: model.graph.nodes.length, macs: model.cost.macs, sha256: model.sha256 });
      progress.handle({ type: 'target', target: choice.target, how: choice.how, ...(choice.port ? { port: choice.port } : {}) });
      const started = Date.now();
      const compiled = compileModel(model.generated, model.sha256, choice.target);
      progress.handle({
        type: 'compiled',
        prefix: compiled.library.prefix,
        layers: model.graph.nodes.length,
        arenaBytes: compiled.library.plan.arenaBytes,
        weightsBytes: compiled.library.constantBytes,
        ms: Date.now() - started,
      });
      let buildTarget = choice.target.name;
      const built = await buildForTarget(compiled, choice.target, {
        dir: args.output,
        force: args.force,
        fallback: choice.how === 'default',
        onFallback: (target, reason) => {
          buildTarget = target.name;
          progress.handle({ type: 'fallback', target, reason });
        },
        onProgress: (event) => progress.handle({ type: 'build', target: buildTarget, progress: event }),
      });
      progress.handle({ type: 'built', target: built.target, sizes: built.build.sizes, dir: built.build.dir, kept: true, ms: Date.now() - started });
      progress.finish();

      const { sizes } = built.build;
      const document = {
        model: { path: model.file, name: model.graph.name, sha256: model.sha256, macs: model.cost.macs },
        target: targetSummary(built.target),
        ...(built.fallbackReason ? { fallback: { from: choice.target.name, reason: built.fallbackReason } } : {}),
        dir: built.build.dir,
        files: { elf: built.build.elf, bin: built.build.bin, hex: built.build.hex },
        sizes,
        library: {
          prefix: compiled.library.prefix,
          layers: model.graph.nodes.length,
          arenaBytes: compiled.library.plan.arenaBytes,
          weightsBytes: compiled.library.constantBytes,
        },
        toolchain: built.build.toolchain.version,
        ran: false,
        note: notRun(built.target),
      };
      if (args.json) {
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
        return;
      }
      const row = (what: string, used: number, capacity: number) => [what, used, capacity, `${((100 * used) / capacity).toFixed(1)} %`];
      process.stdout.write(
        `built ${model.graph.name} for ${built.target.name} in ${built.build.dir} (firmware.elf, .bin, .hex; \`make\` rebuilds it)\n` +
          `  text ${groupDigits(sizes.text)}  data ${groupDigits(sizes.data)}  bss ${groupDigits(sizes.bss)} bytes; ` +
          `arena ${groupDigits(compiled.library.plan.arenaBytes)}, weights ${groupDigits(compiled.library.constantBytes)}, stack ${groupDigits(sizes.stackBytes)}\n` +
          `${formatTable(['memory', 'used', 'capacity', 'share'], [row('flash', sizes.flashUsed, sizes.flashSize), row('RAM', sizes.ramUsed, sizes.ramSize)])}\n` +
          `${document.note}\n`,
      );
    } finally {
      progress.finish();
    }
  },
};

export function targetSummary(target: Target) {
  return { name: target.name, core: target.core, clockHz: target.clockHz, emulated: target.emulated };
}

function notRun(target: Target): string {
  return target.emulated
    ? `not run: built only (\`tinyedge deploy\` runs it on the virtual ${target.name})`
    : `not run: ${target.name} is a real board; compiled and linked only (\`tinyedge deploy --target ${target.name} --port P\` runs it)`;
}
