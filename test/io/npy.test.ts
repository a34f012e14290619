import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { toNumbers, type NdArray } from '../../src/io/ndarray.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';

/** Files written by NumPy 2.4 (np.save / np.lib.format.write_array), base64: the format's independent oracle. */
const NUMPY_FILES = {
  int8_2x3:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfGkxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqA/wABAn8=',
  uint8_v2:
    'k05VTVBZAgB0AAAAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAgP8=',
  float32_be:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/wAAAwBAAAA==',
  float64_scalar:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5Pw==',
  int32_fortran:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAwAAAAEAAAAEAAAAAgAAAAUAAAA=',
};
const numpyFile = (name: keyof typeof NUMPY_FILES) => new Uint8Array(Buffer.from(NUMPY_FILES[name], 'base64'));

describe('decodeNpy reads what NumPy writes', () => {
  it('int8, 2-D, version 1.0', () => {
    const array = decodeNpy(numpyFile('int8_2x3'), 'a.npy');
    expect(array.dtype).toBe('int8');
    expect(array.shape).toEqual([2, 3]);
    expect(toNumbers(array.data)).toEqual([-128, -1, 0, 1, 2, 127]);
  });

  it('uint8, version 2.0 header', () => {
    const array = decodeNpy(numpyFile('uint8_v2'), 'a.npy');
    expect(array).toMatchObject({ dtype: 'uint8', shape: [3] });
    expect(toNumbers(array.data)).toEqual([0, 128, 255]);
  });

  it('big-endian float32', () => {
    const array = decodeNpy(numpyFile('float32_be'), 'a.npy');
    expect(array).toMatchObject({ dtype: 'float32', shape: [2] });
    expect(toNumbers(array.data)).toEqual([1.5, -2.25]);
  });

  it('a float64 scalar becomes one float32', () => {
    const array = decodeNpy(numpyFile('float64_scalar'), 'a.npy');
    expect(array).toMatchObject({ dtype: 'float32', shape: [] });
    expect(toNumbers(array.data)).toEqual([Math.fround(0.1)]);
  });
});

describe('decodeNpy rejects bad files with an InputError naming the file', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['random bytes', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), /bad\.npy: .*magic/],
    ['a truncated header', numpyFile('int8_2x3').subarray(0, 40), /bad\.npy: .*truncated header/],
    ['truncated data', numpyFile('int8_2x3').subarray(0, 130), /bad\.npy: .*needs 6 bytes, the file has 2/],
    ['Fortran order', numpyFile('int32_fortran'), /bad\.npy: .*Fortran/],
  ];
  it.each(cases)('%s', (_, bytes, message) => {
    expect(() => decodeNpy(bytes, 'bad.npy')).toThrow(InputError);
    expect(() => decodeNpy(bytes, 'bad.npy')).toThrow(message);
  });

  it('an unsupported dtype', () => {
    const complex = new TextDecoder('latin1').decode(numpyFile('int8_2x3')).replace("'|i1'", "'<c8'");
    const bytes = Uint8Array.from(complex, (c) => c.charCodeAt(0));
    expect(() => decodeNpy(bytes, 'bad.npy')).toThrow(/unsupported dtype '<c8'/);
  });
});

describe('encodeNpy', () => {
  it('writes byte for byte what NumPy writes', () => {
    const array: NdArray = { dtype: 'int8', shape: [2, 3], data: Int8Array.from([-128, -1, 0, 1, 2, 127]) };
    expect(Buffer.from(encodeNpy(array)).toString('base64')).toBe(NUMPY_FILES.int8_2x3);
  });

  it('aligns the data to 64 bytes', () => {
    for (const shape of [[], [1], [1, 49, 10, 1], [123456789, 0]]) {
      const bytes = encodeNpy({ dtype: 'float32', shape, data: new Float32Array(0) });
      const headerLength = bytes[8]! | (bytes[9]! << 8);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
    }
  });

  const roundTrips: NdArray[] = [
    { dtype: 'int8', shape: [1, 49, 10, 1], data: Int8Array.from({ length: 490 }, (_, i) => (i % 256) - 128) },
    { dtype: 'uint8', shape: [3], data: Uint8Array.from([0, 17, 255]) },
    { dtype: 'int16', shape: [2, 2], data: Int16Array.from([-32768, -1, 1, 32767]) },
    { dtype: 'int32', shape: [2], data: Int32Array.from([-2147483648, 2147483647]) },
    { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 40n), 7n]) },
    { dtype: 'float32', shape: [], data: Float32Array.from([-0.3]) },
    { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
  ];
  it.each(roundTrips)('round trip %s %j', (array) => {
    const back = decodeNpy(encodeNpy(array), 'round.npy');
    expect(back.dtype).toBe(array.dtype);
    expect(back.shape).toEqual(array.shape);
    expect(back.data).toEqual(array.data);
  });

  it('reads a subarray view, not its whole buffer', () => {
    const whole = Int8Array.from([9, 9, 1, 2, 3, 9]);
    const back = decodeNpy(encodeNpy({ dtype: 'int8', shape: [3], data: whole.subarray(2, 5) }), 'view.npy');
    expect(toNumbers(back.data)).toEqual([1, 2, 3]);
  });
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
describe.skipIf(!numpy)('NumPy reads what encodeNpy writes (skipped: python3 with numpy not installed)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tinyedge-npy-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('every dtype, with its shape and values', () => {
    const arrays: NdArray[] = [
      { dtype: 'int8', shape: [2, 3], data: Int8Array.from([-128, -1, 0, 1, 2, 127]) },
      { dtype: 'uint8', shape: [1, 2, 1], data: Uint8Array.from([0, 255]) },
      { dtype: 'int32', shape: [2], data: Int32Array.from([-5, 1 << 30]) },
      { dtype: 'float32', shape: [3], data: Float32Array.from([0.5, -1e-7, 3.25]) },
    ];
    arrays.forEach((array, i) => writeFileSync(join(directory, `${i}.npy`), encodeNpy(array)));
    const script = `import numpy as np, json, sys
out = []
for i in range(${arrays.length}):
    a = np.load(sys.argv[1] + f"/{i}.npy")
    out.append({"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()})
print(json.dumps(out))`;
    const result = spawnSync('python3', ['-c', script, directory], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const loaded = JSON.parse(result.stdout) as { dtype: string; shape: number[]; data: number[] }[];
    expect(loaded.map((a) => a.dtype)).toEqual(['int8', 'uint8', 'int32', 'float32']);
    loaded.forEach((a, i) => {
      expect(a.shape).toEqual(arrays[i]!.shape);
      expect(a.data).toEqual(Array.from(arrays[i]!.data as Float32Array));
    });
  });

  it('our reader agrees with NumPy on a file NumPy writes now', () => {
    const file = join(directory, 'np.npy');
    const result = spawnSync('python3', ['-c', `import numpy as np; np.save("${file}", (np.arange(7, dtype=np.float32) / 4 - 1).reshape(7, 1))`]);
    expect(result.status).toBe(0);
    const array = decodeNpy(new Uint8Array(readFileSync(file)), file);
    expect(array.shape).toEqual([7, 1]);
    expect(toNumbers(array.data)).toEqual(Array.from(Float32Array.from({ length: 7 }, (_, i) => i / 4 - 1)));
  });
});
