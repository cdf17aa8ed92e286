/**
 * Inventory accuracy against Trivy: for every testbed image (alpine-multi on each platform, one team
 * image per base, and big:jdk when it has been built), shipshape's inventory (the Analyzer with
 * allExtractors, as `shipshape sbom` runs it, no cache) and Trivy's CycloneDX for the same image from
 * the same registry, both reduced to sets of (ecosystem, name, version); per image and ecosystem:
 * found by both, by shipshape only, by Trivy only, the differing packages listed with where each tool
 * found them. Not a timing benchmark (see bench/inventory.ts); `--rounds` is ignored.
 *
 * Normalisation: the ecosystem is shipshape's (purl types; "node" for the Node.js runtime) and Trivy's
 * purl type (pkg:generic/node → node); names are the purl's namespace and name joined as the
 * ecosystem writes them (npm `@scope/name`, Go module paths, Maven `groupId:artifactId`, PyPI
 * PEP 503); versions are shipshape's, and Trivy's component version with the purl's epoch
 * qualifier put back in front (`1:2.38.1-5`) for deb and rpm.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PackageURL } from "packageurl-js";
import { openImage } from "../src/image/open.js";
import { parsePlatformString } from "../src/image/platform.js";
import { Analyzer } from "../src/inventory/analyzer.js";
import type { Extractor } from "../src/inventory/extractor.js";
import { allExtractors } from "../src/inventory/extractors/index.js";
import { RegistryClient } from "../src/registry/client.js";
import { type RunningRegistry, startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { runProcess } from "./lib/proc.js";
import { formatMs } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";
import {
  type BigRegistry,
  collectImages,
  type PulledImage,
  resolveBig,
  startBigRegistry,
} from "./lib/testbed-images.js";
import { TRIVY, trivyImageArgs, trivyVersion } from "./lib/trivy.js";

export const description = "inventory accuracy: shipshape vs Trivy, per image and ecosystem";

export const options = {
  "no-big": { type: "boolean", default: false },
  /**
   * Comma-separated extractor modules (src/inventory/extractors/<name>.ts) to run besides
   * allExtractors: extractors written but not registered yet, to see what they would change.
   */
  "with-extractors": { type: "string", default: "" },
} as const;

/** The extractors to run: allExtractors, plus the named modules' exported extractors not among them. */
async function extractorsFor(extra: string): Promise<{ extractors: Extractor[]; added: string[] }> {
  const extractors = [...allExtractors];
  const added: string[] = [];
  for (const name of extra.split(",").filter(Boolean)) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`--with-extractors: bad module name ${name}`);
    const mod = (await import(`../src/inventory/extractors/${name}.js`)) as Record<string, unknown>;
    const found = Object.values(mod).filter(
      (v): v is Extractor =>
        typeof v === "object" && v !== null && "wants" in v && "extract" in v && "name" in v,
    );
    if (found.length === 0) throw new Error(`src/inventory/extractors/${name}.ts exports no extractor`);
    for (const e of found) {
      if (extractors.some((x) => x.name === e.name)) continue;
      extractors.push(e);
      added.push(e.name);
    }
  }
  return { extractors, added };
}

/** One package as found by one tool, normalised. */
export interface Found {
  ecosystem: string;
  name: string;
  version: string;
  /** Where the tool found it: a file, or the OS package database. */
  where: string;
  /** diff_id of the layer the tool attributes it to. */
  layer?: string | undefined;
}

interface CdxComponent {
  type?: string;
  name?: string;
  group?: string;
  version?: string;
  purl?: string;
  properties?: { name: string; value: string }[];
}

const pep503 = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/** Name as the ecosystem writes it, from a parsed purl. */
function nameFromPurl(ecosystem: string, purl: PackageURL): string {
  const ns = purl.namespace;
  switch (ecosystem) {
    case "maven":
      return ns ? `${ns}:${purl.name}` : purl.name;
    case "npm":
    case "golang":
    case "composer":
      return ns ? `${ns}/${purl.name}` : purl.name;
    case "pypi":
      return pep503(purl.name);
    default:
      return purl.name;
  }
}

