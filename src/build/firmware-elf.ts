/**
 * Sizes from an ELF32 file (object or linked image), read directly: what is in flash, what occupies RAM, split the
 * way `size` reports text / data / bss.
 */
import { readFileSync } from 'node:fs';
import type { MemoryRegion } from '../targets/index.js';

const SHF_WRITE = 0x1;
const SHF_ALLOC = 0x2;
const SHT_NOBITS = 8;
const PT_LOAD = 1;

export interface ElfSection {
  name: string;
  address: number;
  size: number;
  kind: 'text' | 'data' | 'bss';
}

export interface ElfSegment {
  physicalAddress: number;
  fileSize: number;
}

export interface ElfImage {
  sections: ElfSection[];
  loadSegments: ElfSegment[];
}

export function readElf(file: string): ElfImage {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 1 || bytes[5] !== 1) {
    throw new Error(`${file} is not a little-endian ELF32 file`);
  }
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const phoff = u32(0x1c);
  const shoff = u32(0x20);
  const phentsize = u16(0x2a);
  const phnum = u16(0x2c);
  const shentsize = u16(0x2e);
  const shnum = u16(0x30);
  const shstrndx = u16(0x32);

  const header = (i: number) => shoff + i * shentsize;
  const namesOffset = u32(header(shstrndx) + 16);
  const nameAt = (offset: number) => {
    const start = namesOffset + offset;
    return bytes.toString('latin1', start, bytes.indexOf(0, start));
  };

  const sections: ElfSection[] = [];
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const flags = u32(h + 8);
    if (!(flags & SHF_ALLOC)) continue;
    const size = u32(h + 20);
    if (size === 0) continue;
    const kind = u32(h + 4) === SHT_NOBITS ? 'bss' : flags & SHF_WRITE ? 'data' : 'text';
    sections.push({ name: nameAt(u32(h)), address: u32(h + 12), size, kind });
  }
  const loadSegments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (u32(h) === PT_LOAD && u32(h + 16) > 0) loadSegments.push({ physicalAddress: u32(h + 12), fileSize: u32(h + 16) });
  }
  return { sections, loadSegments };
}

export interface SectionTotals {
  text: number;
  data: number;
  bss: number;
}

export function sectionTotals(image: ElfImage): SectionTotals {
  const totals = { text: 0, data: 0, bss: 0 };
  for (const section of image.sections) totals[section.kind] += section.size;
  return totals;
}

const inside = (region: MemoryRegion, address: number) => address >= region.origin && address < region.origin + region.size;

/** Bytes a linked image stores in `flash` (its load segments there) and occupies in `ram` (its sections there). */
export function regionUsage(image: ElfImage, flash: MemoryRegion, ram: MemoryRegion): { flashBytes: number; ramBytes: number } {
  const flashBytes = image.loadSegments
    .filter((s) => inside(flash, s.physicalAddress))
    .reduce((sum, s) => sum + s.fileSize, 0);
  const ramBytes = image.sections.filter((s) => inside(ram, s.address)).reduce((sum, s) => sum + s.size, 0);
  return { flashBytes, ramBytes };
}
