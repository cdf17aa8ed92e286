import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  classifyLicense,
  cleanLicenses,
  knownLicenseId,
  parseLicenseExpression,
  render,
} from "./licenses.js";

describe("classifyLicense", () => {
  const cases: { text: string; want: ReturnType<typeof classifyLicense>["kind"]; value: string }[] = [
    // known identifiers, canonical case
    { text: "MIT", want: "id", value: "MIT" },
    { text: "mit", want: "id", value: "MIT" },
    { text: " Apache-2.0 ", want: "id", value: "Apache-2.0" },
    { text: "bsd-3-clause", want: "id", value: "BSD-3-Clause" },
    { text: "GPL-2.0-only", want: "id", value: "GPL-2.0-only" },
    // deprecated ids are still ids, "GPL-2.0+" included (it is itself on the list)
    { text: "GPL-2.0", want: "id", value: "GPL-2.0" },
    { text: "GPL-2.0+", want: "id", value: "GPL-2.0+" },
    { text: "LGPL-2.1+", want: "id", value: "LGPL-2.1+" },
    // expressions
    { text: "MIT OR Apache-2.0", want: "expression", value: "MIT OR Apache-2.0" },
    { text: "(MIT OR Apache-2.0)", want: "expression", value: "MIT OR Apache-2.0" },
    { text: "mit or apache-2.0", want: "expression", value: "MIT OR Apache-2.0" },
    { text: "GPL-2.0-only AND LGPL-2.1+", want: "expression", value: "GPL-2.0-only AND LGPL-2.1+" },
    { text: "(MIT AND BSD-2-Clause) OR ISC", want: "expression", value: "MIT AND BSD-2-Clause OR ISC" },
    { text: "MIT AND (BSD-2-Clause OR ISC)", want: "expression", value: "MIT AND (BSD-2-Clause OR ISC)" },
    { text: "Apache-2.0+", want: "expression", value: "Apache-2.0+" },
    {
      text: "GPL-2.0-only WITH Classpath-exception-2.0",
      want: "expression",
      value: "GPL-2.0-only WITH Classpath-exception-2.0",
    },
    {
      text: "gpl-3.0-or-later with gcc-exception-3.1",
      want: "expression",
      value: "GPL-3.0-or-later WITH GCC-exception-3.1",
    },
    { text: "LicenseRef-Proprietary", want: "expression", value: "LicenseRef-Proprietary" },
    // free text and unknown identifiers
    { text: "Apache License, Version 2.0", want: "name", value: "Apache License, Version 2.0" },
    { text: "SEE LICENSE IN LICENSE.md", want: "name", value: "SEE LICENSE IN LICENSE.md" },
    { text: "BSD", want: "name", value: "BSD" },
    { text: "GPL-2+", want: "name", value: "GPL-2+" },
    { text: "Public Domain", want: "name", value: "Public Domain" },
    { text: "MIT OR Foo-1.0", want: "name", value: "MIT OR Foo-1.0" },
    {
      text: "GPL-2.0-only WITH No-Such-exception",
      want: "name",
      value: "GPL-2.0-only WITH No-Such-exception",
    },
    { text: "MIT And Apache-2.0", want: "name", value: "MIT And Apache-2.0" },
    { text: "MIT AND", want: "name", value: "MIT AND" },
    { text: "(MIT", want: "name", value: "(MIT" },
    { text: "MIT)", want: "name", value: "MIT)" },
    { text: "WITH", want: "name", value: "WITH" },
    { text: "MIT\u001b[31m", want: "name", value: "MIT\u001b[31m" },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.text)} → ${c.want} ${c.value}`, () => {
      const got = classifyLicense(c.text);
      assert.equal(got.kind, c.want);
      const value = got.kind === "id" ? got.id : got.kind === "expression" ? got.expression : got.name;
      assert.equal(value, c.value);
    });
  }
});

describe("parseLicenseExpression", () => {
  test("precedence: WITH binds tighter than AND, AND tighter than OR", () => {
    const node = parseLicenseExpression("MIT OR GPL-2.0-only WITH Classpath-exception-2.0 AND ISC");
    assert.deepEqual(node, {
      kind: "or",
      left: { kind: "license", id: "MIT", plus: false },
      right: {
        kind: "and",
        left: {
          kind: "with",
          license: { kind: "license", id: "GPL-2.0-only", plus: false },
          exception: "Classpath-exception-2.0",
        },
        right: { kind: "license", id: "ISC", plus: false },
      },
    });
  });

  test("render keeps the meaning with the fewest parentheses", () => {
    for (const [input, want] of [
      ["((MIT))", "MIT"],
      ["(MIT OR ISC) AND (Zlib OR BSD-3-Clause)", "(MIT OR ISC) AND (Zlib OR BSD-3-Clause)"],
      ["MIT AND ISC OR Zlib", "MIT AND ISC OR Zlib"],
      ["MIT OR (ISC OR Zlib)", "MIT OR ISC OR Zlib"],
      [
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
      ],
    ] as const) {
      const node = parseLicenseExpression(input);
      assert.ok(node, input);
      assert.equal(render(node), want);
      // and what is rendered parses back to the same tree
      assert.deepEqual(parseLicenseExpression(render(node)), parseLicenseExpression(want));
    }
  });

  test("unknown identifiers are kept for the caller to map", () => {
    const node = parseLicenseExpression("MIT OR Custom-1.0");
    assert.ok(node);
    assert.equal(
      render(node, (t) => `LicenseRef-${t}`),
      "MIT OR LicenseRef-Custom-1.0",
    );
  });

  test("empty and garbage are not expressions", () => {
    for (const text of ["", "   ", "MIT,Apache-2.0", "MIT/ISC", "MIT OR OR ISC", "+", "()"]) {
      assert.equal(parseLicenseExpression(text), undefined, JSON.stringify(text));
    }
  });
});

test("knownLicenseId is case-insensitive and returns the canonical spelling", () => {
  assert.equal(knownLicenseId("apache-2.0"), "Apache-2.0");
  assert.equal(knownLicenseId("ZLIB"), "Zlib");
  assert.equal(knownLicenseId("NotALicense"), undefined);
});

test("cleanLicenses trims, drops empties and exact duplicates, keeps order", () => {
  assert.deepEqual(cleanLicenses([" MIT", "", "  ", "ISC", "MIT", "mit"]), ["MIT", "ISC", "mit"]);
  assert.deepEqual(cleanLicenses(undefined), []);
});
