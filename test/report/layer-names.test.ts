import { describe, expect, test } from 'vitest';
import { layerLabels } from '../../src/report/layer-names.js';
import { shortenMiddle } from '../../src/report/text-table.js';

describe('layerLabels', () => {
  test('short names stay as they are', () => {
    expect(layerLabels(['conv1', 'Identity'], 20)).toEqual(['conv1', 'Identity']);
  });

  test('a long fused TFLite name shows its first part, where fused names differ', () => {
    const names = [
      'model/act_1/Relu;model/bn_1/FusedBatchNormV3;model/depthwise/BiasAdd/ReadVariableOp/resource1',
      'model/act_3/Relu;model/bn_3/FusedBatchNormV3;model/depthwise_1/BiasAdd/ReadVariableOp/resource1',
    ];
    expect(layerLabels(names, 30)).toEqual(['model/act_1/Relu;…', 'model/act_3/Relu;…']);
  });

  test('fused names sharing their first part, and long plain names, keep their start and end instead', () => {
    const names = ['model/Relu;model/conv_a/Conv2D', 'model/Relu;model/conv_b/Conv2D', 'a_very_long_plain_layer_name_number_7'];
    expect(layerLabels(names, 20)).toEqual(['model/Relu…_a/Conv2D', 'model/Relu…_b/Conv2D', 'a_very_lon…_number_7']);
  });
});

describe('shortenMiddle', () => {
  test('leaves short names alone and cuts long ones to the width', () => {
    expect(shortenMiddle('conv', 10)).toBe('conv');
    expect(shortenMiddle('abcdefghijkl', 7)).toBe('abc…jkl');
    expect([...shortenMiddle('x'.repeat(100), 40)].length).toBe(40);
  });
});
