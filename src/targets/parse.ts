/**
 * Turns a target description (JSON as written in targets/*.json) into a checked Target: every field is present and
 * of the right kind, hex strings and "512K" sizes become numbers, memories do not overlap, and the clock numbers the
 * description claims follow from its PLL settings. Any problem is a UsageError naming the file and the field.
 */
import { UsageError } from '../errors.js';
import { apb1TimerHz, pllOutputHz } from './clock.js';
import {
  CLOCK_FAMILIES,
  CONSOLE_KINDS,
  CORES,
  FPUS,
  TIMER_KINDS,
  type ClockSetup,
  type ConsolePin,
  type ConsoleUart,
  type MemoryRegion,
  type RegisterBits,
  type Target,
  type Timer,
  type TimerSource,
} from './types.js';

type Json = Record<string, unknown>;

class Fields {
  constructor(
    private readonly file: string,
    private readonly path: string,
    private readonly value: Json,
  ) {}

  fail(field: string, problem: string): never {
    throw new UsageError(`${this.file}: ${this.path}${field}: ${problem}`);
  }

  has(field: string): boolean {
    return this.value[field] !== undefined;
  }

  string(field: string): string {
    const v = this.value[field];
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'expected a non-empty string');
    return v;
  }

  optionalString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  boolean(field: string): boolean {
    const v = this.value[field];
    if (typeof v !== 'boolean') this.fail(field, 'expected true or false');
    return v;
  }

  nonNegativeInteger(field: string): number {
    const v = this.value[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, 'expected a non-negative integer');
    return v;
  }

  positiveInteger(field: string): number {
    const v = this.value[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) this.fail(field, 'expected a positive integer');
    return v;
  }

  /** "0x40004400" or a number: hex in JSON is a string. */
  address(field: string): number {
    const v = this.value[field];
    const n = typeof v === 'string' && /^0x[0-9a-f]{1,8}$/i.test(v) ? Number.parseInt(v, 16) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      this.fail(field, `expected a 32-bit address such as "0x08000000", got ${JSON.stringify(v)}`);
    }
    return n;
  }

  /** 131072, "128K" or "1M". */
  size(field: string): number {
    const v = this.value[field];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    const m = typeof v === 'string' ? /^(\d+)([KM]?)$/.exec(v) : null;
    if (!m) this.fail(field, `expected a size such as 131072, "128K" or "1M", got ${JSON.stringify(v)}`);
    return Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1024 * 1024 : 1);
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.value[field];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(field, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  object(field: string): Fields {
    const v = this.value[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'expected an object');
    return new Fields(this.file, `${this.path}${field}.`, v as Json);
  }

  list(field: string): Fields[] {
    const v = this.value[field];
    if (!Array.isArray(v)) this.fail(field, 'expected a list');
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null) this.fail(`${field}[${i}]`, 'expected an object');
      return new Fields(this.file, `${this.path}${field}[${i}].`, item as Json);
    });
  }

  strings(field: string): string[] {
    const v = this.value[field];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) this.fail(field, 'expected a list of strings');
    return v as string[];
  }
}

function registerBits(f: Fields): RegisterBits {
  return { register: f.string('register'), address: f.address('address'), mask: f.address('mask') };
}

function memoryRegion(f: Fields): MemoryRegion {
  const name = f.string('name');
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) f.fail('name', 'expected an upper-case linker region name such as RAM');
  const region: MemoryRegion = {
    name,
    kind: f.oneOf('kind', ['flash', 'ram'] as const),
    origin: f.address('origin'),
    size: f.size('size'),
  };
  if (region.origin + region.size > 0x1_0000_0000) f.fail('size', 'region ends past the 4 GB address space');
  const note = f.optionalString('note');
  return note ? { ...region, note } : region;
}

