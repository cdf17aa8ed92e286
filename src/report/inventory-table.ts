/**
 * The human summary of an inventory (`--format table`): the image, one line per ecosystem, then every
 * package grouped by ecosystem in aligned columns. Text from the image (package names, versions,
 * paths) is printed with control characters escaped, so an image cannot move the cursor or recolour
 * the terminal; `color` only makes the headings bold.
 */
import type { ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";
import {
  escapeControls as clean,
  compareEcosystems,
  compareStrings,
  platformOf,
  sortPackages,
} from "./common.js";

export interface TableOptions {
  /** ANSI bold on headings and column headers (nothing else is coloured). */
  color?: boolean | undefined;
}

/** How many locations the summary names per ecosystem before "+N more". */
const SUMMARY_LOCATIONS = 3;

export function formatInventoryTable(
  image: ImageIdentity,
  inventory: ImageInventory,
  options: TableOptions = {},
): string {
  const bold = (s: string) => (options.color ? `\x1b[1m${s}\x1b[0m` : s);
  const lines: string[] = [];

  const os = inventory.os;
  const osText = os
    ? (os.prettyName ?? [os.id, os.versionId].filter(Boolean).join(" "))
    : "unknown (no os-release found)";
  const header: [string, string][] = [
    ["Image", image.name],
    ["Digest", image.digest],
  ];
  if (image.indexDigest) header.push(["Index", image.indexDigest]);
  header.push(
    ["Platform", platformOf(image)],
    ["OS", osText],
    ["Layers", String(image.layers.length)],
    ["Packages", String(inventory.packages.length)],
  );
  const labelWidth = Math.max(...header.map(([k]) => k.length + 1));
  for (const [k, v] of header) lines.push(`${bold(`${k}:`.padEnd(labelWidth))} ${clean(v)}`);

  const groups = groupByEcosystem(inventory.packages);
  if (groups.length === 0) {
    lines.push("", "No packages found.");
  } else {
    lines.push("");
    const summary = groups.map(([ecosystem, pkgs]) => [ecosystem, String(pkgs.length), foundIn(pkgs)]);
    lines.push(...table(["ECOSYSTEM", "PACKAGES", "FOUND IN"], summary, bold, new Set([1])));

    const rows: string[][] = [];
    const sections: { title: string; start: number }[] = [];
    for (const [ecosystem, pkgs] of groups) {
      sections.push({ title: `${ecosystem} (${pkgs.length})`, start: rows.length });
      for (const p of pkgs) rows.push([p.name, p.version, sourceText(p), String(p.layer.index), p.location]);
    }
    // One width per column over all groups, so the sections line up as one table.
    const columns = ["NAME", "VERSION", "SOURCE", "LAYER", "LOCATION"];
    const rendered = table(columns, rows, bold, new Set([3]));
    const [head, ...body] = rendered;
    for (let s = 0; s < sections.length; s++) {
      const section = sections[s] as { title: string; start: number };
      const end = sections[s + 1]?.start ?? rows.length;
      lines.push("", bold(clean(section.title)), head as string, ...body.slice(section.start, end));
    }
  }

  if (inventory.warnings.length > 0) {
    lines.push("", bold(`Warnings (${inventory.warnings.length}):`));
    for (const w of inventory.warnings) lines.push(`  - ${clean(w)}`);
  }
  return `${lines.join("\n")}\n`;
}

function groupByEcosystem(packages: readonly InventoriedPackage[]): [string, InventoriedPackage[]][] {
  const groups = new Map<string, InventoriedPackage[]>();
  for (const p of sortPackages(packages)) {
    const list = groups.get(p.ecosystem) ?? [];
    list.push(p);
    groups.set(p.ecosystem, list);
  }
  return [...groups].sort(([a], [b]) => compareEcosystems(a, b));
}

/** Directories holding one package per folder: their files are summarised as the directory. */
const PACKAGE_DIRS: Record<string, string[]> = {
  npm: ["node_modules"],
  pypi: ["site-packages", "dist-packages"],
  gem: ["specifications"],
};

/**
 * Where an ecosystem's packages were found: distinct locations, files under a package directory
 * (`app/node_modules/`) folded into it with their count, at most SUMMARY_LOCATIONS named.
 */
function foundIn(pkgs: InventoriedPackage[]): string {
  const files = new Map<string, Set<string>>();
  for (const p of pkgs) {
    const segments = p.location.split("/");
    const dirs = PACKAGE_DIRS[p.ecosystem] ?? [];
    const at = segments.findIndex((s, i) => i < segments.length - 1 && dirs.includes(s));
    const place = at >= 0 ? `${segments.slice(0, at + 1).join("/")}/` : p.location;
    const set = files.get(place) ?? new Set<string>();
    set.add(p.location);
    files.set(place, set);
  }
  const places = [...files]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([place, set]) =>
      place.endsWith("/") ? `${place} (${set.size} ${set.size === 1 ? "file" : "files"})` : place,
    );
  const more = places.length - SUMMARY_LOCATIONS;
  return places.slice(0, SUMMARY_LOCATIONS).join(", ") + (more > 0 ? ` (+${more} more)` : "");
}

function sourceText(p: InventoriedPackage): string {
  if (!p.source) return "-";
  return [p.source.name, p.source.version].filter(Boolean).join(" ");
}

/**
 * Header and rows with every column padded to its widest cell (the last column is not padded, so
 * lines carry no trailing blanks); columns in `right` are right-aligned. Cells are cleaned first, so
 * widths are those of what is printed.
 */
function table(
  headers: string[],
  rows: string[][],
  bold: (s: string) => string,
  right: ReadonlySet<number> = new Set(),
): string[] {
  const cleaned = rows.map((r) => r.map(clean));
  const widths = headers.map((h, i) => Math.max(h.length, ...cleaned.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const width = widths[i] as number;
        if (right.has(i)) return c.padStart(width);
        return i === cells.length - 1 ? c : c.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [bold(line(headers)), ...cleaned.map(line)];
}
