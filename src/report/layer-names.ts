/**
 * Layer names short enough for a table row or a chart label. TFLite names a fused layer after every op folded into
 * it, joined by ';' ("functional_1/activation_1/Relu;functional_1/batch_normalization_1/...;...depthwise"), and
 * such names differ from each other in the first part while sharing long tails. So a long fused name is shown by its
 * first part; any other long name keeps its start and end. Labels stay distinct wherever the names allow.
 */
import { displayWidth, shortenMiddle } from './text-table.js';

export function layerLabels(names: readonly string[], maxWidth: number): string[] {
  const labels = names.map((name) => fusedLabel(name, maxWidth) ?? shortenMiddle(name, maxWidth));
  const uses = new Map<string, number>();
  for (const label of labels) uses.set(label, (uses.get(label) ?? 0) + 1);
  // A first part shared by several fused names says nothing: those fall back to start-and-end.
  return labels.map((label, i) => (uses.get(label)! > 1 ? shortenMiddle(names[i]!, maxWidth) : label));
}

function fusedLabel(name: string, maxWidth: number): string | undefined {
  if (displayWidth(name) <= maxWidth || !name.includes(';')) return undefined;
  const first = name.slice(0, name.indexOf(';'));
  return displayWidth(first) + 2 <= maxWidth ? `${first};…` : undefined;
}