function clockSetup(f: Fields): ClockSetup {
  const family = f.oneOf('family', CLOCK_FAMILIES);
  const resetClockHz = f.positiveInteger('resetClockHz');
  if (family === 'fixed') return { family, resetClockHz, ahbDivider: 1, apb1Divider: 1, apb2Divider: 1 };
  const pll = f.object('pll');
  const optional = (name: string) => (pll.has(name) ? pll.positiveInteger(name) : undefined);
  const clock: ClockSetup = {
    family,
    resetClockHz,
    source: f.oneOf('source', ['hsi'] as const),
    sourceHz: f.positiveInteger('sourceHz'),
    pll: { m: pll.positiveInteger('m'), n: pll.positiveInteger('n'), p: optional('p'), q: optional('q'), r: optional('r') },
    ahbDivider: f.positiveInteger('ahbDivider'),
    apb1Divider: f.positiveInteger('apb1Divider'),
    apb2Divider: f.positiveInteger('apb2Divider'),
    flashWaitStates: f.has('flashWaitStates') ? f.nonNegativeInteger('flashWaitStates') : 0,
    overdrive: f.has('overdrive') ? f.boolean('overdrive') : false,
    boost: f.has('boost') ? f.boolean('boost') : false,
  };
  for (const [name, value] of [
    ['ahbDivider', clock.ahbDivider],
    ['apb1Divider', clock.apb1Divider],
    ['apb2Divider', clock.apb2Divider],
  ] as const) {
    const allowed = name === 'ahbDivider' ? [1, 2, 4, 8, 16, 64, 128, 256, 512] : [1, 2, 4, 8, 16];
    if (!allowed.includes(value)) f.fail(name, `expected one of ${allowed.join(', ')}`);
  }
  const needs = family === 'stm32l4' || family === 'stm32g0' ? 'r' : 'p';
  if (clock.pll?.[needs] === undefined) f.fail('pll', `the ${family} clock set-up needs pll.${needs}`);
  return clock;
}

function consolePin(f: Fields): ConsolePin {
  const pin = f.string('pin');
  if (!/^P[A-K]\d{1,2}$/.test(pin)) f.fail('pin', 'expected a pin name such as PA2');
  const alternateFunction = f.nonNegativeInteger('alternateFunction');
  if (alternateFunction > 15) f.fail('alternateFunction', 'expected AF0..AF15');
  return { signal: f.oneOf('signal', ['tx', 'rx'] as const), pin, gpioBase: f.address('gpioBase'), alternateFunction };
}

function consoleUart(f: Fields): ConsoleUart {
  return {
    kind: f.oneOf('kind', CONSOLE_KINDS),
    peripheral: f.string('peripheral'),
    base: f.address('base'),
    baud: f.positiveInteger('baud'),
    bus: f.oneOf('bus', ['apb1', 'apb2'] as const),
    pins: f.has('pins') ? f.list('pins').map(consolePin) : [],
    enable: f.has('enable') ? f.list('enable').map(registerBits) : [],
  };
}

function timerSource(f: Fields, emulated: boolean): TimerSource {
  const kind = f.oneOf('kind', TIMER_KINDS);
  const unit = f.oneOf('unit', ['cycles', 'instructions'] as const);
  if (unit === 'instructions' && !emulated) f.fail('unit', "'instructions' is only measurable on an emulated board");
  const source: TimerSource = {
    kind,
    unit,
    enable: f.has('enable') ? f.list('enable').map(registerBits) : [],
    unitsPerTick: f.has('unitsPerTick') ? f.positiveInteger('unitsPerTick') : 1,
  };
  if (kind !== 'dwt') source.base = f.address('base');
  return source;
}

function timer(f: Fields, emulated: boolean): Timer {
  const primary: Timer = timerSource(f, emulated);
  if (f.has('fallback')) {
    const fallback = timerSource(f.object('fallback'), emulated);
    if (fallback.kind === 'dwt') f.fail('fallback.kind', 'the fallback must be a peripheral timer');
    primary.fallback = fallback;
  }
  return primary;
}

