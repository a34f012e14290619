/**
 * The progress of a build or deploy as people read it on stderr: one line per step, a live bar for the flash
 * (redrawn in place on a terminal; a few plain lines when stderr is a file or a pipe, so logs stay readable).
 */
import { formatBytes } from '../build/firmware-fit.js';
import type { DeployEvent } from './events.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 24;
const LABEL_WIDTH = 9;

const count = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const hex32 = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

export class ProgressPrinter {
  /** A line drawn with \r that the next line must first end. */
  private openLine = false;
  private lastPlainQuarter = new Map<string, number>();

  constructor(private readonly stream: ProgressStream) {}

  readonly handle = (event: DeployEvent): void => {
    if (event.type === 'flash') return this.flashBar(event.progress.phase, event.progress.done, event.progress.total);
    if (event.type === 'build' && event.progress.stage === 'compile') {
      const { done, total } = event.progress;
      if (this.stream.isTTY) this.redraw('build', `${event.target}: compiling ${done}/${total}`);
      return;
    }
    const line = describeEvent(event);
    if (line) this.line(line[0], line[1]);
  };

  /** Ends a bar left open (before an error message is printed). */
  finish(): void {
    if (this.openLine) this.stream.write('\n');
    this.openLine = false;
  }

  private line(label: string, text: string): void {
    this.finish();
    this.stream.write(`${label.padEnd(LABEL_WIDTH)} ${text}\n`);
  }

  private redraw(label: string, text: string): void {
    this.stream.write(`\r${label.padEnd(LABEL_WIDTH)} ${text}\u001b[K`);
    this.openLine = true;
  }

  private flashBar(phase: string, done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    if (this.stream.isTTY) {
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
      this.redraw('flash', `${phase.padEnd(6)} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)} %  ${count(done)} / ${count(total)} B`);
      return;
    }
    // Not a terminal: a line at each quarter of each phase.
    const quarter = Math.floor(fraction * 4);
    if ((this.lastPlainQuarter.get(phase) ?? -1) >= quarter) return;
    this.lastPlainQuarter.set(phase, quarter);
    if (quarter === 0) return;
    this.line('flash', `${phase} ${quarter * 25} %  ${count(done)} / ${count(total)} B`);
  }
}

/** The line for an event, as [label, text]; undefined for events shown only as a bar or not at all. */
export function describeEvent(event: DeployEvent): [string, string] | undefined {
  switch (event.type) {
    case 'model':
      return ['model', `${event.name}: ${event.layers} layers, ${count(event.macs)} MACs, sha256 ${event.sha256.slice(0, 16)}`];
    case 'target': {
      const how = event.how === 'default' ? 'the default' : event.how === 'detected' ? `detected on ${event.port}` : 'as named';
      return ['target', `${event.target.name} (${how}; ${event.target.emulated ? 'virtual' : 'real board'}: ${event.target.core} at ${event.target.clockHz / 1e6} MHz)`];
    }
    case 'compiled':
      return ['compile', `library tinyedge_${event.prefix}: ${event.layers} layers, arena ${count(event.arenaBytes)} B, weights ${count(event.weightsBytes)} B (${seconds(event.ms)})`];
    case 'fallback':
      return ['target', event.reason];
    case 'build':
      if (event.progress.stage === 'check') {
        const e = event.progress.estimate;
        return ['build', `${event.target}: fits before linking (flash ~${formatBytes(e.flashNeeded)} of ${formatBytes(e.flashAvailable)}, RAM ~${formatBytes(e.ramNeeded)} of ${formatBytes(e.ramAvailable)})`];
      }
      return undefined;
    case 'built': {
      const s = event.sizes;
      return [
        'build',
        `${event.target.name}${event.kept ? ` in ${event.dir}` : ''}: text ${count(s.text)}, data ${count(s.data)}, bss ${count(s.bss)} B; flash ${count(s.flashUsed)} of ${count(s.flashSize)} B (${percent(s.flashUsed, s.flashSize)}), ` +
          `RAM ${count(s.ramUsed)} of ${count(s.ramSize)} B (${percent(s.ramUsed, s.ramSize)}) (${seconds(event.ms)})`,
      ];
    }
    case 'board':
      return ['board', event.description];
    case 'flashed': {
      const r = event.result;
      return ['flash', `${count(r.bytes)} B at ${hex32(r.address)} with ${r.method} via ${r.via}${r.verified ? ', read back and verified' : ''} (${seconds(r.durationMs)})`];
    }
    case 'log':
      // The bootloader's command-by-command log is for `board serve`; here only what went wrong.
      return /error|exited|fatal|lockup/i.test(event.message) ? ['board', event.message] : undefined;
    case 'started':
      return undefined;
    case 'connected': {
      const h = event.hello;
      return ['device', `firmware ${h.firmwareVersion} on ${h.target}, model ${h.modelName} (${h.modelHash}), core clock ${h.clockHz / 1e6} MHz, timing in ${h.timerUnit}`];
    }
    case 'measuring': {
      const inputs = event.inputs === 'random' ? 'seeded random inputs' : event.inputs === 'files' ? 'the input files' : 'the given inputs';
      return ['run', `${event.warmups} warm-up${event.warmups === 1 ? '' : 's'} + ${event.runs} timed run${event.runs === 1 ? '' : 's'} on ${inputs}`];
    }
    case 'measured': {
      const sorted = [...event.totals].sort((a, b) => a - b);
      const median = sorted[sorted.length >> 1] ?? 0;
      return ['run', `${count(median)} ${event.unit} per inference (${seconds(event.ms)})`];
    }
    case 'validated':
      return event.bitExact
        ? ['validate', `bit-exact: all ${count(event.compared)} output values equal the reference interpreter's`]
        : ['validate', `${count(event.mismatches)} of ${count(event.compared)} output values differ from the reference (max |difference| ${event.maxAbsDiff})`];
    case 'diagnose':
      return ['diagnose', event.message];
    case 'diagnosed':
      return ['diagnose', event.layer ? `first diverging layer: ${event.layer.index} ${event.layer.op} '${event.layer.name}'` : event.note];
  }
}
