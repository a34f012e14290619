/**
 * The linker map reader on an excerpt of a real firmware.map (arm-none-eabi-gcc 12.2, a hello_world build): input
 * sections on one line and wrapped over two, alignment fill, archive members, symbol and assignment lines that are
 * not sections, and sections that take only RAM. The bench test checks the same reader on a whole map against the
 * image's flash size.
 */
import { expect, test } from 'vitest';
import { parseLinkerMap, splitFlash, weightsObjectOf } from '../../src/bench/flash-usage.js';

const MAP = `Discarded input sections

 .text          0x00000000        0x0 build/board_io.o
 .data          0x00000000        0x0 build/board_io.o

Linker script and memory map

LOAD build/board_io.o
LOAD build/model/tinyedge_hello_world_int8_weights.o
                0x00001000                        STACK_SIZE = 0x1000

.isr_vector     0x08000000       0x40
 *(.isr_vector)
 .isr_vector    0x08000000       0x40 build/startup.o
                0x08000040                        . = ALIGN (0x4)

.text           0x08000040     0x2eb0
 *(.text .text.*)
 .text.board_console_io_init
                0x08000040       0x4c build/board_io.o
                0x08000040                board_console_io_init
 .text.mlperf_run
                0x08000254       0x10 build/main.o
 *fill*         0x08000264        0x4 
 .text.tinyedge_hello_world_int8_run
                0x08001f54      0x2a4 build/model/tinyedge_hello_world_int8.o
                0x08001f54                tinyedge_hello_world_int8_run
 .text          0x08002228      0x2bc /usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a(_udivmoddi4.o)
 *(.rodata .rodata.*)
 .rodata.te_layer_names
                0x08002d38        0xc build/model/tinyedge_hello_world_int8.o
 .rodata.tinyedge_hello_world_int8_l2_bias
                0x08002d4c        0x4 build/model/tinyedge_hello_world_int8_weights.o
                0x08002d4c                tinyedge_hello_world_int8_l2_bias
 .rodata.tinyedge_hello_world_int8_l1_weights
                0x08002da0      0x100 build/model/tinyedge_hello_world_int8_weights.o
                0x08002da0                tinyedge_hello_world_int8_l1_weights

.ARM.exidx      0x08002ef0        0x8
 *(.ARM.exidx* .gnu.linkonce.armexidx.*)
 .ARM.exidx     0x08002ef0        0x8 /usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a(_udivmoddi4.o)

.stack          0x20000000     0x1000
                0x20000000                        . = ALIGN (0x8)
 *fill*         0x20000000     0x1000 

.data           0x20001000       0x4c load address 0x08002ef8
 *(.data .data.*)
 .data.mlperf_model
                0x20001000       0x44 build/main.o
 .data.core_hz  0x20001044        0x4 build/uptime.o
                0x08002ef8                        _sidata = LOADADDR (.data)

.bss            0x20001050      0x8f8 load address 0x08002f44
 *(.bss .bss.*)
 .bss.model_ok  0x20001050        0x4 build/main.o
 .bss.reply     0x20001060      0x400 build/main.o
`;

