/** Graphs shared by several pass tests. */
import type { Graph } from '../../../src/ir/types.js';
import { IrBuilder, q, samePadding } from './ir-builder.js';

/**
 * Every pattern at once: an explicit pad, a standalone Relu, a shuffle, pruned filters, a no-op requantization, a
 * Transpose round trip, a dead branch.
 */
export function everything(): Graph {
  const b = new IrBuilder('everything', 41);
  const x = b.input('x', [1, 8, 8, 4], q(0.04, 2));
  const padded = b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0]);
  const weights = b.random.int8(8 * 9 * 4, -127, 127);
  weights.fill(0, 0, 9 * 4 * 2); // filters 0 and 1 pruned
  const bias = b.random.int32(8, -2000, 2000);
  bias[0] = 0;
  bias[1] = 0;
  const conv = b.conv(padded, 8, { name: 'conv', kernel: [3, 3], weights, bias, quant: q(0.05, -20) });
  const relu = b.unary('Relu', conv);
  const [n, h, w, c] = b.shapeOf(relu) as [number, number, number, number];
  const shuffled = b.reshape(b.transpose(b.reshape(relu, [n, h, w, 2, c / 2]), [0, 1, 2, 4, 3]), [n, h, w, c]);
  const dw = b.depthwise(shuffled, { name: 'dw', padding: samePadding(1), quant: q(0.06, -128) });
  const same = b.quantize(b.transpose(b.transpose(dw, [0, 3, 1, 2]), [0, 2, 3, 1]), q(0.06, -128));
  b.conv(x, 3, { name: 'dead' });
  b.output(b.conv(same, 5, { name: 'project' }), 'y');
  return b.build();
}
