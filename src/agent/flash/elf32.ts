/**
 * Just enough of ELF32 (little-endian, as arm-none-eabi-gcc writes it) to flash a firmware: the PT_LOAD segments
 * and where they load. What a debugger or QEMU would put into memory is exactly these bytes at these addresses.
 */

const PT_LOAD = 1;
const EM_ARM = 40;

export interface LoadSegment {
  /** Load (physical) address: for initialised data this is its copy in flash, not its RAM address. */
  address: number;
  data: Uint8Array;
}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Throws a plain Error with the reason; the caller names the file. */
export function readLoadSegments(bytes: Uint8Array): LoadSegment[] {
  if (!isElf(bytes)) throw new Error('not an ELF file');
  if (bytes.length < 52) throw new Error('truncated ELF header');
  if (bytes[4] !== 1) throw new Error('not a 32-bit ELF (Cortex-M firmware is ELF32)');
  if (bytes[5] !== 1) throw new Error('not a little-endian ELF');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = view.getUint16(18, true);
  if (machine !== EM_ARM) throw new Error(`ELF for machine ${machine}, not ARM (${EM_ARM})`);
  const programHeaderOffset = view.getUint32(28, true);
  const programHeaderSize = view.getUint16(42, true);
  const programHeaderCount = view.getUint16(44, true);
  if (programHeaderCount === 0) throw new Error('ELF has no program headers (an object file, not a linked firmware?)');
  if (programHeaderSize < 32 || programHeaderOffset + programHeaderCount * programHeaderSize > bytes.length) {
    throw new Error('truncated program header table');
  }
  const segments: LoadSegment[] = [];
  for (let i = 0; i < programHeaderCount; i++) {
    const at = programHeaderOffset + i * programHeaderSize;
    const type = view.getUint32(at, true);
    const offset = view.getUint32(at + 4, true);
    const physicalAddress = view.getUint32(at + 12, true);
    const fileSize = view.getUint32(at + 16, true);
    // Zero-filled memory (.bss) has no file bytes: the firmware's startup clears it, nothing is flashed.
    if (type !== PT_LOAD || fileSize === 0) continue;
    if (offset + fileSize > bytes.length) throw new Error(`segment ${i} runs past the end of the file`);
    segments.push({ address: physicalAddress, data: bytes.subarray(offset, offset + fileSize) });
  }
  if (segments.length === 0) throw new Error('ELF has no loadable segment with content');
  return segments.sort((a, b) => a.address - b.address);
}
