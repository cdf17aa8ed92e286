import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ExtractorFile, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { normalizePythonName, pythonExtractor } from "./python.js";

const testdata = join(import.meta.dirname, "testdata", "python");

function file(path: string, content: string | Buffer): ExtractorFile {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { path, size: buf.length, mode: 0o100644, content: buf };
}

async function run(f: ExtractorFile): Promise<{ packages: Package[]; warnings: string[] }> {
  assert.ok(pythonExtractor.wants(f), `wants ${f.path}`);
  const r = await pythonExtractor.extract(f);
  return { packages: r.packages ?? [], warnings: r.warnings ?? [] };
}

function summary(pkgs: Package[]): string[] {
  return pkgs
    .map((p) => {
      const props = Object.entries(p.properties ?? {}).map(([k, v]) => (v === "true" ? k : `${k}=${v}`));
      return [p.purl, ...props.sort()].join(" ");
    })
    .sort();
}

describe("python wants", () => {
  const cases: [string, boolean][] = [
    ["usr/local/lib/python3.11/site-packages/attrs-26.1.0.dist-info/METADATA", true],
    ["usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", true],
    ["usr/lib/python2.7/wsgiref.egg-info", true],
    ["usr/lib/python3/site-packages/foo-1.0-py3.9.egg/EGG-INFO/PKG-INFO", true],
    ["app/poetry.lock", true],
    ["app/Pipfile.lock", true],
    ["app/.venv/lib/python3.12/site-packages/x/poetry.lock", false],
    ["usr/local/lib/python3.11/site-packages/attrs-26.1.0.dist-info/RECORD", false],
    ["usr/local/lib/python3.11/site-packages/attrs/METADATA", false],
    ["app/Pipfile", false],
    ["app/pyproject.toml", false],
    ["app/requirements.txt", false],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${want}`, () =>
      assert.equal(pythonExtractor.wants({ path, size: 1, mode: 0o100644 }), want));
  }
});

describe("python PEP 503 names", () => {
  const cases: [string, string][] = [
    ["Flask", "flask"],
    ["zope.interface", "zope-interface"],
    ["ruamel.yaml.clib", "ruamel-yaml-clib"],
    ["Foo__Bar", "foo-bar"],
    ["a-_.b", "a-b"],
    ["typing_extensions", "typing-extensions"],
    ["_leading", "leading"],
  ];
  for (const [name, want] of cases)
    it(`${name} → ${want}`, () => assert.equal(normalizePythonName(name), want));
});

describe("python installed core metadata (real files)", () => {
  const cases: { fixture: string; path: string; purl: string; name: string; licenses?: string[] }[] = [
    {
      fixture: "attrs-METADATA",
      path: "usr/local/lib/python3.11/site-packages/attrs-26.1.0.dist-info/METADATA",
      purl: "pkg:pypi/attrs@26.1.0",
      name: "attrs",
      licenses: ["MIT"], // License-Expression
    },
    {
      fixture: "backcall-METADATA",
      path: "usr/local/lib/python3.11/site-packages/backcall-0.2.0.dist-info/METADATA",
      purl: "pkg:pypi/backcall@0.2.0",
      name: "backcall",
      licenses: ["BSD License"], // License: UNKNOWN → classifier
    },
    {
      fixture: "traitlets-METADATA",
      path: "usr/local/lib/python3.11/site-packages/traitlets-5.15.0.dist-info/METADATA",
      purl: "pkg:pypi/traitlets@5.15.0",
      name: "traitlets",
      licenses: ["BSD License"], // License holds the whole licence text
    },
    {
      fixture: "wsgiref.egg-info",
      path: "usr/lib/python2.7/wsgiref.egg-info",
      purl: "pkg:pypi/wsgiref@0.1.2",
      name: "wsgiref",
      licenses: ["PSF or ZPL"],
    },
    {
      fixture: "PyJWT-PKG-INFO",
      path: "usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO",
      purl: "pkg:pypi/pyjwt@2.6.0",
      name: "PyJWT",
      licenses: ["MIT"],
    },
  ];
  for (const c of cases) {
    it(c.fixture, async () => {
      const r = await run(file(c.path, readFileSync(join(testdata, c.fixture))));
      assert.deepEqual(r.warnings, []);
      assert.equal(r.packages.length, 1);
      const p = r.packages[0] as Package;
      assert.equal(p.purl, c.purl);
      assert.equal(p.name, c.name);
      assert.equal(p.ecosystem, "pypi");
      assert.equal(p.location, c.path);
      assert.deepEqual(p.licenses, c.licenses);
    });
  }
});

describe("python hand-written core metadata", () => {
  const path = "site-packages/x-1.dist-info/METADATA";
  const cases: { name: string; text: string; want: string[]; licenses?: string[]; warn?: boolean }[] = [
    {
      name: "CRLF, dotted name, several license classifiers, body ignored",
      text: "Metadata-Version: 2.1\r\nName: zope.interface\r\nVersion: 6.0\r\nClassifier: License :: OSI Approved\r\nClassifier: License :: OSI Approved :: Zope Public License\r\nClassifier: License :: Public Domain\r\n\r\nName: body\r\n",
      want: ["pkg:pypi/zope-interface@6.0"],
      licenses: ["Zope Public License", "Public Domain"],
    },
    {
      name: "License-Expression wins over License",
      text: "Name: a\nVersion: 1\nLicense: BSD\nLicense-Expression: MIT OR Apache-2.0\n",
      want: ["pkg:pypi/a@1"],
      licenses: ["MIT OR Apache-2.0"],
    },
    {
      name: "header names are case-insensitive",
      text: "name: Typing_Extensions\nversion: 4.7.1\n",
      want: ["pkg:pypi/typing-extensions@4.7.1"],
    },
    { name: "no version", text: "Name: a\n", want: [], warn: true },
    { name: "empty", text: "", want: [], warn: true },
    { name: "binary garbage", text: "\u0000\u0001\u0002\n\n", want: [], warn: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(file(path, c.text));
      assert.deepEqual(summary(r.packages), c.want);
      if (c.licenses) assert.deepEqual(r.packages[0]?.licenses, c.licenses);
      assert.equal(r.warnings.length > 0, c.warn ?? false);
    });
  }
});

const POETRY_V1 = `# This file is automatically @generated by Poetry 1.4.2 and should not be changed by hand.

[[package]]
name = "click"
version = "8.1.3"
description = "Composable command line interface toolkit"
category = "main"
optional = false
python-versions = ">=3.7"
files = [
    {file = "click-8.1.3-py3-none-any.whl", hash = "sha256:bb4d8133cb15a609f44e8213d9b391b0809795062913b383c62be0ee95b1db48"},
]

[package.dependencies]
colorama = {version = "*", markers = "platform_system == \\"Windows\\""}

[[package]]
name = "pytest"
version = "7.3.1"
description = "pytest: simple powerful testing with Python"
category = "dev"
optional = false
python-versions = ">=3.7"

[[package]]
name = "Jinja2"
version = "3.1.2"
category = "main"
optional = true
python-versions = ">=3.7"

[[package]]
name = "mylib"
version = "0.1.0"
category = "main"
optional = false
python-versions = "*"
develop = true

[package.source]
type = "directory"
url = "../mylib"

[[package]]
name = "gitdep"
version = "2.0.0"
category = "main"
optional = false
python-versions = "*"

[package.source]
type = "git"
url = "https://github.com/u/gitdep.git"
reference = "main"
resolved_reference = "abc"

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "x"
`;

const POETRY_V2 = `# This file is automatically @generated by Poetry 2.0.1 and should not be changed by hand.

[[package]]
name = "colorama"
version = "0.4.6"
optional = false
python-versions = "*"
groups = ["main", "dev"]

[[package]]
name = "atomicwrites"
version = "1.4.1"
optional = false
python-versions = "*"
groups = ["dev"]

[[package]]
name = "markupsafe"
version = "3.0.2"
optional = false
python-versions = ">=3.9"
groups = ["main"]

[[package]]
name = "private"
version = "1.0"
optional = false
python-versions = "*"
groups = ["main"]

[package.source]
type = "legacy"
url = "https://pypi.example.com/simple"
reference = "private"

[metadata]
lock-version = "2.1"
python-versions = ">=3.9"
content-hash = "x"
`;

const PIPFILE_LOCK = JSON.stringify({
  _meta: { hash: { sha256: "x" }, "pipfile-spec": 6, requires: { python_version: "3.11" } },
  default: {
    django: { hashes: ["sha256:x"], index: "pypi", markers: "python_version >= '3.8'", version: "==4.2.1" },
    "Zope.Interface": { version: "==6.0" },
    requests: { git: "https://github.com/psf/requests.git", ref: "abc" },
    mylocal: { editable: true, path: "." },
    shared: { version: "==1.0.0" },
  },
  develop: {
    pytest: { version: "==7.3.1" },
    shared: { version: "==1.0.0" },
    gitpinned: { git: "https://github.com/u/g.git", ref: "abc", version: "==0.3" },
  },
});

describe("python lock files", () => {
  const cases: { name: string; path: string; content: string; want: string[]; warnings?: number }[] = [
    {
      name: "poetry.lock v1 (category)",
      path: "app/poetry.lock",
      content: POETRY_V1,
      want: [
        "pkg:pypi/click@8.1.3",
        "pkg:pypi/gitdep@2.0.0 source=git",
        "pkg:pypi/jinja2@3.1.2 optional",
        "pkg:pypi/pytest@7.3.1 dev",
      ],
    },
    {
      name: "poetry.lock v2 (groups)",
      path: "app/poetry.lock",
      content: POETRY_V2,
      want: [
        "pkg:pypi/atomicwrites@1.4.1 dev",
        "pkg:pypi/colorama@0.4.6",
        "pkg:pypi/markupsafe@3.0.2",
        "pkg:pypi/private@1.0",
      ],
    },
    {
      name: "Pipfile.lock default and develop",
      path: "app/Pipfile.lock",
      content: PIPFILE_LOCK,
      want: [
        "pkg:pypi/django@4.2.1",
        "pkg:pypi/gitpinned@0.3 dev source=git",
        "pkg:pypi/pytest@7.3.1 dev",
        "pkg:pypi/shared@1.0.0",
        "pkg:pypi/zope-interface@6.0",
      ],
    },
    {
      name: "poetry.lock invalid TOML",
      path: "poetry.lock",
      content: "[[package]\nname = ",
      want: [],
      warnings: 1,
    },
    {
      name: "poetry.lock wrong shape",
      path: "poetry.lock",
      content: 'package = "x"\n',
      want: [],
      warnings: 1,
    },
    {
      name: "poetry.lock no packages",
      path: "poetry.lock",
      content: "[metadata]\nlock-version = '2.0'\n",
      want: [],
    },
    {
      name: "poetry.lock entry without version",
      path: "poetry.lock",
      content: '[[package]]\nname = "a"\n',
      want: [],
      warnings: 1,
    },
    { name: "Pipfile.lock invalid JSON", path: "Pipfile.lock", content: "{", want: [], warnings: 1 },
    {
      name: "Pipfile.lock wrong shape",
      path: "Pipfile.lock",
      content: '{"default": []}',
      want: [],
      warnings: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(file(c.path, c.content));
      assert.deepEqual(summary(r.packages), c.want);
      assert.equal(r.warnings.length, c.warnings ?? 0, r.warnings.join("\n"));
    });
  }

  it("keeps the lock's spelling as the name and the PEP 503 name in the purl", async () => {
    const r = await run(file("app/poetry.lock", POETRY_V1));
    const jinja = r.packages.find((p) => p.purl.startsWith("pkg:pypi/jinja2@"));
    assert.equal(jinja?.name, "Jinja2");
    assert.equal(jinja?.location, "app/poetry.lock");
  });
});

describe("python reconcile", () => {
  it("drops lock entries whose distribution is installed, keeps the rest", async () => {
    const files = [
      file("app/poetry.lock", POETRY_V1),
      file(
        "app/.venv/lib/python3.11/site-packages/click-8.1.7.dist-info/METADATA",
        "Name: click\nVersion: 8.1.7\n",
      ),
      file("usr/lib/python3/dist-packages/jinja2-3.1.2.egg-info/PKG-INFO", "Name: jinja2\nVersion: 3.1.2\n"),
    ];
    const rs: FileResult[] = await Promise.all(
      files.map(async (f) => ({ extractor: "python", path: f.path, ...(await pythonExtractor.extract(f)) })),
    );
    const out = pythonExtractor.reconcile?.(rs) ?? rs;
    const got = out.flatMap((r) => (r.packages ?? []).map((p) => `${r.path.split("/")[0]} ${p.purl}`)).sort();
    assert.deepEqual(got, [
      "app pkg:pypi/click@8.1.7",
      "app pkg:pypi/gitdep@2.0.0",
      "app pkg:pypi/pytest@7.3.1",
      "usr pkg:pypi/jinja2@3.1.2",
    ]);
  });

  it("leaves lock files alone when nothing is installed", async () => {
    const f = file("app/Pipfile.lock", PIPFILE_LOCK);
    const rs: FileResult[] = [{ extractor: "python", path: f.path, ...(await pythonExtractor.extract(f)) }];
    assert.deepEqual(pythonExtractor.reconcile?.(rs), rs);
  });
});
