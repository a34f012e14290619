/**
 * `tinyedge report A.json [B.json ...] [--json] [--html FILE]`: one deploy report as the terminal table, or several
 * side by side (boards, commits, models) with each latency as a ratio to the first's.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/output-files.js';
import {
  compareReports,
  comparisonJson,
  formatComparisonText,
  formatReportText,
  loadReports,
  renderReportHtml,
  reportJson,
  shouldColor,
} from '../../report/index.js';

interface ReportArgs {
  reports: string[];
  json: boolean;
  html?: string;
  force: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <reports..>',
  describe: 'Show a deploy report (JSON from deploy --report), or compare several side by side',
  builder: (yargs: Argv) =>
    yargs
      .positional('reports', { type: 'string', array: true, demandOption: true, describe: 'Deploy reports (.json)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON on stdout (the report, or the comparison)' })
      .option('html', { type: 'string', requiresArg: true, describe: 'Write the HTML page of a single report to this file' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing --html file' }) as unknown as Argv<ReportArgs>,
  handler: async (args) => {
    const loaded = await loadReports(args.reports);
    if (args.html !== undefined) {
      if (loaded.length !== 1) throw new UsageError(`--html renders one report; ${loaded.length} were given`);
      await writeFileAtomic(args.html, new TextEncoder().encode(renderReportHtml(loaded[0]!.report)), args.force);
      process.stderr.write(`wrote ${args.html}\n`);
    }
    const color = shouldColor(process.stdout);
    if (loaded.length === 1) {
      const { report } = loaded[0]!;
      process.stdout.write(args.json ? reportJson(report) : `${formatReportText(report, { color })}\n`);
      return;
    }
    const table = compareReports(
      loaded.map((l) => l.report),
      loaded.map((l) => l.file),
    );
    process.stdout.write(args.json ? comparisonJson(table) : `${formatComparisonText(table, { color })}\n`);
  },
};