function checkMemories(f: Fields, memory: MemoryRegion[]): void {
  for (const kind of ['flash', 'ram'] as const) {
    if (!memory.some((r) => r.kind === kind)) f.fail('memory', `needs at least one ${kind} region`);
  }
  const names = new Set<string>();
  for (const region of memory) {
    if (names.has(region.name)) f.fail('memory', `region name ${region.name} is used twice`);
    names.add(region.name);
  }
  const sorted = [...memory].sort((a, b) => a.origin - b.origin);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    if (previous.origin + previous.size > sorted[i]!.origin) {
      f.fail('memory', `regions ${previous.name} and ${sorted[i]!.name} overlap`);
    }
  }
}

function checkCoreFeatures(f: Fields, target: Pick<Target, 'core' | 'fpu' | 'dsp'>): void {
  const hasDsp = ['cortex-m4', 'cortex-m7', 'cortex-m33', 'cortex-m55'].includes(target.core);
  if (target.dsp && !hasDsp) f.fail('dsp', `${target.core} has no DSP extension`);
  if ((target.core === 'cortex-m4' || target.core === 'cortex-m7') && !target.dsp) {
    f.fail('dsp', `${target.core} always has the DSP extension`);
  }
  const allowedFpus: Record<Target['core'], readonly string[]> = {
    'cortex-m0plus': ['none'],
    'cortex-m3': ['none'],
    'cortex-m4': ['none', 'fpv4-sp-d16'],
    'cortex-m7': ['none', 'fpv5-sp-d16', 'fpv5-d16'],
    'cortex-m33': ['none', 'fpv5-sp-d16'],
    'cortex-m55': ['none', 'fpv5-d16'],
  };
  if (!allowedFpus[target.core].includes(target.fpu)) {
    f.fail('fpu', `${target.core} has no ${target.fpu} (possible: ${allowedFpus[target.core].join(', ')})`);
  }
}

function checkClockNumbers(f: Fields, target: Pick<Target, 'clockHz' | 'clock' | 'timer' | 'console' | 'core'>): void {
  const pllHz = pllOutputHz(target.clock);
  if (pllHz !== target.clockHz) {
    f.fail('clockHz', `is ${target.clockHz} but the clock settings give ${pllHz}`);
  }
  if (target.timer.kind === 'dwt' && target.core === 'cortex-m0plus') {
    f.fail('timer.kind', 'Cortex-M0+ has no DWT cycle counter: use a peripheral timer');
  }
  if (target.timer.kind === 'stm32-tim2' && target.timer.unit === 'cycles' && apb1TimerHz(target) !== target.clockHz) {
    f.fail('timer.unit', `TIM2 runs at ${apb1TimerHz(target)} Hz, not at the core clock: its ticks are not cycles`);
  }
}

/** Checks a parsed JSON description; `file` names it in errors. */
export function parseTarget(json: unknown, file: string): Target {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${file}: a target description must be a JSON object`);
  }
  const f = new Fields(file, '', json as Json);
  const emulated = f.has('emulated') ? f.boolean('emulated') : false;
  const flash = f.object('flash');
  const target: Target = {
    name: f.string('name'),
    description: f.string('description'),
    core: f.oneOf('core', CORES),
    fpu: f.oneOf('fpu', FPUS),
    dsp: f.boolean('dsp'),
    clockHz: f.positiveInteger('clockHz'),
    memory: f.list('memory').map(memoryRegion),
    clock: clockSetup(f.object('clock')),
    console: consoleUart(f.object('console')),
    timer: timer(f.object('timer'), emulated),
    flash: {
      methods: flash.strings('methods'),
      ...(flash.has('bootloaderProductId') ? { bootloaderProductId: flash.address('bootloaderProductId') } : {}),
    },
    emulated,
    file,
  };
  if (!/^[a-z0-9][a-z0-9-]*$/.test(target.name)) f.fail('name', 'expected lower-case letters, digits and dashes');
  if (f.has('qemu')) {
    const qemu = f.object('qemu');
    target.qemu = { machine: qemu.string('machine'), ...(qemu.has('cpu') ? { cpu: qemu.string('cpu') } : {}) };
  }
  if (emulated && !target.qemu) f.fail('qemu', 'an emulated target needs qemu.machine');
  checkMemories(f, target.memory);
  checkCoreFeatures(f, target);
  checkClockNumbers(f, target);
  return target;
}
