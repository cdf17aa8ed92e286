/**
 * The three client reproductions of test/clients/ (docs/clients.md) against the real console: the
 * bundled `shipshape console` over HTTPS with its self-signed certificate, a docker-registry serving
 * the seeded testbed images, and the vulnerability database built from ../shared/vulndata.
 *
 * - the vendor's curl workflow as literal curl commands: authenticate, add a Docker Registry v2
 *   specification, on-demand scan of node-app:1.0, progress until done and then `[]`, status, the
 *   result by name and the CSV download; the CSV rows are checked against the result JSON and
 *   against `shipshape image --format json` of the same image (matched outside the console);
 * - the Terraform provider's registry-settings and credential resources (create, read, update,
 *   delete), then the settings the Python SDK flow scans;
 * - the Python SDK flow: login, settings, statuses_registry around registry_scan, every page of
 *   GET /registry in the `?filterBaseImage=true?limit=50&offset=N` form, statuses_intelligence.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { fetch } from "undici";
import { REGISTRY_CSV_COLUMNS } from "../src/report/prisma-csv.js";
import { type ProviderError, TerraformProviderClient } from "./clients/terraform-provider.js";
import { type RunningConsole, startConsole } from "./harness/console.js";
import { parseCsv } from "./harness/csv.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, seedContents } from "./harness/seed.js";
import { sharedMirrorDatabase, shipshape } from "./harness/shipshape-cli.js";

const run = promisify(execFile);
const clientsDir = path.join(path.dirname(new URL(import.meta.url).pathname), "clients");
const ADMIN = "admin";
const PASSWORD = "console-test-pw";
const SCANNED = { repository: "node-app", tag: "1.0" };
const BULK_PATTERN = "bulk/*";

let tmp: string;
let databasePath: string;
let registry: RunningRegistry;
let consoleProcess: RunningConsole;
let caFile: string;

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-clients-"));
    let storageDir: string;
    [storageDir, databasePath] = await Promise.all([ensureSeededStorage(), sharedMirrorDatabase()]);
    registry = await startRegistry({ storageDir, readOnly: true });
    const dataDir = path.join(tmp, "console");
    consoleProcess = await startConsole({ dataDir, prebuiltDatabase: databasePath });
    caFile = path.join(dataDir, "tls", "console.crt");
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  await consoleProcess?.stop();
  await registry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** The image registry's address in specifications: plain HTTP is spelled with its scheme. */
const registryAddress = () => `http://${registry.host}`;

