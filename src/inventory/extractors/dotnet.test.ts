import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExtractorFile } from "../extractor.js";
import type { Package } from "../types.js";
import { dotnetExtractor } from "./dotnet.js";

function file(path: string, content: string): ExtractorFile {
  const buf = Buffer.from(content);
  return { path, size: buf.length, mode: 0o100644, content: buf };
}

async function run(f: ExtractorFile): Promise<{ packages: Package[]; warnings: string[] }> {
  assert.ok(dotnetExtractor.wants(f), `wants ${f.path}`);
  const r = await dotnetExtractor.extract(f);
  return { packages: r.packages ?? [], warnings: r.warnings ?? [] };
}

// The shape `dotnet publish` writes (SDK 8): a project, packages with runtime/native assets, a
// build-only analyzer package without assets, a self-contained runtime pack and a reference.
const DEPS = JSON.stringify({
  runtimeTarget: { name: ".NETCoreApp,Version=v8.0/linux-x64", signature: "" },
  compilationOptions: {},
  targets: {
    ".NETCoreApp,Version=v8.0": {},
    ".NETCoreApp,Version=v8.0/linux-x64": {
      "WebApp/1.0.0": {
        dependencies: { "Newtonsoft.Json": "13.0.1", "SQLitePCLRaw.lib.e_sqlite3": "2.1.6" },
        runtime: { "WebApp.dll": {} },
      },
      "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {
        runtime: {
          "System.Private.CoreLib.dll": { assemblyVersion: "8.0.0.0", fileVersion: "8.0.23.53103" },
        },
      },
      "Newtonsoft.Json/13.0.1": {
        runtime: {
          "lib/net6.0/Newtonsoft.Json.dll": { assemblyVersion: "13.0.0.0", fileVersion: "13.0.1.25517" },
        },
      },
      "SQLitePCLRaw.lib.e_sqlite3/2.1.6": {
        runtimeTargets: {
          "runtimes/linux-x64/native/libe_sqlite3.so": { rid: "linux-x64", assetType: "native" },
        },
      },
      "Microsoft.CodeAnalysis.Analyzers/3.3.4": {},
      "Shared.Lib/1.0.0": { runtime: { "Shared.Lib.dll": {} } },
    },
  },
  libraries: {
    "WebApp/1.0.0": { type: "project", serviceable: false, sha512: "" },
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {
      type: "runtimepack",
      serviceable: false,
      sha512: "",
    },
    "Newtonsoft.Json/13.0.1": {
      type: "package",
      serviceable: true,
      sha512:
        "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
      path: "newtonsoft.json/13.0.1",
      hashPath: "newtonsoft.json.13.0.1.nupkg.sha512",
    },
    "SQLitePCLRaw.lib.e_sqlite3/2.1.6": { type: "package", serviceable: true, sha512: "x" },
    "Microsoft.CodeAnalysis.Analyzers/3.3.4": { type: "package", serviceable: true, sha512: "x" },
    "Shared.Lib/1.0.0": { type: "project", serviceable: false, sha512: "" },
    "System.Legacy/4.0.0.0": { type: "reference", serviceable: false, sha512: "" },
    "NotInTarget/1.2.3": { type: "Package", serviceable: true, sha512: "x" },
    noslash: { type: "package" },
  },
});

describe("dotnet wants", () => {
  const cases: [string, boolean][] = [
    ["app/WebApp.deps.json", true],
    ["usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json", true],
    ["app/WebApp.runtimeconfig.json", false],
    ["app/deps.json.bak", false],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${want}`, () =>
      assert.equal(dotnetExtractor.wants({ path, size: 1, mode: 0o100644 }), want));
  }
});

describe("dotnet deps.json", () => {
  it("reports packages with runtime assets and the runtime pack; skips projects, references, build-only packages", async () => {
    const r = await run(file("app/WebApp.deps.json", DEPS));
    assert.deepEqual(r.packages.map((p) => p.purl).sort(), [
      "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.0",
      "pkg:nuget/Newtonsoft.Json@13.0.1",
      "pkg:nuget/NotInTarget@1.2.3",
      "pkg:nuget/SQLitePCLRaw.lib.e_sqlite3@2.1.6",
    ]);
    assert.equal(r.warnings.length, 1); // the key without "/"
    const nj = r.packages.find((p) => p.name === "Newtonsoft.Json");
    assert.deepEqual(nj, {
      ecosystem: "nuget",
      name: "Newtonsoft.Json",
      version: "13.0.1",
      purl: "pkg:nuget/Newtonsoft.Json@13.0.1",
      location: "app/WebApp.deps.json",
    });
  });

  it("keeps every package when the runtime target is missing", async () => {
    const doc = JSON.parse(DEPS) as Record<string, unknown>;
    doc.runtimeTarget = { name: "nope" };
    const r = await run(file("app/WebApp.deps.json", JSON.stringify(doc)));
    assert.ok(r.packages.some((p) => p.name === "Microsoft.CodeAnalysis.Analyzers"));
  });

  const bad: [string, string][] = [
    ["invalid JSON", "{"],
    ["array", "[]"],
    ["libraries not an object", '{"libraries": []}'],
  ];
  for (const [name, content] of bad) {
    it(name, async () => {
      const r = await run(file("a.deps.json", content));
      assert.deepEqual(r.packages, []);
      assert.equal(r.warnings.length, 1);
    });
  }
});
