/**
 * Writes minimal but well-formed ELF files (System V gABI layout) for tests of the binary-metadata
 * extractors: a file header, one PT_LOAD program header per section that has an address, the
 * section contents, a `.shstrtab` and the section header table. 32- or 64-bit, either byte order.
 * Just enough for a reader to find sections by name and resolve virtual addresses; nothing runs.
 */

export interface ElfWriterSection {
  name: string;
  data: Buffer;
  /** Virtual address; 0 = not loaded (no PT_LOAD, like .comment or .dep-v0). */
  addr?: number;
  /** sh_type; default SHT_PROGBITS (1). */
  type?: number;
  /** Loaded-segment permissions: "r", "rw", "rx". Default "r". */
  perm?: "r" | "rw" | "rx";
}

export interface ElfWriterOptions {
  is64?: boolean;
  littleEndian?: boolean;
  /** e_machine; default x86-64 (62) or i386 (3) by class. */
  machine?: number;
  sections: ElfWriterSection[];
}

const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;

export function writeElf(options: ElfWriterOptions): Buffer {
  const is64 = options.is64 ?? true;
  const le = options.littleEndian ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const loaded = options.sections.filter((s) => (s.addr ?? 0) !== 0);
  const phoff = ehsize;
  let cursor = phoff + loaded.length * phentsize;

  const placed: { s: ElfWriterSection; offset: number; nameOff: number }[] = [];
  let strtab = "\0";
  for (const s of options.sections) {
    cursor = align(cursor, 16);
    placed.push({ s, offset: cursor, nameOff: strtab.length });
    strtab += `${s.name}\0`;
    cursor += s.data.length;
  }
  const shstrNameOff = strtab.length;
  strtab += ".shstrtab\0";
  const strtabOffset = cursor;
  const strtabBuf = Buffer.from(strtab, "latin1");
  cursor += strtabBuf.length;
  const shoff = align(cursor, 8);
  const shnum = options.sections.length + 2;
  const total = shoff + shnum * shentsize;
  const out = Buffer.alloc(total);

  const u16 = (off: number, v: number) => (le ? out.writeUInt16LE(v, off) : out.writeUInt16BE(v, off));
  const u32 = (off: number, v: number) => (le ? out.writeUInt32LE(v, off) : out.writeUInt32BE(v, off));
  const u64 = (off: number, v: number) =>
    le ? out.writeBigUInt64LE(BigInt(v), off) : out.writeBigUInt64BE(BigInt(v), off);

  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  u16(16, 2); // ET_EXEC
  u16(18, options.machine ?? (is64 ? 62 : 3));
  u32(20, 1);
  if (is64) {
    u64(24, 0);
    u64(32, phoff);
    u64(40, shoff);
    u16(52, ehsize);
    u16(54, phentsize);
    u16(56, loaded.length);
    u16(58, shentsize);
    u16(60, shnum);
    u16(62, shnum - 1);
  } else {
    u32(24, 0);
    u32(28, phoff);
    u32(32, shoff);
    u16(40, ehsize);
    u16(42, phentsize);
    u16(44, loaded.length);
    u16(46, shentsize);
    u16(48, shnum);
    u16(50, shnum - 1);
  }

  let ph = phoff;
  for (const p of placed) {
    p.s.data.copy(out, p.offset);
    const addr = p.s.addr ?? 0;
    if (addr === 0) continue;
    const perm = p.s.perm ?? "r";
    const flags = 4 | (perm === "rw" ? 2 : 0) | (perm === "rx" ? 1 : 0);
    u32(ph, 1); // PT_LOAD
    if (is64) {
      u32(ph + 4, flags);
      u64(ph + 8, p.offset);
      u64(ph + 16, addr);
      u64(ph + 24, addr);
      u64(ph + 32, p.s.data.length);
      u64(ph + 40, p.s.data.length);
      u64(ph + 48, 16);
    } else {
      u32(ph + 4, p.offset);
      u32(ph + 8, addr);
      u32(ph + 12, addr);
      u32(ph + 16, p.s.data.length);
      u32(ph + 20, p.s.data.length);
      u32(ph + 24, flags);
      u32(ph + 28, 16);
    }
    ph += phentsize;
  }
  strtabBuf.copy(out, strtabOffset);

  const section = (
    i: number,
    nameOff: number,
    type: number,
    flags: number,
    addr: number,
    off: number,
    size: number,
  ) => {
    const o = shoff + i * shentsize;
    u32(o, nameOff);
    u32(o + 4, type);
    if (is64) {
      u64(o + 8, flags);
      u64(o + 16, addr);
      u64(o + 24, off);
      u64(o + 32, size);
      u64(o + 48, 1);
    } else {
      u32(o + 8, flags);
      u32(o + 12, addr);
      u32(o + 16, off);
      u32(o + 20, size);
      u32(o + 32, 1);
    }
  };
  placed.forEach((p, i) => {
    const addr = p.s.addr ?? 0;
    const perm = p.s.perm ?? "r";
    const flags =
      (addr !== 0 ? SHF_ALLOC : 0) | (perm === "rw" ? SHF_WRITE : 0) | (perm === "rx" ? SHF_EXECINSTR : 0);
    section(i + 1, p.nameOff, p.s.type ?? 1, flags, addr, p.offset, p.s.data.length);
  });
  section(shnum - 1, shstrNameOff, 3, 0, 0, strtabOffset, strtabBuf.length);
  return out;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
