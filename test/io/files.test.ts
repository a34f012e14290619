import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, InputError, UsageError } from '../../src/errors.js';
import { readInputFile } from '../../src/io/input-files.js';
import { assertWritable, outputPaths, writeFileAtomic } from '../../src/io/output-files.js';

const directory = mkdtempSync(join(tmpdir(), 'tinyedge-files-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
};

describe('readInputFile', () => {
  it('reads .bin as raw elements of the external dtype', async () => {
    const floats = Float32Array.from([1.5, -2]);
    const array = await readInputFile(file('f.bin', new Uint8Array(floats.buffer)), 'float32');
    expect(array).toEqual({ dtype: 'float32', shape: [2], data: floats });
    const bytes = await readInputFile(file('u.bin', Uint8Array.from([0, 200])), 'uint8');
    expect(bytes).toEqual({ dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 200]) });
  });

  it('rejects a .bin that is not whole elements', async () => {
    await expect(readInputFile(file('odd.bin', new Uint8Array(6)), 'float32')).rejects.toThrow(
      /odd\.bin: 6 bytes is not a whole number of float32 elements/,
    );
  });

  it('reads .json flat, nested and {"data"} forms in the external dtype', async () => {
    expect(await readInputFile(file('flat.json', '[1, -2, 3]'), 'int8')).toEqual({ dtype: 'int8', shape: [3], data: Int8Array.from([1, -2, 3]) });
    expect((await readInputFile(file('nested.json', '[[[1], [2]], [[3], [4]]]'), 'uint8')).data).toEqual(Uint8Array.from([1, 2, 3, 4]));
    expect((await readInputFile(file('object.json', '{"data": [[5, 6]]}'), 'int8')).data).toEqual(Int8Array.from([5, 6]));
  });

  it('reads .json floats when they say so', async () => {
    const array = await readInputFile(file('floats.json', '{"dtype": "float32", "data": [0.5, 1e-3]}'), 'int8');
    expect(array).toEqual({ dtype: 'float32', shape: [2], data: Float32Array.from([0.5, 1e-3]) });
  });

  it('rejects .json values outside the dtype, suggesting float32', async () => {
    await expect(readInputFile(file('range.json', '[1, 300]'), 'int8')).rejects.toThrow(
      /range\.json: element 1 \(300\) is not a valid int8 value; give \{"dtype": "float32"/,
    );
    await expect(readInputFile(file('frac.json', '[0.5]'), 'uint8')).rejects.toThrow(/element 0 \(0\.5\) is not a valid uint8 value/);
    await expect(readInputFile(file('text.json', '[1, "a"]'), 'int8')).rejects.toThrow(/element 1 is "a", not a finite number/);
    await expect(readInputFile(file('broken.json', '[1, 2'), 'int8')).rejects.toThrow(/broken\.json: not valid JSON/);
    await expect(readInputFile(file('nodata.json', '{"values": [1]}'), 'int8')).rejects.toThrow(/needs a "data" array/);
  });

  it('names a missing file and an unknown format, as InputErrors', async () => {
    const missing = readInputFile(join(directory, 'nope.npy'), 'int8');
    await expect(missing).rejects.toThrow(InputError);
    await expect(missing).rejects.toThrow(/nope\.npy: no such file/);
    await expect(readInputFile(file('x.png', 'png'), 'int8')).rejects.toThrow(/x\.png: unknown input format '\.png' \(use \.npy, \.bin or \.json\)/);
    await expect(readInputFile(join(directory, 'nope.npy'), 'int8')).rejects.toMatchObject({ exitCode: ExitCode.input });
  });
});

describe('output files', () => {
  it('names the first output as given and the others with an index', () => {
    expect(outputPaths('out/y.npy', 1)).toEqual(['out/y.npy']);
    expect(outputPaths('y.npy', 3)).toEqual(['y.npy', 'y.1.npy', 'y.2.npy']);
  });

  it('writes a new file and leaves no temporary file behind', async () => {
    const target = join(directory, 'new.npy');
    await writeFileAtomic(target, Uint8Array.from([1, 2, 3]), false);
    expect(Array.from(readFileSync(target))).toEqual([1, 2, 3]);
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('never overwrites without force, and does with it', async () => {
    const target = file('old.npy', 'old');
    await expect(assertWritable([join(directory, 'free.npy'), target], false)).rejects.toThrow(UsageError);
    await expect(writeFileAtomic(target, Uint8Array.from([9]), false)).rejects.toThrow(/old\.npy already exists \(use --force/);
    expect(readFileSync(target, 'utf8')).toBe('old');
    await assertWritable([target], true);
    await writeFileAtomic(target, Uint8Array.from([9]), true);
    expect(Array.from(readFileSync(target))).toEqual([9]);
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a missing directory as a usage error', async () => {
    await expect(writeFileAtomic(join(directory, 'no', 'such', 'y.npy'), new Uint8Array(1), false)).rejects.toThrow(/no such directory/);
  });
});
