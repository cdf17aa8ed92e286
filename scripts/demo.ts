/**
 * The quick-start demo: the console's main job on the embedded default, driven through its REST API
 * as a Prisma Cloud Compute client would. It serves the testbed images (built once and cached) from
 * Debian's docker-registry on 127.0.0.1, starts `shipshape console` (bin/shipshape.js, HTTPS with
 * its self-signed certificate, SQLite store; the first start builds the vulnerability database from
 * the feed snapshots in ../shared/vulndata), adds a Docker Registry v2 setting, runs a regular scan
 * with live progress, prints a per-image summary and downloads the CSV report.
 *
 * `npm run demo -- --keep` leaves the console (and registry) running for a look at the API and
 * /docs until Ctrl-C. The data directory is fresh on each run unless `--data-dir DIR` is given.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fetch } from "undici";
import { startConsole } from "../test/harness/console.js";
import { repoRoot } from "../test/harness/paths.js";
import { startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";

const { values: flags } = parseArgs({
  options: { keep: { type: "boolean", default: false }, "data-dir": { type: "string" } },
});
const ADMIN_PASSWORD = process.env.SHIPSHAPE_ADMIN_PASSWORD ?? "shipshape-demo";
const demoStart = Date.now();
const say = (line: string) =>
  process.stderr.write(`[${((Date.now() - demoStart) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

interface Progress {
  discovery: { total: number; scanned: number; title: string };
  imageScan: { total: number; scanned: number; title: string };
  isScanOngoing: boolean;
}

interface ResultSummary {
  _id: string;
  distro: string;
  vulnerabilitiesCount: number;
  vulnerabilityDistribution: { critical: number; high: number; medium: number; low: number };
  vulnerabilityRiskScore: number;
  missingDistroVulnCoverage?: boolean;
}

/** The console logs pino JSON; the demo shows the lines a user watches for. */
function showConsoleLog(chunk: string): void {
  for (const line of chunk.split("\n")) {
    if (line.startsWith("Created user")) say(`  console: ${line}`);
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; source?: string; records?: number; address?: string };
      if (entry.msg === "vulnerability source read")
        say(`  console: feed ${entry.source}: ${entry.records} records`);
      else if (
        entry.msg === "vulnerability database ready" ||
        entry.msg?.startsWith("no vulnerability database")
      )
        say(`  console: ${entry.msg}`);
      else if (entry.msg === "console listening") say(`  console: listening on ${entry.address}`);
    } catch {
      // a partial line: the rest comes with the next chunk and is not one the demo shows
    }
  }
}

