import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface HelloFirmware {
  elf: string;
  /** objcopy's flat image (gaps 0xFF): an independent ELF-to-binary conversion. */
  bin: string;
}

/** Compiles test/board/fixtures/hello-usart.c for the STM32F405 with the real arm-none-eabi toolchain. */
export async function buildHelloFirmware(outDir: string): Promise<HelloFirmware> {
  const elf = path.join(outDir, 'hello-usart.elf');
  const bin = path.join(outDir, 'hello-usart.bin');
  await execa('arm-none-eabi-gcc', [
    '-mcpu=cortex-m4', '-mthumb', '-Os', '-ffreestanding', '-nostdlib', '-Wall', '-Wextra', '-Werror',
    '-T', path.join(fixtures, 'hello-usart.ld'),
    path.join(fixtures, 'hello-usart.c'),
    '-o', elf,
  ]);
  await execa('arm-none-eabi-objcopy', ['-O', 'binary', '--gap-fill', '0xff', elf, bin]);
  return { elf, bin };
}
