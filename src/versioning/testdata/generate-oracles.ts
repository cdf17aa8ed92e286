/**
 * Regenerates the oracle tables beside this file from the package managers themselves:
 *
 *   node --import tsx src/versioning/testdata/generate-oracles.ts
 *
 * - dpkg-compare.tsv, dpkg-validity.tsv: `dpkg --compare-versions` (needs dpkg);
 * - rpm-compare.tsv: rpm's Lua `rpm.vercmp` (rpmverCmp; needs rpm, `apt-get install rpm`).
 * Inputs: hand-picked tricky versions (all pairs), rpm's own tests/rpmvercmp.at pairs, realistic
 * distribution versions, and seeded random versions built from the characters that matter.
 * The tests check the implementations against these tables, and against the tools again when present.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  dpkgCompare,
  dpkgValidity,
  hasCommand,
  prng,
  rpmCompare,
  toolVersion,
  writeTable,
} from "./oracles.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Policy-valid Debian versions chosen for their edge cases; every pair of them is tabled. */
export const DPKG_CURATED = [
  "0",
  "00",
  "0:0",
  "0.0.0",
  "1.0",
  "0:1.0",
  "1.0-0",
  "1.0.0",
  "1.0~",
  "1.0~~",
  "1.0~~a",
  "1.0~a",
  "1.0~b",
  "1.0~rc1",
  "1.0~rc1-1",
  "1.0~rc2",
  "1.0+",
  "1.0.",
  "1.0a",
  "1.0aa",
  "1.0A",
  "1.0Z",
  "1.0z",
  "1.0.a",
  "1.0+a",
  "1.0a1",
  "1.01",
  "1.1",
  "1.0001",
  "1.0+b1",
  "1.0-1",
  "1.0-1+b1",
  "1.0-1.1",
  "1.0-1+deb12u1",
  "1.0-1~bpo12+1",
  "1.0-1ubuntu1",
  "1.0-1ubuntu0.1",
  "1.0-1build1",
  "1.0-9",
  "1.0-10",
  "1.0+dfsg-1",
  "1.0+dfsg1-1",
  "1.0~dfsg-1",
  "1:0.1",
  "1:1.0",
  "1:1.0-1",
  "2:0",
  "2.0",
  "9",
  "10",
  "2.36-9",
  "2.36-9+deb12u9",
  "2.36-9+deb12u14",
  "7.88.1-10+deb12u5",
  "3.0.11-1~deb12u2",
  "252.22-1~deb12u1",
  "1:9.18.24-1",
  "6.1.0-18",
  "6.1.0-18-amd64",
  "1.2-3-4",
  "1.2-3-4~1",
  "1:1.2:3-1",
  "1:1.2:3",
  "20230311",
  "20230311.1",
  "1.2+git20230101.abcdef-1",
  "1.99999999999999999999999",
  "1.100000000000000000000000",
  "2147483647:1",
];

/** Versions dpkg accepts with a warning only (not Policy), for the lenient mode. */
export const DPKG_LENIENT = [
  "a",
  "abc",
  "v1.2",
  "1.0_1",
  "1.0_1-1",
  "~1",
  "+1",
  ".1",
  "1.0-1_2",
  "1.0-a:b",
  "1:a",
  "1.0#1",
  "1.0!",
  "1.0=",
  "1.0/2",
  "1.0@",
  "1.0-1%",
];

/** Versions whose validity dpkg decides (ok / warn / error), on top of all the compared ones. */
export const DPKG_VALIDITY = [
  "1",
  "1.0-",
  "-1",
  ":1.0",
  "1:",
  "1:-1",
  "a:1.0",
  "1.0:1",
  "1.0-1:2",
  "-1:1.0",
  "2147483648:1",
  "99999999999:1",
  "0001:1.0",
  "1.0--1",
  "1.0-1-",
  "1:1:1",
  "1.0 1",
];