const storageDir = await ensureSeededStorage();
const registry = await startRegistry({ storageDir, readOnly: true });
say(`registry with the testbed images at ${registry.url}`);
const dataDir = flags["data-dir"] ?? (await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-demo-")));
say(`starting shipshape console (data dir ${dataDir})`);
const consoleProcess = await startConsole({
  dataDir,
  cli: path.join(repoRoot, "bin/shipshape.js"),
  adminPassword: ADMIN_PASSWORD,
  onOutput: showConsoleLog,
  startTimeoutMs: 120_000,
});
const { url, dispatcher } = consoleProcess;

async function api<T>(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${url}/api/v1${route}`, {
    method,
    dispatcher,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json =
    res.headers.get("content-type")?.includes("json") && text !== "" ? JSON.parse(text) : undefined;
  if (res.status >= 400) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return { status: res.status, body: json as T, text };
}

let token = "";
try {
  const login = await fetch(`${url}/api/v1/authenticate`, {
    method: "POST",
    dispatcher,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
  });
  token = ((await login.json()) as { token: string }).token;
  say(`POST /api/v1/authenticate → ${login.status}, token valid 30 minutes`);

  // Wait for the first start's database build: scans need it.
  for (;;) {
    const intelligence = await api<{ available?: boolean }>("GET", "/statuses/intelligence");
    if (intelligence.body.available) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const specification = {
    version: "2",
    registry: registry.url,
    repository: "*",
    excludedRepositories: ["many-tags/*"],
    tag: "*",
    cap: 3,
    scanners: 2,
    os: "linux",
    credentialID: "",
  };
  await api("POST", "/settings/registry?scanLater=true", specification);
  say(
    `POST /api/v1/settings/registry: ${registry.url}, every repository but many-tags/*, 3 newest tags each`,
  );
  await api("POST", "/registry/scan", {});
  say("POST /api/v1/registry/scan: regular scan started");

  const started = Date.now();
  // One line per step, then at most one every five seconds: enough to watch without a flood.
  let lastTitle = "";
  let lastShown = 0;
  for (;;) {
    const { body } = await api<Progress[]>("GET", "/registry/progress");
    const [progress] = body;
    if (!progress) break;
    const { title } = progress.imageScan.total > 0 ? progress.imageScan : progress.discovery;
    const stepChanged = title.slice(0, 8) !== lastTitle.slice(0, 8);
    if (title !== lastTitle && (stepChanged || Date.now() - lastShown >= 5000 || !progress.isScanOngoing)) {
      say(`  ${title}`);
      lastShown = Date.now();
      lastTitle = title;
    }
    if (!progress.isScanOngoing) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const status = await api<{ completed: boolean; errors: string[] }>("GET", "/statuses/registry");
  say(
    `scan finished in ${((Date.now() - started) / 1000).toFixed(1)} s; status errors: ${status.body.errors.length}`,
  );

  const results: ResultSummary[] = [];
  for (let offset = 0; ; offset += 50) {
    const page = await api<ResultSummary[]>(
      "GET",
      `/registry?compact=true&limit=50&offset=${offset}&sort=vulnerabilityRiskScore&reverse=true`,
    );
    results.push(...page.body);
    if (page.body.length < 50) break;
  }
  // Results come highest risk first; the table shows those with findings, the rest are counted.
  const rows = results
    .filter((r) => r.vulnerabilitiesCount > 0)
    .slice(0, 15)
    .map((r) => {
      const d = r.vulnerabilityDistribution;
      return [r._id, r.distro || "-", d.critical, d.high, d.medium, d.low, r.vulnerabilityRiskScore];
    });
  const header = ["image", "distro", "crit", "high", "med", "low", "risk"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const format = (row: (string | number)[]) =>
    row
      .map((cell, i) => (i < 2 ? String(cell).padEnd(widths[i] ?? 0) : String(cell).padStart(widths[i] ?? 0)))
      .join("  ");
  process.stdout.write(`\n${format(header)}\n${rows.map(format).join("\n")}\n`);
  const findings = results.reduce((sum, r) => sum + r.vulnerabilitiesCount, 0);
  const withFindings = results.filter((r) => r.vulnerabilitiesCount > 0).length;
  const uncovered = new Map<string, number>();
  for (const r of results.filter((r) => r.missingDistroVulnCoverage))
    uncovered.set(r.distro, (uncovered.get(r.distro) ?? 0) + 1);
  process.stdout.write(
    `${results.length} images scanned: ${withFindings} with findings (${findings} in all)` +
      `${withFindings > rows.length ? `, the ${rows.length} riskiest shown` : ""}\n`,
  );
  for (const [distro, count] of uncovered)
    process.stdout.write(
      `warning: ${count} images run ${distro}, which the vulnerability database does not cover\n`,
    );
  process.stdout.write("\n");

  const csv = await api<undefined>("GET", "/registry/download");
  const csvFile = path.join(dataDir, "registry-scan.csv");
  await fs.writeFile(csvFile, csv.text);
  say(
    `GET /api/v1/registry/download → ${csvFile} (${csv.text.split("\r\n").filter(Boolean).length - 1} rows)`,
  );

  if (flags.keep) {
    say(
      `\nconsole at ${url} (user admin, password ${ADMIN_PASSWORD}; API docs at ${url}/docs). Ctrl-C stops.`,
    );
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
} finally {
  await consoleProcess.stop();
  await registry.stop();
  say(`(the console's data, with the CSV, stays in ${dataDir})`);
}
