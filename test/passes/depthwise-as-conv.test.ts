/**
 * depthwise-as-conv: a DepthwiseConv2D of one input channel becomes the Conv2D with the same filters, outputs equal
 * in the reference on random layers (per-channel scales and weight zero points, int32 outputs, padding, strides,
 * dilation); depthwise layers of several channels stay; person_detect's first layer is the real case.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/frontend/index.js';
import { depthwiseAsConv } from '../../src/passes/depthwise-as-conv.js';
import { mergeLayers, randomLayer } from '../codegen/support/layers.js';
import { checkedPass, opsOf } from './support/check.js';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const PERSON_DETECT = path.join(SHARED, 'models/tflm/person_detect.tflite');

describe('depthwise-as-conv', () => {
  it('turns single-channel depthwise layers into convolutions with the same outputs, and leaves the others', () => {
    let converted = 0;
    let kept = 0;
    for (let seed = 1; converted < 12 || kept < 4; seed++) {
      const layer = randomLayer('depthwise', seed, `l${seed}`);
      const { graph } = mergeLayers(`dw${seed}`, [layer]);
      const single = graph.tensors.get(graph.nodes[0]!.inputs[0]!)!.shape[3] === 1;
      const result = checkedPass(depthwiseAsConv, graph);
      expect(opsOf(result.graph), layer.describe).toEqual([single ? 'Conv2D' : 'DepthwiseConv2D']);
      if (single) {
        converted++;
        const conv = result.graph.nodes[0]!;
        const weights = result.graph.tensors.get(conv.inputs[1]!)!;
        expect(weights.shape[3]).toBe(1);
        expect(weights.quant!.axis).toBe(0);
      } else {
        kept++;
      }
    }
  });

  it.skipIf(!existsSync(PERSON_DETECT))('person_detect: the first layer (1 channel x 8) becomes a convolution', async () => {
    const graph = await loadModel(PERSON_DETECT);
    const result = checkedPass(depthwiseAsConv, graph, { seeds: [1] });
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]).toMatch(/of one input channel x 8 is a Conv2D with 8 filters/);
    expect(opsOf(result.graph).filter((op) => op === 'DepthwiseConv2D')).toHaveLength(opsOf(graph).filter((op) => op === 'DepthwiseConv2D').length - 1);
  });
});
