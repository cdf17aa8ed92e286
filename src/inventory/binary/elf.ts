/**
 * A small, defensive reader of ELF files (System V ABI, "Executable and Linking Format", generic
 * ABI chapter 4 "Object Files" and chapter 5 "Program Loading"): the file header, the section header
 * table (with extended section numbering, SHN_XINDEX) and the program header table, for 32- and
 * 64-bit files of either byte order. It answers what the binary-metadata extractors need: a section
 * by name, a section's bytes, and bytes at a virtual address through the PT_LOAD segments.
 *
 * It never throws on bad input: `parseElf` returns a reason string for anything that is not a
 * readable ELF file, and every later read is bounds-checked against the buffer and returns
 * undefined when it falls outside. Table sizes are capped, so a hostile header cannot make it loop
 * for long or allocate much. PE and Mach-O are not handled.
 */

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Section header type: occupies no file space (.bss). */
export const SHT_NOBITS = 8;
/** Program header type: a loadable segment. */
export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

const SHN_XINDEX = 0xffff;
/** More sections or segments than this is not a real binary (linkers stay far below). */
const MAX_TABLE_ENTRIES = 1 << 16;

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfFile {
  readonly buffer: Buffer;
  readonly is64: boolean;
  readonly littleEndian: boolean;
  /** e_type: 2 executable, 3 shared object (PIE executables are 3 too). */
  readonly type: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly ElfSegment[];
  /** Problems met while reading the tables that did not stop the parse (a broken section table). */
  readonly problems: readonly string[];
}

/** Whether the buffer starts with the ELF magic (cheap, no parsing). */
export function isElf(buffer: Buffer): boolean {
  return buffer.length >= 4 && buffer.subarray(0, 4).equals(ELF_MAGIC);
}

class Reader {
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    readonly is64: boolean,
  ) {}

  /** Whether [off, off+len) lies inside the buffer. */
  has(off: number, len: number): boolean {
    return (
      Number.isSafeInteger(off) &&
      Number.isSafeInteger(len) &&
      off >= 0 &&
      len >= 0 &&
      off + len <= this.buf.length
    );
  }
  u16(off: number): number {
    return this.le ? this.buf.readUInt16LE(off) : this.buf.readUInt16BE(off);
  }
  u32(off: number): number {
    return this.le ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off);
  }
  /** A 64-bit field as a Number; values past 2^53 lose precision but then fail every bounds check anyway. */
  u64(off: number): number {
    return Number(this.le ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off));
  }
  /** An address-sized field: 4 bytes in ELFCLASS32, 8 in ELFCLASS64. */
  addr(off: number): number {
    return this.is64 ? this.u64(off) : this.u32(off);
  }
}

