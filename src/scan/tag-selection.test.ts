import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DiscoveredTag } from "../registry/providers/provider.js";
import { selectTags, type TagSelection, usesVersionPattern } from "./tag-selection.js";
import { VersionPatternError } from "./version-pattern.js";

const at = (iso: string) => new Date(iso);
const named = (...names: string[]): DiscoveredTag[] => names.map((tag) => ({ tag }));

interface Case {
  name: string;
  tags: DiscoveredTag[];
  selection: TagSelection;
  want: string[];
}

const dated: DiscoveredTag[] = [
  { tag: "old", pushedAt: at("2021-01-01T00:00:00Z") },
  { tag: "newest", pushedAt: at("2024-06-01T12:00:00Z") },
  { tag: "undated-a" },
  { tag: "middle", pushedAt: at("2023-03-03T03:03:03Z") },
  { tag: "undated-b" },
  { tag: "same-time-a", pushedAt: at("2022-02-02T00:00:00Z") },
  { tag: "same-time-b", pushedAt: at("2022-02-02T00:00:00Z") },
];

const cases: Case[] = [
  // the spec's example (6.5)
  {
    name: "spec example: *-%d.%d.%d, cap 2",
    tags: named("myimage-2.0.0", "myimage-3.0.0", "myimage-2.0.1"),
    selection: { versionPattern: "*-%d.%d.%d", cap: 2 },
    want: ["myimage-3.0.0", "myimage-2.0.1"],
  },
  {
    name: "versionPattern: non-matching tags are ignored, even with cap 0",
    tags: named("latest", "1.2.3", "1.10.0", "1.9.9", "nightly", "1.2"),
    selection: { versionPattern: "%d.%d.%d", cap: 0 },
    want: ["1.10.0", "1.9.9", "1.2.3"],
  },
  {
    name: "versionPattern: numeric, not lexical (10 > 9)",
    tags: named("v9", "v10", "v1", "v100"),
    selection: { versionPattern: "v%d", cap: 0 },
    want: ["v100", "v10", "v9", "v1"],
  },
  {
    name: "versionPattern: equal keys tie by name descending",
    tags: named("1.2", "1.02", "1.002"),
    selection: { versionPattern: "%d.%d", cap: 0 },
    want: ["1.2", "1.02", "1.002"],
  },
  {
    name: "versionPattern: the date orders before the version",
    tags: named("9.0-20230101", "1.0-20240101", "2.0-20240101"),
    selection: { versionPattern: "%d.%d-%Y%M%D", cap: 0 },
    want: ["2.0-20240101", "1.0-20240101", "9.0-20230101"],
  },
  {
    name: "versionPattern ignores pushedAt",
    tags: [
      { tag: "1.0.0", pushedAt: at("2024-01-01T00:00:00Z") },
      { tag: "2.0.0", pushedAt: at("2020-01-01T00:00:00Z") },
    ],
    selection: { versionPattern: "%d.%d.%d", cap: 1 },
    want: ["2.0.0"],
  },
  {
    name: "a blank versionPattern orders by time",
    tags: dated,
    selection: { versionPattern: "  ", cap: 1 },
    want: ["newest"],
  },
  // by time
  {
    name: "by time: newest first, same time by name descending, undated last",
    tags: dated,
    selection: { cap: 0 },
    want: ["newest", "middle", "same-time-b", "same-time-a", "old", "undated-b", "undated-a"],
  },
  {
    name: "by time: cap 3",
    tags: dated,
    selection: { cap: 3 },
    want: ["newest", "middle", "same-time-b"],
  },
  {
    name: "by time: a cap above the count keeps all",
    tags: dated.slice(0, 2),
    selection: { cap: 5 },
    want: ["newest", "old"],
  },
  {
    name: "by time: an invalid Date counts as no time",
    tags: [
      { tag: "broken", pushedAt: new Date(Number.NaN) },
      { tag: "dated", pushedAt: at("2001-01-01T00:00:00Z") },
    ],
    selection: { cap: 0 },
    want: ["dated", "broken"],
  },
  {
    name: "by time: no times at all is name descending",
    tags: named("a", "c", "b"),
    selection: { cap: 0 },
    want: ["c", "b", "a"],
  },
  // patterns before ordering and capping
  {
    name: "tag pattern and exclusions apply before the cap",
    tags: dated,
    selection: { tag: "*e*", excludedTags: ["newest", "same-*"], cap: 2 },
    want: ["middle", "undated-b"],
  },
  {
    name: "exclusions apply before the versionPattern cap",
    tags: named("3.0.0-rc1", "3.0.0", "2.9.0"),
    selection: { versionPattern: "%d.%d.%d*", excludedTags: ["*-rc*"], cap: 1 },
    want: ["3.0.0"],
  },
  {
    name: "no tags",
    tags: [],
    selection: { cap: 5 },
    want: [],
  },
];

describe("selectTags (spec 6.2 steps 2–3, 6.4, 6.5)", () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(
        selectTags(c.tags, c.selection).map((t) => t.tag),
        c.want,
      );
    });
  }

  test("the selected entries are the discovered ones, digest and time kept", () => {
    const tag: DiscoveredTag = { tag: "1.0", digest: "sha256:abc", pushedAt: at("2024-01-01T00:00:00Z") };
    assert.equal(selectTags([tag], { cap: 1 })[0], tag);
  });

  test("an invalid versionPattern is a VersionPatternError", () => {
    assert.throws(() => selectTags(named("1"), { versionPattern: "%q", cap: 0 }), VersionPatternError);
  });

  for (const cap of [-1, 1.5, Number.NaN]) {
    test(`cap ${cap} is refused`, () => {
      assert.throws(() => selectTags(named("1"), { cap }), RangeError);
    });
  }
});

describe("usesVersionPattern", () => {
  const table: [string | undefined, boolean][] = [
    [undefined, false],
    ["", false],
    [" ", false],
    ["%d", true],
  ];
  for (const [pattern, want] of table) {
    test(JSON.stringify(pattern), () => assert.equal(usesVersionPattern(pattern), want));
  }
});