function parse(purl: string | undefined): PackageURL | undefined {
  if (!purl) return undefined;
  try {
    return PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
}

/** The ecosystem of a Trivy purl type, in shipshape's names. */
function trivyEcosystem(purl: PackageURL): string {
  if (purl.type === "generic" && purl.name === "node") return "node";
  return purl.type;
}

/** Trivy's CycloneDX components that are packages (the image, OS and application targets have no purl). */
export function trivyPackages(bom: { components?: CdxComponent[] }): Found[] {
  const out: Found[] = [];
  for (const c of bom.components ?? []) {
    const purl = parse(c.purl);
    if (!purl) continue;
    const ecosystem = trivyEcosystem(purl);
    const prop = (n: string) => c.properties?.find((p) => p.name === `aquasecurity:trivy:${n}`)?.value;
    const epoch = purl.qualifiers?.epoch;
    let version = c.version ?? purl.version ?? "";
    if (epoch && epoch !== "0" && (ecosystem === "deb" || ecosystem === "rpm"))
      version = `${epoch}:${version}`;
    out.push({
      ecosystem,
      name: nameFromPurl(ecosystem, purl),
      version,
      where: prop("FilePath") ?? `${prop("PkgType") ?? ecosystem} database`,
      layer: prop("LayerDiffID"),
    });
  }
  return out;
}

/** shipshape's packages, normalised like Trivy's. */
export function shipshapePackages(
  packages: readonly {
    ecosystem: string;
    name: string;
    version: string;
    purl: string;
    location: string;
    layer: { index: number };
  }[],
  diffIds: readonly string[],
): Found[] {
  return packages.map((p) => {
    const purl = parse(p.purl);
    const name = purl && purl.type === p.ecosystem ? nameFromPurl(p.ecosystem, purl) : p.name;
    return {
      ecosystem: p.ecosystem,
      name,
      version: p.version,
      where: p.location,
      layer: diffIds[p.layer.index],
    };
  });
}

const keyOf = (f: Found) => `${f.ecosystem}\0${f.name}\0${f.version}`;
const label = (f: { name: string; version: string }) => `${f.name}@${f.version || "(no version)"}`;

interface Entry {
  found: Found;
  where: string[];
  layers: Set<string>;
}

interface Side {
  /** Distinct packages by key, with every place the tool found each. */
  byKey: Map<string, Entry>;
  /** Occurrences, counting a package found in several files once per file. */
  occurrences: number;
}

function side(found: Found[]): Side {
  const byKey = new Map<string, Entry>();
  for (const f of found) {
    let entry = byKey.get(keyOf(f));
    if (!entry) {
      entry = { found: f, where: [], layers: new Set() };
      byKey.set(keyOf(f), entry);
    }
    entry.where.push(f.where);
    if (f.layer) entry.layers.add(f.layer);
  }
  return { byKey, occurrences: found.length };
}

export interface EcosystemDiff {
  ecosystem: string;
  both: number;
  shipshapeOnly: { name: string; version: string; where: string[] }[];
  trivyOnly: { name: string; version: string; where: string[] }[];
  /** Packages one of the tools lists more than once (found in several files). */
  duplicates: { tool: "shipshape" | "trivy"; name: string; version: string; where: string[] }[];
  /** Found by both, attributed to different layers (diff_ids). */
  layerDiffers: { name: string; version: string; shipshape: string[]; trivy: string[] }[];
}

export function compare(ours: Found[], theirs: Found[]): EcosystemDiff[] {
  const a = side(ours);
  const b = side(theirs);
  const ecosystems = [...new Set([...a.byKey.values(), ...b.byKey.values()].map((e) => e.found.ecosystem))];
  return ecosystems.sort().map((ecosystem) => {
    const inEco = (s: Side) => [...s.byKey].filter(([, e]) => e.found.ecosystem === ecosystem);
    const only = (x: Side, y: Side) =>
      inEco(x)
        .filter(([k]) => !y.byKey.has(k))
        .map(([, e]) => ({ name: e.found.name, version: e.found.version, where: e.where }))
        .sort((p, q) => (p.name < q.name ? -1 : p.name > q.name ? 1 : 0));
    const dups = (tool: "shipshape" | "trivy", s: Side) =>
      inEco(s)
        .filter(([, e]) => e.where.length > 1)
        .map(([, e]) => ({ tool, name: e.found.name, version: e.found.version, where: e.where }));
    const layerDiffers = inEco(a).flatMap(([k, e]) => {
      const other = b.byKey.get(k);
      if (!other || other.layers.size === 0) return [];
      const [x, y] = [[...e.layers].sort(), [...other.layers].sort()];
      return x.join() === y.join()
        ? []
        : [{ name: e.found.name, version: e.found.version, shipshape: x, trivy: y }];
    });
    return {
      ecosystem,
      both: inEco(a).filter(([k]) => b.byKey.has(k)).length,
      layerDiffers,
      shipshapeOnly: only(a, b),
      trivyOnly: only(b, a),
      duplicates: [...dups("shipshape", a), ...dups("trivy", b)],
    };
  });
}

interface ImageComparison {
  image: string;
  platform: string;
  digest: string;
  note?: string | undefined;
  shipshape: { packages: number; distinct: number; ms: number; warnings: string[] };
  trivy: { packages: number; distinct: number; ms: number };
  ecosystems: EcosystemDiff[];
}

async function compareImage(
  image: PulledImage,
  host: string,
  multiPlatform: boolean,
  trivyCache: string,
  workDir: string,
  extractors: Extractor[],
): Promise<ImageComparison> {
  const reference = `${host}/${image.name}`;
  const platform = multiPlatform ? image.platform : undefined;

  let started = performance.now();
  const source = await openImage(reference, {
    insecure: true,
    platform: platform ? parsePlatformString(platform) : undefined,
  });
  let inventory: Awaited<ReturnType<Analyzer["analyze"]>>["inventory"];
  try {
    ({ inventory } = await new Analyzer({ extractors }).analyze(source));
  } finally {
    await source.close();
  }
  if (source.identity.digest !== image.digest)
    throw new Error(`shipshape read ${source.identity.digest} for ${reference}, expected ${image.digest}`);
  const shipshapeMs = performance.now() - started;

  const output = path.join(
    workDir,
    `${image.name.replace(/[/:]/g, "_")}-${image.platform.replace(/\//g, "_")}.cdx.json`,
  );
  started = performance.now();
  await runProcess(TRIVY, trivyImageArgs({ reference, cacheDir: trivyCache, output, platform }));
  const trivyMs = performance.now() - started;
  const bom = JSON.parse(await readFile(output, "utf8")) as {
    metadata?: { component?: { properties?: { name: string; value: string }[] } };
    components?: CdxComponent[];
  };
  // The config digest tells which platform Trivy read (RepoDigest names the index for alpine-multi).
  const trivyImageId = bom.metadata?.component?.properties?.find(
    (p) => p.name === "aquasecurity:trivy:ImageID",
  )?.value;
  if (trivyImageId && trivyImageId !== image.config.digest)
    throw new Error(`Trivy read config ${trivyImageId} for ${reference}, expected ${image.config.digest}`);

  const ours = shipshapePackages(
    inventory.packages,
    source.identity.layers.map((l) => l.diffId),
  );
  const theirs = trivyPackages(bom);
  return {
    image: image.name,
    platform: image.platform,
    digest: image.digest,
    note: image.note,
    shipshape: {
      packages: ours.length,
      distinct: new Set(ours.map(keyOf)).size,
      ms: shipshapeMs,
      warnings: inventory.warnings,
    },
    trivy: { packages: theirs.length, distinct: new Set(theirs.map(keyOf)).size, ms: trivyMs },
    ecosystems: compare(ours, theirs),
  };
}

// ---- the run ------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchResult> {
  ctx.progress("seeded storage (built once, minutes the first time)…");
  const registry: RunningRegistry = await startRegistry({
    storageDir: await ensureSeededStorage(),
    readOnly: true,
  });
  let big: BigRegistry | undefined;
  const workDir = await mkdtemp(path.join(os.tmpdir(), "shipshape-vs-trivy-"));
  try {
    const client = new RegistryClient({ registry: registry.url, insecure: true });
    let images: PulledImage[];
    try {
      images = await collectImages(client, registry.url);
    } finally {
      await client.close();
    }
    const targets = images.map((image) => ({ image, host: registry.host }));
    if (!ctx.options["no-big"]) {
      big = await startBigRegistry(ctx.progress);
      if (big) targets.push({ image: await resolveBig(big), host: big.registry.host });
      else ctx.progress("big:jdk not built (build-images.sh CACHE --big); left out");
    }
    const { extractors, added } = await extractorsFor(String(ctx.options["with-extractors"] ?? ""));
    const names = images.map((i) => i.name);
    const trivyCache = path.join(workDir, "trivy-cache");
    const results: ImageComparison[] = [];
    for (const { image, host } of targets) {
      ctx.progress(`${image.name} ${image.platform}…`);
      const multi = names.filter((n) => n === image.name).length > 1;
      results.push(await compareImage(image, host, multi, trivyCache, workDir, extractors));
    }
    return report(results, await trivyVersion(), big !== undefined, extractors, added);
  } finally {
    await big?.registry.stop();
    await registry.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

// ---- the report ---------------------------------------------------------------------------------------

function listDiffs(image: ImageComparison): string[] {
  const lines: string[] = [];
  const fmt = (list: { name: string; version: string; where: string[] }[]) =>
    list.map((p) => `      ${label(p)}  (${[...new Set(p.where)].join(", ")})`);
  for (const e of image.ecosystems) {
    // Same name, another version: worth naming as such rather than as two unrelated packages.
    const theirs = new Map(e.trivyOnly.map((p) => [p.name, p.version]));
    const versionPairs = e.shipshapeOnly.filter((p) => theirs.has(p.name));
    if (versionPairs.length > 0) {
      lines.push(`    ${e.ecosystem}, same name, other version (shipshape / Trivy):`);
      for (const p of versionPairs) lines.push(`      ${p.name}: ${p.version} / ${theirs.get(p.name)}`);
    }
    if (e.shipshapeOnly.length > 0) {
      lines.push(`    ${e.ecosystem}, shipshape only (${e.shipshapeOnly.length}):`, ...fmt(e.shipshapeOnly));
    }
    if (e.trivyOnly.length > 0) {
      lines.push(`    ${e.ecosystem}, Trivy only (${e.trivyOnly.length}):`, ...fmt(e.trivyOnly));
    }
    for (const d of e.layerDiffers) {
      const short = (ids: string[]) => ids.map((id) => id.slice(7, 19)).join(", ");
      lines.push(
        `    ${e.ecosystem}, other layer: ${label(d)}  shipshape ${short(d.shipshape)} / Trivy ${short(d.trivy)}`,
      );
    }
    for (const d of e.duplicates) {
      lines.push(
        `    ${e.ecosystem}, listed ${d.where.length}× by ${d.tool}: ${label(d)}  (${d.where.join(", ")})`,
      );
    }
  }
  return lines;
}

function report(
  results: ImageComparison[],
  trivy: string,
  bigIncluded: boolean,
  extractors: Extractor[],
  added: string[],
): BenchResult {
  const rows: string[][] = [];
  const totals = new Map<string, { both: number; ours: number; theirs: number }>();
  for (const r of results) {
    for (const e of r.ecosystems) {
      rows.push([
        `${r.image} ${r.platform}`,
        e.ecosystem,
        String(e.both),
        String(e.shipshapeOnly.length),
        String(e.trivyOnly.length),
      ]);
      const t = totals.get(e.ecosystem) ?? { both: 0, ours: 0, theirs: 0 };
      t.both += e.both;
      t.ours += e.shipshapeOnly.length;
      t.theirs += e.trivyOnly.length;
      totals.set(e.ecosystem, t);
    }
  }
  const imageTable = renderTable(
    [
      "image",
      "platform",
      "shipshape pkgs",
      "Trivy pkgs",
      "both",
      "shipshape only",
      "Trivy only",
      "other layer",
      "note",
    ],
    results.map((r) => {
      const sum = (f: (e: EcosystemDiff) => number) => r.ecosystems.reduce((n, e) => n + f(e), 0);
      return [
        r.image,
        r.platform,
        String(r.shipshape.distinct),
        String(r.trivy.distinct),
        String(sum((e) => e.both)),
        String(sum((e) => e.shipshapeOnly.length)),
        String(sum((e) => e.trivyOnly.length)),
        String(sum((e) => e.layerDiffers.length)),
        r.note ?? "",
      ];
    }),
    ["left", "left", "right", "right", "right", "right", "right", "right", "left"],
  );
  const ecoTable = renderTable(["image", "ecosystem", "both", "shipshape only", "Trivy only"], rows, [
    "left",
    "left",
    "right",
    "right",
    "right",
  ]);
  const totalTable = renderTable(
    ["ecosystem", "both", "shipshape only", "Trivy only"],
    [...totals].sort().map(([eco, t]) => [eco, String(t.both), String(t.ours), String(t.theirs)]),
  );
  const details = results.flatMap((r) => {
    const lines = listDiffs(r);
    return lines.length > 0 ? [`  ${r.image} ${r.platform}:`, ...lines] : [];
  });
  const warnings = results.flatMap((r) => r.shipshape.warnings.map((w) => `  ${r.image}: ${w}`));
  const text = [
    `Trivy ${trivy} (${path.relative(process.cwd(), TRIVY)}), --format cyclonedx, scanners off; shipshape:`,
    `Analyzer with allExtractors (${allExtractors.map((e) => e.name).join(", ")})${added.length > 0 ? `, plus unregistered ${added.join(", ")} (--with-extractors)` : ""}, no cache.`,
    `Distinct (ecosystem, name, version) per tool${bigIncluded ? "" : "; big:jdk not included"}:`,
    imageTable,
    "",
    "Per ecosystem:",
    ecoTable,
    "",
    "All images:",
    totalTable,
    "",
    details.length > 0 ? "Differences (where each tool found the package):" : "No differences.",
    ...details,
    ...(warnings.length > 0 ? ["", "shipshape warnings:", ...warnings] : []),
    "",
    `Times (one run each, for orientation only; see bench inventory): ${results
      .map((r) => `${r.image} ${formatMs(r.shipshape.ms)} / ${formatMs(r.trivy.ms)}`)
      .join(", ")}`,
  ].join("\n");
  return {
    text,
    json: {
      trivy: {
        version: trivy,
        binary: path.relative(process.cwd(), TRIVY),
        args: trivyImageArgs({ reference: "REF", cacheDir: "DIR", output: "FILE" }),
      },
      extractors: extractors.map((e) => ({
        name: e.name,
        version: e.version,
        registered: allExtractors.includes(e),
      })),
      images: results,
      totals: Object.fromEntries(totals),
    },
    missed: [],
  };
}

({ description, options, run }) satisfies BenchModule;