test('every input section with its output section, address, size and object; nothing from the discarded list', () => {
  const sections = parseLinkerMap(MAP);
  expect(sections.map((s) => [s.output, s.name, s.size, s.file])).toEqual([
    ['.isr_vector', '.isr_vector', 0x40, 'build/startup.o'],
    ['.text', '.text.board_console_io_init', 0x4c, 'build/board_io.o'],
    ['.text', '.text.mlperf_run', 0x10, 'build/main.o'],
    ['.text', '*fill*', 0x4, '*fill*'],
    ['.text', '.text.tinyedge_hello_world_int8_run', 0x2a4, 'build/model/tinyedge_hello_world_int8.o'],
    ['.text', '.text', 0x2bc, '/usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a(_udivmoddi4.o)'],
    ['.text', '.rodata.te_layer_names', 0xc, 'build/model/tinyedge_hello_world_int8.o'],
    ['.text', '.rodata.tinyedge_hello_world_int8_l2_bias', 0x4, 'build/model/tinyedge_hello_world_int8_weights.o'],
    ['.text', '.rodata.tinyedge_hello_world_int8_l1_weights', 0x100, 'build/model/tinyedge_hello_world_int8_weights.o'],
    ['.ARM.exidx', '.ARM.exidx', 0x8, '/usr/lib/gcc/arm-none-eabi/12.2.1/thumb/v7e-m+fp/hard/libgcc.a(_udivmoddi4.o)'],
    ['.stack', '*fill*', 0x1000, '*fill*'],
    ['.data', '.data.mlperf_model', 0x44, 'build/main.o'],
    ['.data', '.data.core_hz', 0x4, 'build/uptime.o'],
    ['.bss', '.bss.model_ok', 0x4, 'build/main.o'],
    ['.bss', '.bss.reply', 0x400, 'build/main.o'],
  ]);
  expect(sections[1]!.address).toBe(0x08000040);
});

test('the flash split of the sections that are loaded: weights, model code, harness, C runtime, vectors, padding', () => {
  const loaded = new Set(['.isr_vector', '.text', '.ARM.exidx', '.data']);
  const sections = parseLinkerMap(MAP).filter((s) => loaded.has(s.output));
  const usage = splitFlash(sections, weightsObjectOf('hello_world_int8'), 0x40 + 0x4c + 0x10 + 0x4 + 0x2a4 + 0x2bc + 0xc + 0x4 + 0x100 + 0x8 + 0x44 + 0x4 + 6);
  expect(usage).toEqual({
    total: usage.total,
    weights: 0x4 + 0x100,
    modelCode: 0x2a4 + 0xc,
    harness: 0x4c + 0x10 + 0x44 + 0x4,
    cRuntime: 0x2bc + 0x8,
    vectors: 0x40,
    // the fill line, and the 6 bytes of the total the map does not place
    padding: 0x4 + 6,
  });
});

test('a map without its memory map part is refused', () => {
  expect(() => parseLinkerMap('Archive member included to satisfy reference by file (symbol)\n')).toThrow(/not a GNU ld map file/);
});

test('code per function: the model library\'s function sections only, clones under their origin\'s name', async () => {
  const { functionSizes, layerCodeBytes } = await import('../../src/bench/flash-usage.js');
  const sections = [
    { output: '.text', name: '.text.te_fc_s8_dsp_l3', address: 0, size: 40, file: 'build/model/tinyedge_ad.o' },
    { output: '.text', name: '.text.te_fc_s8_dsp_l3_rows.constprop.0', address: 40, size: 200, file: 'build/model/tinyedge_ad.o' },
    { output: '.text', name: '.text.te_fc_s8_dsp_l30', address: 240, size: 16, file: 'build/model/tinyedge_ad.o' },
    { output: '.text', name: '.text.te_fc_shared_fast', address: 256, size: 300, file: 'build/model/tinyedge_ad.o' },
    { output: '.text', name: '.text.main', address: 556, size: 90, file: 'build/main.o' },
    { output: '.rodata', name: '.rodata.te_layer_names', address: 646, size: 12, file: 'build/model/tinyedge_ad.o' },
  ];
  const functions = functionSizes(sections);
  expect(functions).toEqual([
    { function: 'te_fc_shared_fast', bytes: 300 },
    { function: 'te_fc_s8_dsp_l3_rows', bytes: 200 },
    { function: 'te_fc_s8_dsp_l3', bytes: 40 },
    { function: 'te_fc_s8_dsp_l30', bytes: 16 },
  ]);
  expect(layerCodeBytes(functions, 'te_fc_s8_dsp_l3')).toBe(240);
  expect(layerCodeBytes(functions, null)).toBe(0);
});
