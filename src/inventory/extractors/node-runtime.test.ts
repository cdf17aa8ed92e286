import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import { writeElf } from "../../../test/harness/elf-writer.js";
import { testbedFile } from "../../../test/harness/testbed-files.js";
import type { ExtractorResult, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { nodeRuntimeExtractor, versionFromBinary, versionFromHeader } from "./node-runtime.js";

const extract = (path: string, content: Buffer): ExtractorResult =>
  nodeRuntimeExtractor.extract({ path, size: content.length, mode: 0o755, content }) as ExtractorResult;

const node = (version: string, location: string, properties: Record<string, string>): Package => ({
  ecosystem: "node",
  name: "node",
  version,
  purl: `pkg:generic/node@${version}`,
  location,
  properties,
});

const fakeNode = (rodata: string) =>
  writeElf({
    sections: [
      { name: ".text", data: Buffer.alloc(64, 0x90), addr: 0x401000, perm: "rx" },
      { name: ".rodata", data: Buffer.from(rodata, "latin1"), addr: 0x600000 },
    ],
  });

describe("node-runtime: the official Node.js 14.15.0 build of the testbed", () => {
  let binary: Buffer;
  let header: Buffer;
  before(async () => {
    binary = readFileSync(await testbedFile("noderoot/usr/local/bin/node"));
    header = readFileSync(await testbedFile("noderoot/usr/local/include/node/node_version.h"));
  });

  test("bin/node: node.js/v14.15.0", (t) => {
    const loc = "usr/local/bin/node";
    assert.equal(nodeRuntimeExtractor.wants({ path: loc, size: binary.length, mode: 0o100755 }), true);
    const started = performance.now();
    const r = extract(loc, binary);
    t.diagnostic(
      `node (${(binary.length / 2 ** 20).toFixed(1)} MiB) searched in ${(performance.now() - started).toFixed(1)} ms`,
    );
    assert.deepEqual(r, { packages: [node("14.15.0", loc, { nodeEvidence: "node.js/v" })] });
  });

  test("without the inspector string: the release URL", () => {
    const copy = Buffer.from(binary);
    for (let at = copy.indexOf("node.js/v"); at >= 0; at = copy.indexOf("node.js/v", at + 1))
      copy.write("nodeXjs", at, "latin1");
    assert.deepEqual(extract("opt/node/bin/node", copy), {
      packages: [node("14.15.0", "opt/node/bin/node", { nodeEvidence: "release URL" })],
    });
  });

  test("include/node/node_version.h", () => {
    const loc = "usr/local/include/node/node_version.h";
    assert.equal(nodeRuntimeExtractor.wants({ path: loc, size: header.length, mode: 0o100644 }), true);
    assert.deepEqual(extract(loc, header), {
      packages: [node("14.15.0", loc, { nodeEvidence: "node_version.h" })],
    });
  });

  test("reconcile: binary and header of one prefix are one package", () => {
    const results: FileResult[] = [
      { extractor: "node-runtime", path: "usr/local/bin/node", ...extract("usr/local/bin/node", binary) },
      {
        extractor: "node-runtime",
        path: "usr/local/include/node/node_version.h",
        ...extract("usr/local/include/node/node_version.h", header),
      },
    ];
    const out = nodeRuntimeExtractor.reconcile?.(results) ?? [];
    assert.deepEqual(
      out.flatMap((r) => r.packages ?? []),
      [
        node("14.15.0", "usr/local/bin/node", {
          nodeEvidence: "node.js/v",
          nodeHeader: "usr/local/include/node/node_version.h",
        }),
      ],
    );
    assert.deepEqual(
      results[0]?.packages?.[0]?.properties,
      { nodeEvidence: "node.js/v" },
      "inputs are not mutated",
    );
  });
});

describe("node-runtime: versions and layouts", () => {
  test("old releases: NUL-delimited v0.x - v6 strings", () => {
    assert.deepEqual(versionFromBinary(fakeNode("abc\x00v0.12.18\x00def")), {
      version: "0.12.18",
      evidence: "old version string",
    });
    assert.deepEqual(versionFromBinary(fakeNode("\x00node v0.10.48\x00")), {
      version: "0.10.48",
      evidence: "old version string",
    });
    assert.deepEqual(versionFromBinary(fakeNode("x\x00v6.17.1\x00")), {
      version: "6.17.1",
      evidence: "old version string",
    });
  });

  test("pre-release tags, and markers without a version", () => {
    assert.deepEqual(versionFromBinary(fakeNode("Browser\x00node.js/v22.0.0-rc.1\x00")), {
      version: "22.0.0-rc.1",
      evidence: "node.js/v",
    });
    assert.equal(versionFromBinary(fakeNode("node.js/v\x00 node.js/vX \x00v18.17.1\x00")), undefined);
    assert.deepEqual(
      versionFromBinary(fakeNode("https://nodejs.org/download/release/v16.20.2/node-v16.20.2.tar.gz\x00")),
      { version: "16.20.2", evidence: "release URL" },
    );
    assert.equal(
      versionFromBinary(fakeNode("https://nodejs.org/download/release/v16.20.2/node-v16.20.1.tar.gz\x00")),
      undefined,
      "the two versions of the URL must agree",
    );
  });

  test("an ELF named node without a version, and a wrapper script named node: nothing", () => {
    assert.deepEqual(extract("usr/local/bin/node", fakeNode("just some binary")), {});
    assert.deepEqual(
      extract("usr/local/bin/node", Buffer.from('#!/bin/sh\nexec /opt/node/bin/node "$@"\n')),
      {},
    );
  });

  test("node_version.h: release, pre-release, and garbage", () => {
    const h = (major: string, release = "1") =>
      `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION 2\n#  define NODE_PATCH_VERSION 03\n#define NODE_VERSION_IS_RELEASE ${release}\n`;
    assert.equal(versionFromHeader(h("20")), "20.2.3");
    assert.equal(versionFromHeader(h("21", "0")), "21.2.3-pre");
    assert.equal(versionFromHeader(h("X")), undefined);
    assert.equal(versionFromHeader("#define NODE_MAJOR_VERSION 1\n"), undefined);
    assert.deepEqual(extract("opt/n/include/node/node_version.h", Buffer.from("garbage")), {
      warnings: ["opt/n/include/node/node_version.h: no NODE_MAJOR/MINOR/PATCH_VERSION defines"],
    });
  });

  test("wants: runtimes, not node-gyp header caches, not small or non-executable files", () => {
    const cases: [string, number, number, boolean][] = [
      ["usr/local/bin/node", 0o100755, 70 << 20, true],
      ["root/.nvm/versions/node/v18.17.1/bin/node", 0o100755, 90 << 20, true],
      ["usr/bin/nodejs", 0o100755, 90 << 20, true],
      ["usr/local/bin/node", 0o100644, 70 << 20, false],
      ["usr/local/bin/node", 0o100755, 4096, false],
      ["usr/local/bin/nodemon", 0o100755, 70 << 20, false],
      ["usr/local/include/node/node_version.h", 0o100644, 3783, true],
      ["root/.nvm/versions/node/v18.17.1/include/node/node_version.h", 0o100644, 3783, true],
      ["root/.cache/node-gyp/14.15.0/include/node/node_version.h", 0o100644, 3783, false],
      ["home/app/.node-gyp/12.0.0/include/node/node_version.h", 0o100644, 3783, false],
      ["root/.electron-gyp/25.0.0/include/node/node_version.h", 0o100644, 3783, false],
      ["app/node_modules/some-addon/include/node/node_version.h", 0o100644, 3783, false],
      ["usr/local/include/node/node_version.h.orig", 0o100644, 3783, false],
    ];
    for (const [path, mode, size, want] of cases)
      assert.equal(nodeRuntimeExtractor.wants({ path, mode, size }), want, path);
  });

  test("reconcile: disagreeing evidence is kept with a warning; other prefixes are untouched", () => {
    const r = (path: string, version: string, evidence: string): FileResult => ({
      extractor: "node-runtime",
      path,
      packages: [node(version, path, { nodeEvidence: evidence })],
    });
    const input = [
      r("usr/local/bin/node", "18.0.0", "node.js/v"),
      r("usr/local/include/node/node_version.h", "16.0.0", "node_version.h"),
      r("opt/node-v20.1.0-linux-x64/include/node/node_version.h", "20.1.0", "node_version.h"),
      r("bin/node", "21.0.0", "node.js/v"),
      r("include/node/node_version.h", "21.0.0", "node_version.h"),
    ];
    const out = nodeRuntimeExtractor.reconcile?.(input) ?? [];
    assert.deepEqual(out[0], input[0]);
    assert.deepEqual(out[1]?.warnings, [
      "usr/local/include/node/node_version.h: says Node.js 16.0.0, but usr/local/bin/node is 18.0.0",
    ]);
    assert.equal(out[1]?.packages?.length, 1);
    assert.deepEqual(out[2], input[2]);
    assert.deepEqual(out[3]?.packages?.[0]?.properties, {
      nodeEvidence: "node.js/v",
      nodeHeader: "include/node/node_version.h",
    });
    assert.deepEqual(out[4]?.packages, []);
  });
});