/** rpm's own test pairs (rpm tests/rpmvercmp.at), tabled with rpm's answer. */
export const RPMVERCMP_AT: [string, string][] = [
  ["1.0", "1.0"],
  ["1.0", "2.0"],
  ["2.0.1", "2.0"],
  ["2.0.1a", "2.0.1"],
  ["5.5p1", "5.5p2"],
  ["5.5p1", "5.5p10"],
  ["10xyz", "10.1xyz"],
  ["xyz10", "xyz10.1"],
  ["xyz.4", "8"],
  ["xyz.4", "2"],
  ["5.5p2", "5.6p1"],
  ["5.6p1", "6.5p1"],
  ["6.0.rc1", "6.0"],
  ["10b2", "10a1"],
  ["10a2", "10b2"],
  ["1.0a", "1.0aa"],
  ["10.0001", "10.1"],
  ["10.0001", "10.0039"],
  ["4.999.9", "5.0"],
  ["20101121", "20101122"],
  ["2_0", "2.0"],
  ["a", "a"],
  ["a+", "a_"],
  ["+a", "_a"],
  ["+_", "_+"],
  ["+", "_"],
  ["1.0~rc1", "1.0"],
  ["1.0~rc1", "1.0~rc2"],
  ["1.0~rc1~git123", "1.0~rc1"],
  ["1.0^", "1.0"],
  ["1.0^git1", "1.0"],
  ["1.0^git1", "1.0^git2"],
  ["1.0^git1", "1.01"],
  ["1.0^20160101", "1.0.1"],
  ["1.0^20160102", "1.0^20160101^git1"],
  ["1.0~rc1^git1", "1.0~rc1"],
  ["1.0^git1", "1.0^git1~pre"],
  ["1b.fc17", "1.fc17"],
  ["1g.fc17", "1.fc17"],
];

/** EVRs chosen for their edge cases (and realistic distribution EVRs); every pair is tabled. */
export const RPM_CURATED = [
  "0",
  "1.0",
  "0:1.0",
  "1:1.0",
  "01:1.0",
  "2:0.1-1",
  "1:1.0-1",
  "1.0-1",
  "1.0-0",
  "1.0-1.0",
  "1.0-1.1",
  "1.0-1.01",
  "1.0-1_1",
  "1.0-1.el8",
  "1.0-1.el8_9",
  "1.0-1.el8_10",
  "1.0-2.fc39",
  "1.0-0.1.rc1",
  "1.0-1~rc1",
  "1.0-1^post",
  "1.0~rc1",
  "1.0~rc1-1",
  "1.0~",
  "1.0~~",
  "1.0^",
  "1.0^git1",
  "1.0^git1~pre",
  "1.0~rc1^git2",
  "1.0.1",
  "1.0.",
  "1.0a",
  "1.0.a",
  "1.0_a",
  "1.0+a",
  "1.0A",
  "1.0Z",
  "1.01",
  "1.1",
  "5.5p1",
  "5.5p10",
  "10.0001",
  "10.1",
  "2.0.1a",
  "1.fc17",
  "1b.fc17",
  "1g.fc17",
  "xyz.4",
  "8",
  "20101121",
  "0.99999999999999999999",
  "0.100000000000000000000",
  "3.10.0-1160.el7",
  "3.10.0-1160.105.1.el7",
  "4.18.0-513.5.1.el8_9",
  "4.18.0-513.11.1.el8_9",
  "1.1.1k-9.el8_7",
  "1:1.1.1k-12.el8_9",
  "1:3.0.7-27.el9",
  "2.28-225.el8",
  "2.28-225.el8_8.6",
  "4.4.20-4.el8_6",
  "1.2.3+git.20230101",
  "7.76.1-29.el9_4",
  "8.0.1-1.amzn2023.0.1",
  "1.0.2k-24.amzn2.0.7",
  "3.0.8-150500.5.8.1",
  "4294967295:1",
];

