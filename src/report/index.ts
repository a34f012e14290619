/**
 * The report stage, the last of `tinyedge deploy`: a DeployResult becomes the JSON report (buildReport), the
 * terminal view, the self-contained HTML page, and `tinyedge report` comparisons of several JSON reports.
 */
export { buildReport, median, reportJson } from './build.js';
export { compareReports, comparisonJson, formatComparisonText, type ComparisonTable, type ComparisonEntry } from './compare.js';
export { ReportFileError } from './errors.js';
export { renderReportHtml } from './html.js';
export { loadReport, loadReports, parseReport, type LoadedReport } from './load.js';
export { formatReportText, shouldColor, type TerminalOptions } from './terminal.js';
export { DEPLOY_REPORT_SCHEMA, type DeployReport, type DeployResult, type LatencyUnit } from './types.js';