/** Parses the headers of an ELF file. Returns a reason string when it is not a readable ELF file. */
export function parseElf(buffer: Buffer): ElfFile | string {
  if (!isElf(buffer)) return "not an ELF file";
  if (buffer.length < 52) return "truncated ELF header";
  const cls = buffer[4];
  const data = buffer[5];
  if (cls !== 1 && cls !== 2) return `unknown ELF class ${cls}`;
  if (data !== 1 && data !== 2) return `unknown ELF data encoding ${data}`;
  const is64 = cls === 2;
  const r = new Reader(buffer, data === 1, is64);
  if (is64 && buffer.length < 64) return "truncated ELF header";

  const type = r.u16(16);
  const machine = r.u16(18);
  const phoff = is64 ? r.u64(32) : r.u32(28);
  const shoff = is64 ? r.u64(40) : r.u32(32);
  const phentsize = r.u16(is64 ? 54 : 42);
  let phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  let shnum = r.u16(is64 ? 60 : 48);
  let shstrndx = r.u16(is64 ? 62 : 50);
  const problems: string[] = [];

  // Program headers.
  const segments: ElfSegment[] = [];
  const minPh = is64 ? 56 : 32;
  if (phnum > 0 && phentsize < minPh) {
    problems.push(`program header entry size ${phentsize} too small`);
    phnum = 0;
  }
  if (phnum > 0 && !r.has(phoff, phnum * phentsize)) {
    problems.push("program header table outside the file");
    phnum = Math.max(0, Math.floor((buffer.length - phoff) / phentsize));
    if (!Number.isSafeInteger(phnum) || phoff < 0 || phoff > buffer.length) phnum = 0;
  }
  for (let i = 0; i < phnum && i < MAX_TABLE_ENTRIES; i++) {
    const o = phoff + i * phentsize;
    if (!r.has(o, minPh)) break;
    segments.push(
      is64
        ? {
            type: r.u32(o),
            flags: r.u32(o + 4),
            offset: r.u64(o + 8),
            vaddr: r.u64(o + 16),
            filesz: r.u64(o + 32),
            memsz: r.u64(o + 40),
          }
        : {
            type: r.u32(o),
            offset: r.u32(o + 4),
            vaddr: r.u32(o + 8),
            filesz: r.u32(o + 16),
            memsz: r.u32(o + 20),
            flags: r.u32(o + 24),
          },
    );
  }

  // Section headers (optional: stripped or hand-crafted files may have none).
  const sections: ElfSection[] = [];
  const minSh = is64 ? 64 : 40;
  const readSection = (o: number): ElfSection =>
    is64
      ? {
          name: "",
          type: r.u32(o + 4),
          flags: r.u64(o + 8),
          addr: r.u64(o + 16),
          offset: r.u64(o + 24),
          size: r.u64(o + 32),
          link: r.u32(o + 40),
        }
      : {
          name: "",
          type: r.u32(o + 4),
          flags: r.u32(o + 8),
          addr: r.u32(o + 12),
          offset: r.u32(o + 16),
          size: r.u32(o + 20),
          link: r.u32(o + 24),
        };
  const nameOffsets: number[] = [];
  if (shoff !== 0 && shentsize >= minSh && r.has(shoff, minSh)) {
    // Extended numbering: with e_shnum 0 the count is in section 0's sh_size, and with e_shstrndx
    // SHN_XINDEX the index is in section 0's sh_link.
    const first = readSection(shoff);
    if (shnum === 0) shnum = first.size;
    if (shstrndx === SHN_XINDEX) shstrndx = first.link;
    if (shnum > MAX_TABLE_ENTRIES) {
      problems.push(`implausible section count ${shnum}`);
      shnum = 0;
    }
    if (!r.has(shoff, shnum * shentsize)) {
      problems.push("section header table outside the file");
      shnum = Math.max(0, Math.floor((buffer.length - shoff) / shentsize));
    }
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      if (!r.has(o, minSh)) break;
      sections.push(readSection(o));
      nameOffsets.push(r.u32(o));
    }
    const strtab = sections[shstrndx];
    if (strtab !== undefined && strtab.type !== SHT_NOBITS && r.has(strtab.offset, strtab.size)) {
      const end = strtab.offset + strtab.size;
      for (let i = 0; i < sections.length; i++) {
        const start = strtab.offset + (nameOffsets[i] ?? 0);
        if (start >= end) continue;
        let stop = buffer.indexOf(0, start);
        if (stop < 0 || stop > end) stop = end;
        (sections[i] as ElfSection).name = buffer.toString("latin1", start, Math.min(stop, start + 256));
      }
    } else if (sections.length > 0) {
      problems.push("section name table missing or outside the file");
    }
  } else if (shoff !== 0) {
    problems.push("section header table unreadable");
  }

  return { buffer, is64, littleEndian: data === 1, type, machine, sections, segments, problems };
}

/** The first section with this name. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A section's bytes (a view, not a copy), or undefined when it has none in the file or lies outside it. */
export function sectionData(elf: ElfFile, section: ElfSection): Buffer | undefined {
  if (section.type === SHT_NOBITS) return undefined;
  const { offset, size } = section;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0)
    return undefined;
  if (offset + size > elf.buffer.length) return undefined;
  return elf.buffer.subarray(offset, offset + size);
}

/**
 * The file offset of a virtual address and how many bytes from there belong to the same loaded
 * segment's file image (PT_LOAD, as the Go debug/elf `ReadData` of debug/buildinfo resolves it).
 */
export function vaddrToOffset(
  elf: ElfFile,
  vaddr: number,
): { offset: number; available: number } | undefined {
  if (!Number.isSafeInteger(vaddr) || vaddr < 0) return undefined;
  for (const seg of elf.segments) {
    if (seg.type !== PT_LOAD) continue;
    if (vaddr < seg.vaddr || vaddr >= seg.vaddr + seg.filesz) continue;
    const offset = seg.offset + (vaddr - seg.vaddr);
    const fileEnd = Math.min(seg.offset + seg.filesz, elf.buffer.length);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= fileEnd) return undefined;
    return { offset, available: fileEnd - offset };
  }
  // No covering segment (a relocatable object, or program headers lost): try the sections.
  for (const sec of elf.sections) {
    if (sec.type === SHT_NOBITS || sec.addr === 0) continue;
    if (vaddr < sec.addr || vaddr >= sec.addr + sec.size) continue;
    const offset = sec.offset + (vaddr - sec.addr);
    const fileEnd = Math.min(sec.offset + sec.size, elf.buffer.length);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= fileEnd) return undefined;
    return { offset, available: fileEnd - offset };
  }
  return undefined;
}

/** `length` bytes at a virtual address (a view), or undefined when they are not all in the file. */
export function readAtVaddr(elf: ElfFile, vaddr: number, length: number): Buffer | undefined {
  if (!Number.isSafeInteger(length) || length < 0) return undefined;
  const at = vaddrToOffset(elf, vaddr);
  if (at === undefined || at.available < length) return undefined;
  return elf.buffer.subarray(at.offset, at.offset + length);
}

/** Reads an unsigned pointer-sized integer of the file's byte order from a buffer. */
export function readPointer(
  buf: Buffer,
  off: number,
  size: 4 | 8,
  littleEndian: boolean,
): number | undefined {
  if (off < 0 || off + size > buf.length) return undefined;
  if (size === 4) return littleEndian ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  return Number(littleEndian ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off));
}