async function consoleGet(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${consoleProcess.url}${url}`, {
    headers: { authorization: `Basic ${Buffer.from(`${ADMIN}:${PASSWORD}`).toString("base64")}` },
    dispatcher: consoleProcess.dispatcher,
  });
  return { status: res.status, headers: res.headers as unknown as Headers, text: await res.text() };
}

interface ResultVulnerability {
  cve: string;
  packageName: string;
  packageVersion: string;
  severity: string;
}

interface RegistryResult {
  _id: string;
  repoTag: { registry: string; repo: string; tag: string };
  vulnerabilitiesCount: number;
  vulnerabilities: ResultVulnerability[] | null;
}

const sorted = (values: Iterable<string>) => [...values].sort();

test("the vendor's curl workflow: on-demand scan of one tag, progress, result and CSV", {
  timeout: 10 * 60_000,
}, async (t) => {
  const out = path.join(tmp, "curl");
  const started = Date.now();
  const { stdout } = await run(
    "bash",
    [
      path.join(clientsDir, "curl-workflow.sh"),
      consoleProcess.url,
      ADMIN,
      PASSWORD,
      registryAddress(),
      SCANNED.repository,
      SCANNED.tag,
      out,
    ],
    { env: { ...process.env, POLL_SECONDS: "1", POLL_TIMEOUT_SECONDS: "480" } },
  );
  assert.match(stdout, /curl-workflow: ok/);
  t.diagnostic(
    `curl workflow: ${Date.now() - started} ms, ${(await fs.readFile(path.join(out, "progress-polls.txt"), "utf8")).trim()} progress polls`,
  );
  const read = (name: string) => fs.readFile(path.join(out, name), "utf8");
  const json = async (name: string) => JSON.parse(await read(name));

  assert.match((await json("authenticate.json")).token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
  assert.equal(await read("add-registry.body"), "", "mutations answer 200 with an empty body");
  assert.equal(await read("scan.body"), "");
  const settings = await json("settings-registry.json");
  assert.equal(settings.specifications.length, 1);
  const [spec] = settings.specifications;
  assert.deepEqual(
    [spec.version, spec.registry, spec.repository, spec.tag, spec.os, spec.cap, spec.scanners],
    ["2", registryAddress(), SCANNED.repository, "", "linux", 5, 2],
  );
  assert.deepEqual(spec.collections, ["All"]);
  assert.equal(typeof spec.id, "string");

  const [final, ...more] = await json("progress-final.json");
  assert.deepEqual(more, []);
  assert.equal(final.isScanOngoing, false);
  assert.deepEqual([final.imageScan.total, final.imageScan.scanned], [1, 1]);
  assert.deepEqual(await json("progress-after.json"), [], "the final progress is answered once");
  assert.equal(typeof (await json("statuses-registry.json")).completed, "boolean");

  const imageName = `${registry.host}/${SCANNED.repository}:${SCANNED.tag}`;
  const [result] = (await json("registry-result.json")) as RegistryResult[];
  assert.ok(result);
  assert.equal(result._id, imageName);
  assert.match(await read("registry-result.json.headers"), /^total-count: 1\r$/im);
  const vulnerabilities = result.vulnerabilities ?? [];
  assert.equal(result.vulnerabilitiesCount, vulnerabilities.length);
  assert.ok(vulnerabilities.length > 0, "the testbed's node-app has advisories in ../shared/vulndata");

  // The same image matched by the CLI, outside the console: the same vulnerabilities by CVE.
  const cli = await shipshape([
    "image",
    "--insecure",
    imageName,
    "--format",
    "json",
    "--db",
    databasePath,
    "--cache-dir",
    path.join(tmp, "cli-cache"),
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const cliIds = new Set((JSON.parse(cli.stdout).findings as { id: string }[]).map((f) => f.id));
  t.diagnostic(
    `${vulnerabilities.length} vulnerabilities in the result, ${cliIds.size} CVEs from shipshape image`,
  );
  assert.deepEqual(sorted(new Set(vulnerabilities.map((v) => v.cve))), sorted(cliIds));

  assert.match(await read("registry_report.csv.headers"), /^content-type: text\/csv\r$/im);
  const [header, ...rows] = parseCsv(await read("registry_report.csv"));
  assert.deepEqual(header, [...REGISTRY_CSV_COLUMNS]);
  const column = (name: (typeof REGISTRY_CSV_COLUMNS)[number]) => REGISTRY_CSV_COLUMNS.indexOf(name);
  assert.equal(rows.length, vulnerabilities.length, "one row per vulnerability of the only scanned image");
  for (const row of rows) {
    assert.equal(row.length, REGISTRY_CSV_COLUMNS.length);
    assert.deepEqual(
      [row[column("Registry")], row[column("Repository")], row[column("Tag")]],
      [registry.host, SCANNED.repository, SCANNED.tag],
    );
  }
  const rowKey = (cve: string, severity: string, version: string) => `${cve} ${severity} ${version}`;
  assert.deepEqual(
    sorted(
      rows.map((r) =>
        rowKey(r[column("CVE ID")] ?? "", r[column("Severity")] ?? "", r[column("Package Version")] ?? ""),
      ),
    ),
    sorted(vulnerabilities.map((v) => rowKey(v.cve, v.severity, v.packageVersion))),
  );
  assert.deepEqual(sorted(new Set(rows.map((r) => r[column("CVE ID")] ?? ""))), sorted(cliIds));
});

test("the Terraform provider's registry-settings and credential resources", {
  timeout: 5 * 60_000,
}, async () => {
  const tf = await TerraformProviderClient.connect({
    consoleUrl: consoleProcess.url,
    username: ADMIN,
    password: PASSWORD,
  });
  try {
    const nodeApp = {
      type: "2",
      registry: registryAddress(),
      repository: SCANNED.repository,
      os: "linux",
      cap: 5,
      scanners: 2,
      collections: ["All"],
    };
    const created = await tf.createRegistrySetting([nodeApp]);
    assert.equal(created.length, 1);
    assert.deepEqual(
      [
        created[0]?.version,
        created[0]?.registry,
        created[0]?.repository,
        created[0]?.cap,
        created[0]?.scanners,
      ],
      ["2", registryAddress(), SCANNED.repository, 5, 2],
    );
    assert.deepEqual(created[0]?.collections, ["All"]);

    await tf.createCredential({
      name: "ci reader",
      type: "basic",
      account_id: "reader",
      secret: { plain: "pw" },
    });
    const credential = await tf.readCredential("ci reader");
    assert.equal(credential.accountID, "reader");
    const secret = credential.secret as { encrypted?: string; plain?: string };
    assert.equal(secret.plain, undefined, "a read never shows the plain secret");
    assert.ok((secret.encrypted ?? "").length > 0);

    const updated = await tf.updateRegistrySetting([
      { ...nodeApp, tag: SCANNED.tag },
      { type: "2", registry: "127.0.0.1:1", repository: "private/*", credential: "ci reader" },
    ]);
    assert.deepEqual(
      updated.map((s) => [s.registry, s.repository, s.tag, s.credentialID, s.cap]),
      [
        [registryAddress(), SCANNED.repository, SCANNED.tag, "", 5],
        ["127.0.0.1:1", "private/*", "", "ci reader", 0],
      ],
    );
    await assert.rejects(tf.deleteCredential("ci reader"), (error: ProviderError) => {
      assert.match(error.message, /^error deleting credential: Non-OK status: 400 \(.*in use.*\)$/);
      return true;
    });
    await tf.updateRegistrySetting([nodeApp]);
    await tf.deleteCredential("ci reader");
    await assert.rejects(tf.readCredential("ci reader"), /credential 'ci reader' not found/);

    await assert.rejects(
      tf.createRegistrySetting([{ type: "99", registry: registryAddress(), repository: "x" }]),
      (error: ProviderError) => {
        assert.match(error.message, /^error creating registry: Non-OK status: 400 \(.+\)$/);
        return true;
      },
    );
    await tf.deleteRegistrySetting();
    assert.deepEqual(await tf.readRegistrySettings(), []);
  } finally {
    await tf.close();
  }
  for (const exchange of tf.exchanges.filter((e) => e.status === 200 && e.method !== "GET")) {
    if (exchange.url.endsWith("/authenticate")) continue;
    assert.equal(exchange.responseBody, "", `${exchange.method} ${exchange.url} answers an empty body`);
  }
});

test("the Python SDK flow: regular scan, statuses, every page of GET /registry, intelligence", {
  timeout: 15 * 60_000,
}, async (t) => {
  // terraform apply of the settings the script then scans: 80 bulk repositories (more than one
  // page of 50 results) and node-app.
  const tf = await TerraformProviderClient.connect({
    consoleUrl: consoleProcess.url,
    username: ADMIN,
    password: PASSWORD,
  });
  try {
    await tf.createRegistrySetting([
      { type: "2", registry: registryAddress(), repository: BULK_PATTERN, os: "linux", scanners: 2 },
      { type: "2", registry: registryAddress(), repository: SCANNED.repository, os: "linux", cap: 5 },
    ]);
  } finally {
    await tf.close();
  }
  const seed = await seedContents();
  const expected = seed.images
    .filter((i) => i.repository.startsWith("bulk/") || i.repository === SCANNED.repository)
    .map((i) => `${registry.host}/${i.repository}:${i.tag}`);

  const { stdout } = await run(
    "python3",
    [
      path.join(clientsDir, "python", "sdk_flow.py"),
      "--url",
      consoleProcess.url,
      "--identity",
      ADMIN,
      "--secret",
      PASSWORD,
      "--verify",
      caFile,
      "--poll-seconds",
      "1",
      "--timeout-seconds",
      "780",
    ],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" }, maxBuffer: 64 * 1024 * 1024 },
  );
  const summary = JSON.parse(stdout);
  t.diagnostic(
    `SDK flow: ${summary.registry.count} results in ${summary.registry.pages} pages, ${summary.scan.statusPolls.length} status polls after the scan request`,
  );
  assert.equal(summary.specifications.count, 2);
  assert.deepEqual(summary.specifications.registries, [registryAddress(), registryAddress()]);
  assert.equal(summary.scan.answer, null, "POST /registry/scan answers an empty body");
  assert.equal(summary.scan.sawIncomplete, true, "statuses/registry shows the scan right after the POST");
  assert.equal(summary.scan.statusAfter.completed, true);
  assert.deepEqual(summary.scan.statusAfter.errors, []);

  const ids: string[] = summary.registry.ids;
  assert.equal(summary.registry.totalCount, ids.length);
  for (const name of expected) assert.ok(ids.includes(name), `${name} is among the results`);
  assert.equal(summary.registry.pages, Math.ceil(ids.length / 50));
  const pageUrls = (summary.requests as { url: string; status: number; totalCount: string | null }[])
    .filter((r) => new URL(r.url).pathname === "/api/v1/registry")
    .map((r) => r.url.slice(consoleProcess.url.length));
  assert.deepEqual(
    pageUrls,
    Array.from(
      { length: summary.registry.pages },
      (_, i) => `/api/v1/registry?filterBaseImage=true?limit=50&offset=${i * 50}`,
    ),
  );
  for (const request of summary.requests) assert.equal(request.status, 200, request.url);

  // The same results read independently, in pages of 250: the SDK saw each exactly once.
  const all: string[] = [];
  for (let offset = 0; ; offset += 250) {
    const page = await consoleGet(`/api/v1/registry?limit=250&offset=${offset}&fields=_id`);
    assert.equal(page.status, 200, page.text);
    const batch = (JSON.parse(page.text) as { _id: string }[]).map((r) => r._id);
    all.push(...batch);
    if (batch.length < 250) break;
  }
  assert.deepEqual(sorted(ids), sorted(all));

  assert.equal(summary.intelligence.available, true);
  assert.ok(summary.intelligence.sources.length > 0);
});
