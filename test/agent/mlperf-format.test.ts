/**
 * The firmware's printf-free number text (templates/firmware/text_format.c) and its 64-bit time since boot
 * (uptime.c), compiled with the host's gcc and driven line by line: the formats are checked against JavaScript's
 * exact decimal conversions, and the timer extension across wraps that would take seconds of emulation to reach.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResultValues } from '../../src/agent/mlperf.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates/firmware');

/** Reads commands from stdin, one per line, and prints one answer line each. */
const DRIVER = String.raw`
#include <stdio.h>
#include <string.h>
#include "text_format.h"
#include "uptime.h"

static uint32_t counter_values[64];
static uint32_t counter_count, counter_next;
static uint32_t fake_counter(void) {
  return counter_values[counter_next < counter_count ? counter_next++ : counter_count - 1];
}

int main(void) {
  char line[512], text[FORMAT_TEXT_BYTES];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    unsigned bits, decimals;
    unsigned long long big;
    if (sscanf(line, "real %x %u", &bits, &decimals) == 2) {
      float value;
      memcpy(&value, &bits, 4);
      const uint32_t length = format_real(text, value, decimals);
      printf("%s %u\n", text, (unsigned)(length == strlen(text)));
    } else if (sscanf(line, "u64 %llu", &big) == 1) {
      format_u64(text, big);
      printf("%s\n", text);
    } else if (strncmp(line, "parse ", 6) == 0) {
      uint32_t value = 0;
      const int ok = parse_u32(line + 6, &value);
      printf("%d %u\n", ok, (unsigned)value);
    } else if (strncmp(line, "uptime ", 7) == 0) {
      /* uptime HZ UNITS_PER_TICK c0 c1 ...: init reads c0, every later value is one uptime_us() */
      unsigned hz, per_tick;
      int used;
      char *p = line + 7;
      sscanf(p, "%u %u%n", &hz, &per_tick, &used);
      p += used;
      counter_count = counter_next = 0;
      unsigned value;
      while (sscanf(p, " %u%n", &value, &used) == 1) {
        counter_values[counter_count++] = value;
        p += used;
      }
      timer_source_t timer = {TIMER_UNIT_INSTRUCTIONS, per_tick, fake_counter};
      uptime_init(&timer, hz);
      for (uint32_t i = 1; i < counter_count; i++) printf("%llu ", (unsigned long long)uptime_us());
      printf("\n");
    }
  }
  return 0;
}
`;

