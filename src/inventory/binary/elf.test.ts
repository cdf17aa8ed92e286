import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import { writeElf } from "../../../test/harness/elf-writer.js";
import {
  findSection,
  isElf,
  PT_LOAD,
  parseElf,
  readAtVaddr,
  readPointer,
  sectionData,
  vaddrToOffset,
} from "./elf.js";

function sample(is64: boolean, littleEndian: boolean): Buffer {
  return writeElf({
    is64,
    littleEndian,
    sections: [
      { name: ".text", data: Buffer.from("code-bytes"), addr: 0x401000, perm: "rx" },
      { name: ".rodata", data: Buffer.from("hello, elf"), addr: 0x402000 },
      { name: ".data", data: Buffer.from("0123456789abcdef"), addr: 0x403000, perm: "rw" },
      { name: ".comment", data: Buffer.from("not loaded") },
    ],
  });
}

describe("parseElf", () => {
  for (const [is64, le] of [
    [true, true],
    [true, false],
    [false, true],
    [false, false],
  ] as const) {
    test(`${is64 ? "ELFCLASS64" : "ELFCLASS32"} ${le ? "little" : "big"}-endian: sections, segments, addresses`, () => {
      const elf = parseElf(sample(is64, le));
      assert.ok(typeof elf !== "string", String(elf));
      assert.equal(elf.is64, is64);
      assert.equal(elf.littleEndian, le);
      assert.deepEqual(
        elf.sections.map((s) => s.name),
        ["", ".text", ".rodata", ".data", ".comment", ".shstrtab"],
      );
      assert.deepEqual(elf.problems, []);
      assert.equal(elf.segments.filter((s) => s.type === PT_LOAD).length, 3);
      const rodata = findSection(elf, ".rodata");
      assert.ok(rodata);
      assert.equal(sectionData(elf, rodata)?.toString(), "hello, elf");
      assert.equal(readAtVaddr(elf, 0x402007, 3)?.toString(), "elf");
      assert.equal(readAtVaddr(elf, 0x403000, 16)?.toString(), "0123456789abcdef");
      assert.equal(readAtVaddr(elf, 0x403000, 17), undefined, "past the segment's file image");
      assert.equal(readAtVaddr(elf, 0x500000, 1), undefined);
      assert.equal(vaddrToOffset(elf, -1), undefined);
      const comment = findSection(elf, ".comment");
      assert.ok(comment);
      assert.equal(sectionData(elf, comment)?.toString(), "not loaded");
    });
  }

  test("not ELF, truncated header, bad class and encoding are reasons, not exceptions", () => {
    assert.equal(parseElf(Buffer.from("#!/bin/sh\necho hi\n")), "not an ELF file");
    assert.equal(parseElf(Buffer.alloc(0)), "not an ELF file");
    assert.equal(parseElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])), "truncated ELF header");
    const bad = sample(true, true);
    bad[4] = 7;
    assert.equal(parseElf(bad), "unknown ELF class 7");
    const bad2 = sample(true, true);
    bad2[5] = 0;
    assert.equal(parseElf(bad2), "unknown ELF data encoding 0");
    assert.equal(isElf(sample(false, true)), true);
    assert.equal(isElf(Buffer.from("\x7fEL")), false);
  });

  test("extended section numbering: e_shnum 0 and e_shstrndx SHN_XINDEX read from section 0", () => {
    const buf = sample(true, true);
    const shoff = Number(buf.readBigUInt64LE(40));
    const shnum = buf.readUInt16LE(60);
    const shstrndx = buf.readUInt16LE(62);
    buf.writeUInt16LE(0, 60);
    buf.writeUInt16LE(0xffff, 62);
    buf.writeBigUInt64LE(BigInt(shnum), shoff + 32); // section 0 sh_size
    buf.writeUInt32LE(shstrndx, shoff + 40); // section 0 sh_link
    const elf = parseElf(buf);
    assert.ok(typeof elf !== "string");
    assert.equal(elf.sections.length, shnum);
    assert.equal(elf.sections[2]?.name, ".rodata");
  });

  test("a section header table outside the file is a problem, the segments still work", () => {
    const buf = sample(true, true);
    buf.writeBigUInt64LE(BigInt(buf.length + 1000), 40);
    const elf = parseElf(buf);
    assert.ok(typeof elf !== "string");
    assert.equal(elf.sections.length, 0);
    assert.deepEqual(elf.problems, ["section header table unreadable"]);
    assert.equal(readAtVaddr(elf, 0x402000, 5)?.toString(), "hello");
  });

  test("absurd table sizes are capped, not allocated", () => {
    const buf = sample(true, true);
    buf.writeUInt16LE(0xffff, 56); // e_phnum
    buf.writeUInt16LE(0, 60); // e_shnum 0 -> count from section 0
    const shoff = Number(buf.readBigUInt64LE(40));
    buf.writeBigUInt64LE(2n ** 40n, shoff + 32);
    const elf = parseElf(buf);
    assert.ok(typeof elf !== "string");
    assert.ok(elf.segments.length < 100);
    assert.equal(elf.sections.length, 0);
    assert.ok(elf.problems.some((p) => p.includes("implausible section count")));
  });

  test("readPointer bounds and byte orders", () => {
    const b = Buffer.from([0, 0, 0, 1, 0, 0, 0x10, 2]);
    assert.equal(readPointer(b, 0, 4, true), 0x01000000);
    assert.equal(readPointer(b, 0, 4, false), 1);
    assert.equal(readPointer(b, 0, 8, false), 0x1_0000_1002);
    assert.equal(readPointer(b, 1, 8, true), undefined);
    assert.equal(readPointer(b, -1, 4, true), undefined);
  });

  test("fuzz: every truncation and seeded byte corruption of the headers parses or gives a reason", () => {
    const inputs = [sample(true, true), sample(false, false)];
    let rnd = 0x2545f491;
    const next = () => {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      return rnd >>> 0;
    };
    const cpuMs = cpuClock();
    for (const input of inputs) {
      for (let len = 0; len <= input.length; len++) {
        const elf = parseElf(input.subarray(0, len));
        if (typeof elf === "string") continue;
        for (const s of elf.sections) sectionData(elf, s);
        readAtVaddr(elf, 0x402000, 10);
      }
      for (let round = 0; round < 3000; round++) {
        const copy = Buffer.from(input);
        const flips = 1 + (next() % 8);
        for (let f = 0; f < flips; f++) {
          // Mostly the file header and the tables, where the structure lives.
          const at = next() % 3 === 0 ? next() % copy.length : next() % Math.min(copy.length, 128);
          copy[at] = next() & 0xff;
        }
        if (next() % 4 === 0) copy.writeUInt32LE(next(), input.length - 4 - (next() % 64));
        const elf = parseElf(copy);
        if (typeof elf === "string") continue;
        for (const s of elf.sections) sectionData(elf, s);
        for (const seg of elf.segments) readAtVaddr(elf, seg.vaddr, 16);
      }
    }
    assert.ok(cpuMs() < 10_000);
  });
});