const DPKG_TOKENS = [
  "0",
  "1",
  "2",
  "9",
  "01",
  "10",
  "00",
  "123",
  "99999999999999999999",
  "a",
  "b",
  "z",
  "A",
  "Z",
  "rc",
  "~",
  "~",
  "+",
  "+",
  ".",
  ".",
  "-",
  "-",
  ":",
  "~~",
];

const RPM_TOKENS = [
  "0",
  "1",
  "2",
  "9",
  "01",
  "10",
  "00",
  "123",
  "99999999999999999999",
  "a",
  "b",
  "z",
  "A",
  "Z",
  "rc",
  "git",
  "~",
  "~",
  "^",
  "^",
  "+",
  ".",
  ".",
  "_",
  "-",
  ":",
];

function synthetic(tokens: string[], count: number, seed: number, start: string[]): [string, string][] {
  const rnd = prng(seed);
  const pick = () => tokens[rnd(tokens.length)] as string;
  const gen = () => {
    let s = start[rnd(start.length)] as string;
    const n = 1 + rnd(6);
    for (let i = 0; i < n; i++) s += pick();
    if (rnd(4) === 0) s = `${rnd(3)}:${s}`;
    return s;
  };
  const out: [string, string][] = [];
  while (out.length < count) {
    const a = gen();
    out.push([a, rnd(6) === 0 ? a : gen()]);
  }
  return out;
}

function allPairs(xs: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < xs.length; i++)
    for (let j = i + 1; j < xs.length; j++) out.push([xs[i] as string, xs[j] as string]);
  return out;
}

async function generateDpkg(): Promise<void> {
  const pairs: [string, string][] = [
    ...allPairs(DPKG_CURATED),
    ...DPKG_LENIENT.flatMap((v, i) => [
      [v, "1.0"] as [string, string],
      [v, DPKG_LENIENT[(i + 1) % DPKG_LENIENT.length] as string] as [string, string],
      [v, v] as [string, string],
    ]),
    ...synthetic(DPKG_TOKENS, 600, 1, ["0", "1", "2", "10"]),
  ];
  const results = await dpkgCompare(pairs);
  const version = toolVersion("dpkg");
  writeTable(
    path.join(here, "dpkg-compare.tsv"),
    [
      `Generated by generate-oracles.ts with \`dpkg --compare-versions\` (${version}).`,
      "a, b, dpkg's order of a against b (-1, 0, 1) or error (dpkg refuses a or b)",
    ],
    pairs.map(([a, b], i) => [a, b, String(results[i])]),
  );
  const versions = [...new Set([...pairs.flat(), ...DPKG_VALIDITY])];
  const validity = await dpkgValidity(versions);
  writeTable(
    path.join(here, "dpkg-validity.tsv"),
    [
      `Generated by generate-oracles.ts with \`dpkg --compare-versions v eq v\` (${version}).`,
      "version, ok (accepted) / warn (accepted with a warning) / error (refused)",
    ],
    versions.map((v, i) => [v, validity[i] as string]),
  );
  console.log(`dpkg: ${pairs.length} pairs, ${versions.length} versions (${version})`);
}

function generateRpm(): void {
  const pairs: [string, string][] = [
    ...RPMVERCMP_AT,
    ...allPairs(RPM_CURATED),
    ...synthetic(RPM_TOKENS, 1000, 2, ["0", "1", "2", "10", "a", "", "_"]),
  ];
  const results = rpmCompare(pairs);
  const version = toolVersion("rpm");
  writeTable(
    path.join(here, "rpm-compare.tsv"),
    [
      `Generated by generate-oracles.ts with rpm's Lua rpm.vercmp (${version}).`,
      "a, b, rpm's order of a against b (-1, 0, 1) or error (rpm refuses a or b)",
    ],
    pairs.map(([a, b], i) => [a, b, String(results[i])]),
  );
  console.log(`rpm: ${pairs.length} pairs (${version})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (hasCommand("dpkg")) await generateDpkg();
  else console.error("dpkg not found: dpkg tables left as they are");
  if (hasCommand("rpm")) generateRpm();
  else console.error("rpm not found (apt-get install rpm): rpm table left as it is");
}