let directory: string;
let driver: string;

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-mlperf-format-'));
  writeFileSync(path.join(directory, 'driver.c'), DRIVER);
  driver = path.join(directory, 'driver');
  await execa('gcc', [
    '-std=gnu11',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${TEMPLATES}`,
    path.join(directory, 'driver.c'),
    path.join(TEMPLATES, 'text_format.c'),
    path.join(TEMPLATES, 'uptime.c'),
    '-o',
    driver,
  ]);
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function ask(commands: string[]): Promise<string[]> {
  const { stdout } = await execa(driver, [], { input: `${commands.join('\n')}\n` });
  return stdout.split('\n'); // execa strips the last newline
}

const bitsOf = (value: number) => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true).toString(16);
};

async function formatReals(values: number[], decimals = 6): Promise<string[]> {
  const lines = await ask(values.map((v) => `real ${bitsOf(v)} ${decimals}`));
  return lines.map((line) => {
    const [text, lengthOk] = line.split(' ');
    expect(lengthOk, line).toBe('1');
    return text!;
  });
}

describe('format_real', () => {
  it('prints fixed-point decimals the runner reads back, with the exact text for exact values', async () => {
    const cases: [number, number, string][] = [
      [0, 6, '0.000000'],
      [1 / 256, 6, '0.003906'],
      [0.5, 6, '0.500000'],
      [-0.5, 6, '-0.500000'],
      [-1e-9, 6, '0.000000'], // rounds to zero: no minus sign
      [-0.0000006, 6, '-0.000001'],
      [0.9999996, 6, '1.000000'], // the carry into the whole part
      [-3, 6, '-3.000000'],
      [12.25, 2, '12.25'],
      [7.5, 0, '8'],
      [16_777_216, 6, '16777216.000000'],
      [123_456_789_012, 3, '123456790528.000'], // the float nearest, exactly
      [NaN, 6, 'nan'],
      [Infinity, 6, 'inf'],
      [-Infinity, 6, '-inf'],
    ];
    const printed = await formatReals(
      cases.map(([v]) => v),
      6,
    );
    const perDecimals = await Promise.all(cases.map(([v, d]) => formatReals([v], d).then((r) => r[0]!)));
    expect(perDecimals).toEqual(cases.map(([, , text]) => text));
    expect(parseResultValues(printed.join(','))).toHaveLength(cases.length);
  });

  it('stays within half a unit of the last place (plus float rounding) over a sweep of magnitudes', async () => {
    const values: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const magnitude = 10 ** ((i % 40) / 4 - 4); // 1e-4 .. 1e6
      values.push(Math.fround((i % 2 ? -1 : 1) * magnitude * (1 + ((i * 7919) % 1000) / 1000)));
    }
    const printed = await formatReals(values, 6);
    printed.forEach((text, i) => {
      expect(text, String(values[i])).toMatch(/^-?\d+\.\d{6}$/);
      // The fraction is scaled in float: at most 2^-24 of 10^6 units off besides the rounding.
      expect(Math.abs(Number(text) - values[i]!), `${values[i]} -> ${text}`).toBeLessThanOrEqual(0.5e-6 + 0.07e-6 + Math.abs(values[i]!) * 1e-15);
    });
  });

  it('writes huge magnitudes with an exponent that Python float() reads', async () => {
    const [text] = await formatReals([3.4e38], 6);
    expect(text).toMatch(/^\d{18}e\d+$/);
    expect(Number(text!.replace('e', 'e+')) / 3.4e38).toBeCloseTo(1, 5);
  });
});

describe('format_u64 and parse_u32', () => {
  it('prints every digit, zeros inside included', async () => {
    const numbers = ['0', '9', '10', '999999999', '1000000000', '1000000001', '4294967296', '18446744073709551615', '10000000000000000000'];
    expect(await ask(numbers.map((n) => `u64 ${n}`))).toEqual(numbers);
  });

  it('parses whole decimal numbers that fit 32 bits and refuses everything else', async () => {
    const inputs = ['0', '42', '4294967295', '4294967296', '99999999999', '', '12a', '-1', '+1', ' 1'];
    expect(await ask(inputs.map((t) => `parse ${t}`))).toEqual([
      '1 0',
      '1 42',
      '1 4294967295',
      '0 0',
      '0 0',
      '0 0',
      '0 0',
      '0 0',
      '0 0',
      '0 0',
    ]);
  });
});

describe('uptime', () => {
  it('extends the 32-bit timer across wraps and converts timer units with the core clock', async () => {
    const wrap = 2 ** 32;
    const [tim2, cmsdk, slow] = await ask([
      // TIM2 in QEMU: 1 tick = 1 instruction, HELLO clock 16 MHz. Two wraps, each seen once.
      `uptime 16000000 1 0 16000000 4294967280 16 4294967295 100`,
      // CMSDK timer in QEMU: 40 instructions per tick, 25 MHz.
      `uptime 25000000 40 0 25 625000`,
      // A clock that is not a whole number of MHz.
      `uptime 1500000 1 0 3 1500000`,
    ]);
    const us = (units: number, hz: number) => Math.floor((units * 1e6) / hz);
    expect(tim2!.trim().split(' ').map(Number)).toEqual([
      us(16_000_000, 16e6),
      us(4294967280, 16e6),
      us(wrap + 16, 16e6),
      us(wrap + 4294967295, 16e6),
      us(2 * wrap + 100, 16e6),
    ]);
    expect(cmsdk!.trim().split(' ').map(Number)).toEqual([us(25 * 40, 25e6), us(625000 * 40, 25e6)]);
    expect(slow!.trim().split(' ').map(Number)).toEqual([2, 1_000_000]);
  });
});
