/**
 * Runs a generated library on an emulated Cortex-M (QEMU) with the semihosting test harness in ./semihost: the
 * inputs are compiled into the image, the program runs the model once, writes every output to a host file through
 * semihosting and exits. No console protocol, no size limit on the number of inputs and outputs: one image checks
 * a whole batch of random layers.
 *
 *   library files + harness.c (inputs as constants) -> arm-none-eabi-gcc for the target's core -> qemu-system-arm
 *   -semihosting -> outputs file -> typed arrays
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import Handlebars from 'handlebars';
import { architectureFlags } from '../../../src/build/firmware-flags.js';
import { libraryFileNames, type GeneratedLibrary } from '../../../src/codegen/index.js';
import { dtypeBytes, elementCount, tensorOf } from '../../../src/ir/graph.js';
import type { DataType, Graph, TensorData } from '../../../src/ir/types.js';
import { loadTarget, mainFlash, mainRam, type Target } from '../../../src/targets/index.js';
import { typedFromBytes } from '../../../src/ir/graph.js';

const HARNESS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'semihost');
const STACK_BYTES = 8192;

export interface EmulatorRun {
  outputs: TensorData[];
  /** Bytes of the model's code (.text of the model object, without weights): what the kernels cost in flash. */
  modelCodeBytes: number;
}

function render(file: string, view: object): string {
  return Handlebars.compile(readFileSync(path.join(HARNESS_DIR, file), 'utf8'), { noEscape: true, strict: true })(view);
}

function byteList(data: TensorData): string {
  const bytes = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 24) lines.push(`    ${Array.from(bytes.subarray(i, i + 24)).join(', ')},`);
  return lines.join('\n');
}


const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** Builds `library` with the harness for `targetName` and runs it once on `inputs` (graph.inputs order). */
export async function runOnEmulator(
  graph: Graph,
  library: Pick<GeneratedLibrary, 'prefix' | 'files'>,
  inputs: TensorData[],
  targetName = 'qemu-stm32f405',
): Promise<EmulatorRun> {
  const target: Target = loadTarget(targetName);
  if (!target.qemu) throw new Error(`${targetName} is not an emulated target`);
  const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-semihost-'));
  try {
    const names = libraryFileNames(library.prefix);
    for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
    const outputFile = path.join(dir, 'outputs.bin');
    const outputSpecs = graph.outputs.map((io) => {
      const tensor = tensorOf(graph, io.tensor);
      return { dtype: tensor.dtype, bytes: elementCount(tensor.shape) * dtypeBytes(tensor.dtype) };
    });
    await writeFile(
      path.join(dir, 'harness.c'),
      render('harness.c.hbs', {
        prefix: `tinyedge_${library.prefix}`,
        header: names.header,
        outputFile,
        inputs: inputs.map((data, index) => ({ index, bytes: Math.max(1, data.byteLength), values: byteList(data) || '    0,' })),
        outputs: outputSpecs.map((spec, index) => ({ index, bytes: spec.bytes })),
        inputStorage: inputs.length + 1,
        outputStorage: outputSpecs.length + 1,
      }),
    );
    const flash = mainFlash(target);
    const ram = mainRam(target);
    await writeFile(
      path.join(dir, 'link.ld'),
      render('link.ld.hbs', { targetName, flash: { name: flash.name, origin: hex(flash.origin), size: flash.size }, ram: { name: ram.name, origin: hex(ram.origin), size: ram.size }, stackBytes: STACK_BYTES }),
    );
    const cflags = [...architectureFlags(target), '-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-ffunction-sections', '-fdata-sections', '-I', dir, '-I', HARNESS_DIR];
    const sources = [names.model, names.weights, 'harness.c', path.join(HARNESS_DIR, 'startup.c'), path.join(HARNESS_DIR, 'semihost.c')];
    const objects: string[] = [];
    for (const source of sources) {
      const object = path.join(dir, `${path.basename(source, '.c')}.o`);
      const compiled = await execa('arm-none-eabi-gcc', [...cflags, '-c', source, '-o', object], { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } });
      if (compiled.exitCode !== 0) throw new Error(`arm-none-eabi-gcc failed on ${source} (in ${dir}):\n${compiled.all}`);
      objects.push(object);
    }
    const elf = path.join(dir, 'harness.elf');
    const linked = await execa(
      'arm-none-eabi-gcc',
      [...architectureFlags(target), ...objects, '-T', 'link.ld', '-nostartfiles', '--specs=nano.specs', '--specs=nosys.specs', '-Wl,--gc-sections', '-o', elf],
      { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } },
    );
    if (linked.exitCode !== 0) throw new Error(`linking the semihosting harness failed (in ${dir}):\n${linked.all}`);
    const size = await execa('arm-none-eabi-size', [path.join(dir, `${path.basename(names.model, '.c')}.o`)]);
    const modelCodeBytes = Number(size.stdout.split('\n')[1]!.trim().split(/\s+/)[0]);

    const qemu = await execa(
      'qemu-system-arm',
      [
        '-M', target.qemu.machine,
        ...(target.qemu.cpu ? ['-cpu', target.qemu.cpu] : []),
        '-nographic', '-monitor', 'none', '-serial', 'null', '-no-reboot',
        '-semihosting-config', 'enable=on,target=native',
        '-kernel', elf,
      ],
      { cwd: dir, reject: false, all: true, timeout: 120_000 },
    );
    if (qemu.exitCode !== 0) {
      const why = qemu.exitCode === 99 ? 'the program faulted' : `QEMU exited with ${qemu.exitCode ?? qemu.signal}`;
      throw new Error(`${targetName}: ${why} (in ${dir}):\n${qemu.all}`);
    }
    const bytes = await readFile(outputFile);
    const expectedBytes = outputSpecs.reduce((sum, s) => sum + s.bytes, 0);
    if (bytes.length !== expectedBytes) throw new Error(`the harness wrote ${bytes.length} output bytes, expected ${expectedBytes}`);
    let offset = 0;
    const outputs = outputSpecs.map((spec) => {
      const data = typedFromBytes(spec.dtype, bytes.subarray(offset, offset + spec.bytes));
      offset += spec.bytes;
      return data;
    });
    return { outputs, modelCodeBytes };
  } finally {
    if (!process.env.TINYEDGE_KEEP_SEMIHOST) await rm(dir, { recursive: true, force: true });
  }
}
