/**
 * `tinyedge bench [--models kws,vww,ic,ad,person_detect] [--out DIR] [--json] [--shared DIR]` (`npm run bench`):
 * deploy each bench model to the virtual STM32F405, measure it on its real inputs, and compare with TFLite-Micro +
 * CMSIS-NN. Progress per model on stderr; the table (or with --json the document) on stdout; the document always
 * to DIR/bench.json (default bench-results/). Outputs that are not bit-exact end it with exit code 5, after the
 * results are written (they say which case differs).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  benchJson,
  BENCH_MODEL_IDS,
  DEFAULT_SHARED_DIR,
  formatBenchText,
  modelsDirectory,
  runBench,
  selectModels,
  type BenchDocument,
  type BenchEvent,
} from '../../bench/index.js';
import { ValidationError } from '../../deploy/index.js';
import { ProgressPrinter, type ProgressStream } from '../../deploy/progress.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/output-files.js';

interface BenchArgs {
  models?: string[];
  out: string;
  json: boolean;
  shared: string;
}

export const DEFAULT_BENCH_DIR = 'bench-results';

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Deploy the MLPerf Tiny models and person_detect to the virtual STM32F405; compare with TFLite-Micro + CMSIS-NN',
  builder: (yargs: Argv) =>
    yargs
      .option('models', {
        type: 'string',
        requiresArg: true,
        describe: `Models to run, comma-separated (${BENCH_MODEL_IDS.join(', ')}); default all but hello_world`,
        coerce: (value: string | string[]) => ([] as string[]).concat(value),
      })
      .option('out', { alias: 'o', type: 'string', default: DEFAULT_BENCH_DIR, requiresArg: true, describe: 'Directory for bench.json (the file is replaced on each run)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the JSON document on stdout instead of the table' })
      .option('shared', { type: 'string', default: DEFAULT_SHARED_DIR, requiresArg: true, describe: 'The shared folder holding models/' }) as unknown as Argv<BenchArgs>,
  handler: async (args) => {
    // The cheap mistakes first (unknown model, no models folder), then the output folder, then minutes of work.
    selectModels(args.models);
    modelsDirectory(args.shared);
    const outDir = path.resolve(args.out);
    await makeDirectory(outDir);
    const progress = new BenchProgress(process.stderr);
    let document: BenchDocument;
    try {
      document = await runBench({ ...(args.models ? { models: args.models } : {}), sharedDir: args.shared, onEvent: progress.handle });
    } finally {
      progress.finish();
    }
    const file = path.join(outDir, 'bench.json');
    const json = benchJson(document);
    await writeFileAtomic(file, new TextEncoder().encode(json), true);
    process.stderr.write(`wrote ${file}\n`);
    process.stdout.write(args.json ? json : formatBenchText(document));
    if (!document.summary.bitExact) {
      const failing = document.models.filter((m) => !m.validation.bitExact).map((m) => m.id);
      throw new ValidationError(`bench: the outputs of ${failing.join(', ')} are not bit-exact (\`tinyedge deploy MODEL\` finds the first diverging layer)`);
    }
  },
};

/** Each model's deploy progress as `tinyedge deploy` shows it, under a line naming the model, and its result. */
class BenchProgress {
  /** One printer per model: it remembers what it showed of the flash phases. */
  private deploy: ProgressPrinter;

  constructor(private readonly stream: ProgressStream) {
    this.deploy = new ProgressPrinter(stream);
  }

  readonly handle = (event: BenchEvent): void => {
    if (event.type === 'deploy') return this.deploy.handle(event.event);
    this.deploy.finish();
    if (event.type === 'model') {
      this.deploy = new ProgressPrinter(this.stream);
      const inputs = event.cases.length > 0 ? `cases ${event.cases.join(', ')}` : 'seeded random inputs (no case in cases.json)';
      this.stream.write(`\n[${event.index + 1}/${event.count}] ${event.model.id}: ${event.model.file}, ${inputs}\n`);
      return;
    }
    const { result } = event;
    const verdict = result.validation.bitExact ? 'bit-exact' : 'NOT bit-exact';
    this.stream.write(
      `${'bench'.padEnd(9)} ${result.id}: ${result.instructions.perInference.toLocaleString('en-US')} ${result.instructions.unit}, ` +
        `${result.instructions.perMac.toFixed(2)} per MAC, ${verdict} (${(result.wallMs.total / 1000).toFixed(1)} s)\n`,
    );
  };

  finish(): void {
    this.deploy.finish();
  }
}

async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${dir}: cannot create the directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
