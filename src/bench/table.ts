/**
 * The bench document as people read it on stdout: what each model measured, the comparison with TFLite-Micro +
 * CMSIS-NN against issue 7's bars, and each model's slowest layers. Pure text, no colour.
 */
import { formatCount, formatPerMac, formatPercent } from '../report/format.js';
import { layerLabels } from '../report/layer-names.js';
import { textTable, type Align } from '../report/text-table.js';
import { caseBitExact, slowestLayers, type BenchDocument, type BenchModelResult, type Comparison } from './document.js';

export const SLOWEST_LAYERS_SHOWN = 5;
const LAYER_NAME_WIDTH = 36;

export function formatBenchText(document: BenchDocument): string {
  const { models, summary, tool } = document;
  const built = [`tinyedge ${tool.version}`, tool.commit, tool.date].filter(Boolean).join(', ');
  const lines = [
    `tinyedge bench: ${models.length} model${models.length === 1 ? '' : 's'} (${built})`,
    'instructions: exact counts under QEMU -icount, the same for the same commit; compile ms is wall time and is not',
    '',
    ...measuredLines(models),
  ];
  const fallbacks = models.filter((m) => m.fallbackReason);
  if (fallbacks.length > 0) lines.push('', ...fallbacks.map((m) => `  ${m.id}: ${m.fallbackReason}`));
  const compared = models.filter((m) => m.comparison);
  if (compared.length > 0) {
    lines.push('', `against TFLite-Micro + CMSIS-NN on the same emulated board (${document.baseline.document}); ratio = ours / theirs`, ...comparisonLines(compared));
  }
  const uncompared = models.filter((m) => !m.comparison);
  if (uncompared.length > 0) lines.push(`  no TFLite-Micro figure for ${uncompared.map((m) => m.id).join(', ')} in ${document.baseline.document}`);
  for (const model of models) lines.push('', ...slowestLines(model));
  lines.push('', summaryLine(document));
  if (!summary.bitExact) lines.push(...mismatchLines(models));
  return `${lines.join('\n')}\n`;
}

function measuredLines(models: readonly BenchModelResult[]): string[] {
  const header = ['model', 'target', 'kernels', 'instructions', 'per MAC', 'arena', '+I/O', 'RAM', 'flash', 'code', 'weights', 'compile', 'outputs'];
  const align: Align[] = ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'];
  const rows = models.map((m) => [
    m.id,
    m.target,
    m.kernels.dsp === 0 ? 'portable' : `dsp ${m.kernels.dsp}/${m.kernels.layers}`,
    formatCount(m.instructions.perInference) + (m.instructions.repeatable ? '' : ' (varies!)'),
    m.instructions.perMac.toFixed(2),
    formatCount(m.memory.arenaBytes),
    formatCount(m.memory.arenaWithIoBytes),
    formatCount(m.memory.ramBytes),
    formatCount(m.memory.flashBytes),
    formatCount(m.memory.codeBytes),
    formatCount(m.memory.weightsBytes),
    `${formatCount(m.compileMs)} ms`,
    m.validation.bitExact ? 'bit-exact' : 'MISMATCH',
  ]);
  return textTable([header, ...rows], align);
}

function comparisonLines(models: readonly BenchModelResult[]): string[] {
  const bars = models[0]!.comparison!;
  const header = [
    'model',
    'instructions',
    'TFLM',
    'ratio',
    `<= ${bars.instructions.bar}`,
    'arena+I/O',
    'TFLM arena',
    'ratio',
    `<= ${bars.arena.bar}`,
    'code',
    'TFLM code',
    'ratio',
    `<= ${bars.code.bar}`,
  ];
  const align: Align[] = ['left', ...Array<Align>(3).fill('right'), 'left', ...Array<Align>(3).fill('right'), 'left', ...Array<Align>(3).fill('right'), 'left'];
  const cells = (c: Comparison) => [formatCount(c.ours), formatCount(c.theirs), `${c.ratio.toFixed(2)}x`, c.met ? 'met' : 'missed'];
  const rows = models.map((m) => [m.id, ...cells(m.comparison!.instructions), ...cells(m.comparison!.arena), ...cells(m.comparison!.code)]);
  return textTable([header, ...rows], align);
}

function slowestLines(model: BenchModelResult): string[] {
  const slowest = slowestLayers(model, SLOWEST_LAYERS_SHOWN);
  const labels = layerLabels(
    slowest.map((l) => l.name),
    LAYER_NAME_WIDTH,
  );
  const header = ['#', 'layer', 'op', 'kernel', 'code B', 'MACs', 'instructions', 'share', 'per MAC'];
  const align: Align[] = ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'];
  const rows = slowest.map((l, i) => [
    String(l.index),
    labels[i]!,
    l.op,
    l.kernel ?? '-',
    formatCount(l.codeBytes),
    formatCount(l.macs),
    formatCount(l.instructions),
    formatPercent(l.share),
    formatPerMac(l.perMac),
  ]);
  return [`${model.id} (${model.name}): the ${slowest.length} slowest of ${model.layers.length} layers`, ...textTable([header, ...rows], align)];
}

function summaryLine(document: BenchDocument): string {
  const { summary, models } = document;
  const cases = models.reduce((n, m) => n + m.validation.cases.length, 0);
  const exact = summary.bitExact
    ? `all ${cases} case${cases === 1 ? '' : 's'} bit-exact (reference interpreter and golden outputs)`
    : 'OUTPUTS DIFFER (see below)';
  const bars = summary.barsMet + summary.barsMissed;
  const barText = bars > 0 ? `; bars met ${summary.barsMet} of ${bars}` : '';
  return `${exact}${barText}; bench wall time ${(summary.wallMs / 1000).toFixed(1)} s`;
}

function mismatchLines(models: readonly BenchModelResult[]): string[] {
  return models.flatMap((m) =>
    m.validation.cases
      .filter((c) => !caseBitExact(c))
      .map((c) => {
        const golden = c.golden ? `, ${c.golden.mismatches} of ${c.golden.compared} differ from the golden outputs` : '';
        return `  ${m.id} case ${c.name}: ${c.reference.mismatches} of ${c.reference.compared} values differ from the reference (max |difference| ${c.reference.maxAbsDiff})${golden}`;
      }),
  );
}
