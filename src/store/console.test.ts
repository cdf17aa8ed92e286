/**
 * The ConsoleStore contract, run on a SQLite file and on PostgreSQL (127.0.0.1:5432, database
 * `test`, a fresh schema per test dropped afterwards). PostgreSQL being unreachable fails the
 * PostgreSQL half; nothing is skipped.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { DEFAULT_SCAN_SETTINGS, type ScanSettings } from "../api/schemas.js";
import { type KyselyConsoleStore, openConsoleStore } from "./console.js";
import type {
  ImageResultQuery,
  ImageResultRecord,
  ImageResultSortKey,
  ScanImageRecord,
  ScanImageState,
  StoredCredential,
  StoredSpec,
} from "./console-store.js";
import { LayerCache } from "./layer-cache.js";
import { migrationsFor } from "./migrations.js";
import type { Database } from "./schema.js";
import type { Store } from "./store.js";

const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-"));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let opened = 0;

interface Backend {
  name: string;
  /** A fresh, empty store. */
  open(): Promise<{ store: Store; console: KyselyConsoleStore; drop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "SQLite",
    async open() {
      const file = path.join(tmp, `console-${++opened}.db`);
      const { store, console } = await openConsoleStore({ sqliteFile: file });
      return { store, console, drop: () => fs.rm(file, { force: true }) };
    },
  },
  {
    name: "PostgreSQL",
    async open() {
      const schema = `console_test_${process.pid}_${++opened}`;
      const { store, console } = await openConsoleStore({ postgresUrl: POSTGRES_URL, schema });
      return { store, console, drop: () => dropSchema(schema) };
    },
  },
];

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

const credential = (id: string, description: string): StoredCredential => ({
  _id: id,
  type: "basic",
  description,
  accountID: "robot",
  secret: { encrypted: `enc-${id}` },
  created: "2026-01-01T00:00:00Z",
  lastModified: "2026-01-02T00:00:00Z",
  owner: "admin",
});

const spec = (id: string, registry: string): StoredSpec => ({
  id,
  version: "2",
  registry,
  repository: "library/*",
  tag: "",
  cap: 5,
  os: "linux",
  scanners: 2,
  collections: ["All"],
  excludedRepositories: ["library/skip"],
});

const image = (
  runId: number,
  specId: string,
  repository: string,
  tag: string,
  state: ScanImageState = "queued",
): ScanImageRecord => ({
  runId,
  specId,
  imageKey: `127.0.0.1:5000/${repository}:${tag}`,
  registry: "127.0.0.1:5000",
  repository,
  tag,
  pushedAt: "2026-03-01T00:00:00Z",
  state,
  attempts: 0,
  updatedAt: "2026-03-02T00:00:00Z",
});

const REGISTRIES = ["127.0.0.1:5000", "127.0.0.1:5001", "localhost:5002"];
const REPOSITORIES = ["library/alpine", "library/Debian", "team/app_1", "team/app%2"];
const TAGS = ["latest", "3.18", "v1.2"];

/** Result number i: fields vary independently so every filter and sort key splits the set. */
function result(i: number, patch: Partial<ImageResultRecord> = {}): ImageResultRecord {
  const registry = REGISTRIES[i % REGISTRIES.length] as string;
  const repository = REPOSITORIES[i % REPOSITORIES.length] as string;
  const tag = TAGS[i % TAGS.length] as string;
  const id = `${registry}/${repository}:${tag}-${String(i).padStart(4, "0")}`;
  return {
    id,
    imageId: `sha256:${(i % 7).toString(16).padStart(64, "0")}`,
    digest: `sha256:${i.toString(16).padStart(64, "0")}`,
    registry,
    repository,
    tag: `${tag}-${String(i).padStart(4, "0")}`,
    specId: `spec-${i % 2}`,
    scanTime: new Date(Date.UTC(2026, 2, 1) + ((i * 7919) % 1000) * 60_000).toISOString(),
    firstScanTime: "2026-01-01T00:00:00.000Z",
    vulnerabilityRiskScore: ((i * 37) % 11) * 1.5,
    vulnerabilitiesCount: (i * 13) % 5,
    databaseBuiltAt: "2026-02-28T00:00:00Z",
    result: { _id: id, tags: [{ registry, repo: repository }], n: i },
    ...patch,
  };
}

const SORT_FIELDS: Record<ImageResultSortKey, keyof ImageResultRecord> = {
  id: "id",
  scanTime: "scanTime",
  vulnerabilityRiskScore: "vulnerabilityRiskScore",
  vulnerabilitiesCount: "vulnerabilitiesCount",
  registry: "registry",
  repository: "repository",
  tag: "tag",
};

/** The query evaluated in memory: the reference queryResults is checked against. */
function evaluate(all: ImageResultRecord[], query: ImageResultQuery): { total: number; ids: string[] } {
  const within = (values: string[] | undefined, value: string) =>
    !values || values.length === 0 || values.includes(value);
  const matching = all.filter(
    (r) =>
      within(query.ids, r.id) &&
      within(query.names, r.id) &&
      within(query.imageIds, r.imageId) &&
      within(query.registries, r.registry) &&
      within(query.repositories, r.repository) &&
      within(query.tags, r.tag) &&
      (!query.search || r.id.toLowerCase().includes(query.search.toLowerCase())),
  );
  const field = SORT_FIELDS[query.sort ?? "id"];
  const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = matching.sort(
    (a, b) => compare(a[field] as string | number, b[field] as string | number) || compare(a.id, b.id),
  );
  if (query.reverse) sorted.reverse();
  const start = query.offset ?? 0;
  const page = sorted.slice(start, query.limit !== undefined ? start + query.limit : undefined);
  return { total: matching.length, ids: page.map((r) => r.id) };
}

for (const backend of backends) {
  describe(`ConsoleStore on ${backend.name}`, () => {
    let store: Store;
    let console: KyselyConsoleStore;
    let drop: () => Promise<void>;

    beforeEach(async () => {
      ({ store, console, drop } = await backend.open());
    });
    afterEach(async () => {
      await console.close();
      await drop();
    });

    test("reports its dialect", () => {
      assert.equal(store.dialect, backend.name === "SQLite" ? "sqlite" : "postgres");
    });

    test("users: get, upsert, count", async () => {
      assert.equal(await console.getUser("admin"), undefined);
      assert.equal(await console.countUsers(), 0);
      const admin = { username: "admin", passwordHash: "scrypt$1$2$3$s$h", role: "admin", createdAt: "t1" };
      await console.putUser(admin);
      await console.putUser({ username: "ci", passwordHash: "scrypt$x", role: "ci", createdAt: "t2" });
      assert.deepEqual(await console.getUser("admin"), admin);
      await console.putUser({ ...admin, role: "auditor", passwordHash: "scrypt$new" });
      assert.deepEqual(await console.getUser("admin"), {
        ...admin,
        role: "auditor",
        passwordHash: "scrypt$new",
      });
      assert.equal(await console.countUsers(), 2);
    });

    test("users: create refuses a taken name, list by name, guarded update and delete", async () => {
      const user = (username: string, role: string) => ({
        username,
        role,
        passwordHash: `scrypt$${username}`,
        createdAt: "t",
      });
      assert.equal(await console.createUser(user("root", "admin")), true);
      assert.equal(await console.createUser(user("root", "auditor")), false);
      assert.equal((await console.getUser("root"))?.role, "admin");
      assert.equal(await console.createUser(user("Carol", "auditor")), true);
      assert.equal(await console.createUser(user("bob", "ci")), true);
      assert.deepEqual(
        (await console.listUsers()).map((u) => [u.username, u.role]),
        [
          ["Carol", "auditor"],
          ["bob", "ci"],
          ["root", "admin"],
        ],
      );

      // The only admin can change its password but not lose its role or be deleted.
      assert.equal(await console.updateUser("root", { passwordHash: "scrypt$new" }, "admin"), "done");
      assert.equal((await console.getUser("root"))?.passwordHash, "scrypt$new");
      assert.equal(await console.updateUser("root", { role: "auditor" }, "admin"), "last");
      assert.equal(await console.updateUser("root", { role: "admin" }, "admin"), "done");
      assert.equal(await console.deleteUser("root", "admin"), "last");
      assert.equal((await console.getUser("root"))?.role, "admin");
      assert.equal(await console.updateUser("nobody", { role: "ci" }, "admin"), "missing");
      assert.equal(await console.deleteUser("nobody", "admin"), "missing");

      // With a second admin, either may go, but not both.
      assert.equal(await console.updateUser("bob", { role: "admin" }, "admin"), "done");
      assert.equal(await console.updateUser("root", { role: "operator" }, "admin"), "done");
      assert.equal(await console.deleteUser("bob", "admin"), "last");
      assert.equal(await console.deleteUser("Carol", "admin"), "done");
      assert.deepEqual(
        (await console.listUsers()).map((u) => [u.username, u.role, u.passwordHash]),
        [
          ["bob", "admin", "scrypt$bob"],
          ["root", "operator", "scrypt$new"],
        ],
      );
    });

    test("users: two admins deleting each other at once leave one", async () => {
      for (const name of ["a1", "a2"]) {
        await console.createUser({ username: name, role: "admin", passwordHash: "scrypt$x", createdAt: "t" });
      }
      const outcomes = await Promise.all([
        console.deleteUser("a1", "admin"),
        console.deleteUser("a2", "admin"),
      ]);
      assert.deepEqual([...outcomes].sort(), ["done", "last"]);
      assert.equal((await console.listUsers()).length, 1);
    });

    test("credentials: listed by id, upserted, deleted", async () => {
      for (const id of ["zeta", "Alpha", "beta"]) await console.putCredential(credential(id, `first ${id}`));
      await console.putCredential(credential("beta", "second beta"));
      assert.deepEqual(
        (await console.listCredentials()).map((c) => [c._id, c.description]),
        [
          ["Alpha", "first Alpha"],
          ["beta", "second beta"],
          ["zeta", "first zeta"],
        ],
      );
      assert.deepEqual(await console.getCredential("zeta"), credential("zeta", "first zeta"));
      assert.equal(await console.getCredential("missing"), undefined);
      assert.equal(await console.deleteCredential("zeta"), true);
      assert.equal(await console.deleteCredential("zeta"), false);
      assert.deepEqual(
        (await console.listCredentials()).map((c) => c._id),
        ["Alpha", "beta"],
      );
    });

    test("specs: stored order kept by append and replace, status patched in place", async () => {
      const order = ["s-c", "s-a", "s-b"];
      for (const id of order) await console.appendSpec(spec(id, `http://127.0.0.1:${id.length}`));
      assert.deepEqual(
        (await console.listSpecs()).map((s) => s.id),
        order,
      );
      assert.deepEqual(await console.getSpec("s-a"), spec("s-a", "http://127.0.0.1:3"));
      assert.equal(await console.getSpec("gone"), undefined);

      await console.replaceSpecs([spec("s-b", "http://127.0.0.1:9"), spec("s-z", "http://127.0.0.1:8")]);
      assert.deepEqual(
        (await console.listSpecs()).map((s) => [s.id, s.registry]),
        [
          ["s-b", "http://127.0.0.1:9"],
          ["s-z", "http://127.0.0.1:8"],
        ],
      );
      await console.appendSpec(spec("s-0", "http://127.0.0.1:7"));
      assert.deepEqual(
        (await console.listSpecs()).map((s) => s.id),
        ["s-b", "s-z", "s-0"],
      );

      await console.updateSpecStatus("s-z", { scanStatus: "scanning", scanTime: "2026-03-01T00:00:00Z" });
      await console.updateSpecStatus("s-z", { scanStatus: "completed", scannedImagesSuccessTotal: 4 });
      await console.updateSpecStatus("deleted", { scanStatus: "completed" });
      assert.deepEqual(await console.getSpec("s-z"), {
        ...spec("s-z", "http://127.0.0.1:8"),
        scanStatus: "completed",
        scanTime: "2026-03-01T00:00:00Z",
        scannedImagesSuccessTotal: 4,
      });
      assert.equal(await console.getSpec("deleted"), undefined);
      assert.deepEqual(
        (await console.listSpecs()).map((s) => s.id),
        ["s-b", "s-z", "s-0"],
        "a status update keeps the position",
      );

      await console.replaceSpecs([]);
      assert.deepEqual(await console.listSpecs(), []);
    });

    test("specs: a failing replaceSpecs changes nothing (one transaction)", async () => {
      for (const id of ["s-1", "s-2"]) await console.appendSpec(spec(id, "http://127.0.0.1:1"));
      // The duplicate id violates the primary key after the delete and the first insert ran.
      const duplicate = [spec("n-1", "http://127.0.0.1:2"), spec("n-1", "http://127.0.0.1:3")];
      await assert.rejects(console.replaceSpecs(duplicate));
      assert.deepEqual(
        (await console.listSpecs()).map((s) => s.id),
        ["s-1", "s-2"],
      );
    });

    test("scan settings: defaults, then the stored object over the defaults", async () => {
      assert.deepEqual(await console.getScanSettings(), DEFAULT_SCAN_SETTINGS);
      // A row written by an older release lacks newer keys: those come from the defaults.
      const older = { registryScanPeriodMs: 3_600_000, scanRunningImages: true } as unknown as ScanSettings;
      await console.putScanSettings(older);
      assert.deepEqual(await console.getScanSettings(), {
        ...DEFAULT_SCAN_SETTINGS,
        registryScanPeriodMs: 3_600_000,
        scanRunningImages: true,
      });
      const full = { ...DEFAULT_SCAN_SETTINGS, registryScanRetentionDays: 7, extractArchive: true };
      await console.putScanSettings(full);
      assert.deepEqual(await console.getScanSettings(), full);
    });

    test("runs: create, get, finish, latest by kind, latest finished regular", async () => {
      assert.equal(await console.latestRun("regular"), undefined);
      assert.equal(await console.latestFinishedRegularRun(), undefined);
      const base = { hostname: "console-1", startedAt: "2026-03-01T00:00:00Z" };
      const first = await console.createRun({
        ...base,
        kind: "regular",
        state: "running",
        specIds: ["s-b", "s-a"],
        selective: false,
      });
      const onDemand = await console.createRun({
        ...base,
        kind: "onDemand",
        state: "running",
        specIds: ["s-a"],
        selective: true,
      });
      assert.ok(onDemand.id > first.id, "ids increase");
      assert.deepEqual(await console.getRun(first.id), first);
      assert.deepEqual(await console.getRun(onDemand.id), onDemand);
      assert.equal(await console.getRun(onDemand.id + 100), undefined);

      await console.finishRun(first.id, "completed", "2026-03-01T01:00:00Z");
      const second = await console.createRun({
        ...base,
        kind: "regular",
        state: "running",
        specIds: ["s-a"],
        selective: true,
      });
      assert.deepEqual(await console.latestRun("regular"), second);
      assert.deepEqual(await console.latestRun("onDemand"), onDemand);
      assert.deepEqual(await console.latestFinishedRegularRun(), {
        ...first,
        state: "completed",
        finishedAt: "2026-03-01T01:00:00Z",
      });
    });

    test("runs: interruptRunningRuns marks running runs and cancels their open images", async () => {
      const base = { hostname: "h", startedAt: "2026-03-01T00:00:00Z", specIds: ["s"], selective: false };
      const done = await console.createRun({ ...base, kind: "regular", state: "running" });
      await console.finishRun(done.id, "completed", "2026-03-01T00:30:00Z");
      const crashedRegular = await console.createRun({ ...base, kind: "regular", state: "running" });
      const crashedOnDemand = await console.createRun({ ...base, kind: "onDemand", state: "running" });
      const states: ScanImageState[] = ["queued", "scanning", "done", "failed", "skipped"];
      for (const run of [done, crashedRegular, crashedOnDemand]) {
        await console.putImages(states.map((state) => image(run.id, "s", "library/alpine", state, state)));
      }

      const at = "2026-03-01T02:00:00Z";
      const interrupted = await console.interruptRunningRuns(at);
      assert.deepEqual(interrupted, [
        { ...crashedRegular, state: "interrupted", finishedAt: at },
        { ...crashedOnDemand, state: "interrupted", finishedAt: at },
      ]);
      assert.equal((await console.getRun(crashedRegular.id))?.state, "interrupted");
      assert.equal((await console.getRun(done.id))?.finishedAt, "2026-03-01T00:30:00Z");
      for (const run of [crashedRegular, crashedOnDemand]) {
        assert.deepEqual(
          (await console.listImages(run.id)).map((i) => [i.tag, i.state, i.updatedAt]),
          [
            ["queued", "cancelled", at],
            ["scanning", "cancelled", at],
            ["done", "done", "2026-03-02T00:00:00Z"],
            ["failed", "failed", "2026-03-02T00:00:00Z"],
            ["skipped", "skipped", "2026-03-02T00:00:00Z"],
          ],
        );
      }
      assert.deepEqual(
        (await console.listImages(done.id)).map((i) => i.state),
        states,
        "a finished run's images are left alone",
      );
      assert.deepEqual(await console.interruptRunningRuns(at), [], "nothing is running any more");
    });

    test("run errors: distinct messages, newest first, limited", async () => {
      const run = await console.createRun({
        kind: "regular",
        state: "running",
        specIds: [],
        selective: false,
        hostname: "h",
        startedAt: "t",
      });
      const other = await console.createRun({
        kind: "regular",
        state: "running",
        specIds: [],
        selective: false,
        hostname: "h",
        startedAt: "t",
      });
      for (const message of ["a", "b", "a", "c", "b"]) await console.addRunError(run.id, message, "t");
      await console.addRunError(other.id, "elsewhere", "t");
      assert.deepEqual(await console.runErrors(run.id, 10), ["b", "c", "a"]);
      assert.deepEqual(await console.runErrors(run.id, 2), ["b", "c"]);
      assert.deepEqual(await console.runErrors(other.id, 10), ["elsewhere"]);
    });

    test("work records: putImages ignores existing keys, list order and filters, patch, cancel", async () => {
      const run = await console.createRun({
        kind: "regular",
        state: "running",
        specIds: ["s1", "s2"],
        selective: false,
        hostname: "h",
        startedAt: "t",
      });
      const put = [
        image(run.id, "s2", "z/last", "1"),
        image(run.id, "s1", "a/first", "2"),
        image(run.id, "s1", "m/middle", "3", "done"),
      ];
      await console.putImages(put);
      await console.putImages([
        { ...image(run.id, "s2", "z/last", "1"), state: "done", attempts: 9 },
        image(run.id, "s1", "b/new", "4"),
      ]);
      assert.deepEqual(await console.listImages(run.id), [...put, image(run.id, "s1", "b/new", "4")]);
      assert.deepEqual(
        (await console.listImages(run.id, "s1")).map((i) => i.repository),
        ["a/first", "m/middle", "b/new"],
      );
      assert.deepEqual(
        (await console.listImages(run.id, undefined, ["done"])).map((i) => i.repository),
        ["m/middle"],
      );
      assert.deepEqual(await console.listImages(run.id, "s1", []), []);

      const key = image(run.id, "s1", "a/first", "2").imageKey;
      await console.updateImage(run.id, "s1", key, {
        state: "failed",
        attempts: 3,
        error: "pull failed",
        digest: "sha256:abc",
        updatedAt: "t2",
      });
      const [failed] = await console.listImages(run.id, "s1", ["failed"]);
      assert.deepEqual(failed, {
        ...image(run.id, "s1", "a/first", "2"),
        state: "failed",
        attempts: 3,
        error: "pull failed",
        digest: "sha256:abc",
        updatedAt: "t2",
      });
      await console.updateImage(run.id, "s1", key, { state: "done", error: undefined });
      const [retried] = await console.listImages(run.id, "s1", ["done"]);
      assert.equal(retried?.imageKey, key);
      assert.equal(retried?.error, undefined, "an explicit undefined error clears it");
      assert.equal(retried?.attempts, 3, "fields not in the patch are kept");

      assert.equal(await console.cancelImages(run.id, "s2", "t3"), 1);
      assert.equal(await console.cancelImages(run.id, undefined, "t4"), 1);
      assert.deepEqual(
        (await console.listImages(run.id)).map((i) => [i.repository, i.state, i.updatedAt]),
        [
          ["z/last", "cancelled", "t3"],
          ["a/first", "done", "t2"],
          ["m/middle", "done", "2026-03-02T00:00:00Z"],
          ["b/new", "cancelled", "t4"],
        ],
      );
      assert.equal(await console.cancelImages(run.id, undefined, "t5"), 0);
    });

    test("progressCounts: per spec, from the repository and image records", async () => {
      const run = await console.createRun({
        kind: "regular",
        state: "running",
        specIds: ["s1", "s2", "s3"],
        selective: false,
        hostname: "h",
        startedAt: "t",
      });
      const otherRun = await console.createRun({
        kind: "regular",
        state: "running",
        specIds: ["s1"],
        selective: false,
        hostname: "h",
        startedAt: "t",
      });
      const repos = [
        ["s1", "r1", "done"],
        ["s1", "r2", "failed"],
        ["s1", "r3", "pending"],
        ["s2", "r1", "pending"],
        ["s3", "r1", "done"],
      ] as const;
      await console.putRepos(
        repos.map(([specId, repository]) => ({ runId: run.id, specId, repository, state: "pending" })),
      );
      for (const [specId, repository, state] of repos) {
        if (state !== "pending") await console.setRepoState(run.id, specId, repository, state, `${state}!`);
      }
      await console.putRepos([{ runId: otherRun.id, specId: "s1", repository: "r9", state: "done" }]);
      const images: [string, ScanImageState][] = [
        ["s1", "done"],
        ["s1", "done"],
        ["s1", "failed"],
        ["s1", "skipped"],
        ["s1", "cancelled"],
        ["s1", "queued"],
        ["s1", "scanning"],
        ["s3", "queued"],
      ];
      await console.putImages(
        images.map(([specId, state], i) => image(run.id, specId, "repo", `t${i}`, state)),
      );
      await console.putImages([image(otherRun.id, "s1", "repo", "x", "done")]);

      const expected = ["s1", "s2", "s3"].map((specId) => {
        const specRepos = repos.filter(([s]) => s === specId);
        const specImages = images.filter(([s]) => s === specId).map(([, state]) => state);
        return {
          specId,
          reposTotal: specRepos.length,
          reposDone: specRepos.filter(([, , state]) => state !== "pending").length,
          imagesTotal: specImages.length,
          imagesFinished: specImages.filter((s) => s !== "queued" && s !== "scanning").length,
          imagesSucceeded: specImages.filter((s) => s === "done").length,
          imagesFailed: specImages.filter((s) => s === "failed").length,
        };
      });
      assert.deepEqual(await console.progressCounts(run.id), expected);
      assert.deepEqual(await console.progressCounts(otherRun.id + 1), []);
    });

    test("results: upsert keeps firstScanTime, lookups by id and digest", async () => {
      const first = result(1, { scanTime: "2026-03-01T00:00:00Z", firstScanTime: "2026-03-01T00:00:00Z" });
      await console.upsertResult(first);
      assert.deepEqual(await console.getResult(first.id), first);
      const rescanned = {
        ...first,
        scanTime: "2026-03-05T00:00:00Z",
        firstScanTime: "2026-03-05T00:00:00Z",
        vulnerabilityRiskScore: 42.5,
        vulnerabilitiesCount: 3,
        databaseBuiltAt: "2026-03-04T00:00:00Z",
        result: { rescanned: true },
      };
      await console.upsertResult(rescanned);
      assert.deepEqual(await console.getResult(first.id), {
        ...rescanned,
        firstScanTime: first.firstScanTime,
      });
      assert.equal(await console.getResult("missing"), undefined);

      // The same manifest under a second tag, scanned later against the same database build.
      const sameDigest = result(2, {
        digest: first.digest,
        scanTime: "2026-03-06T00:00:00Z",
        databaseBuiltAt: "2026-03-04T00:00:00Z",
      });
      await console.upsertResult(sameDigest);
      assert.equal(
        (await console.findResultByDigest(first.digest, "2026-03-04T00:00:00Z"))?.id,
        sameDigest.id,
      );
      assert.equal(await console.findResultByDigest(first.digest, "2026-02-28T00:00:00Z"), undefined);
      assert.equal(await console.findResultByDigest("sha256:none", "2026-03-04T00:00:00Z"), undefined);
    });

    test("results: purge and all digests", async () => {
      const all = Array.from({ length: 12 }, (_, i) => result(i));
      for (const r of all) await console.upsertResult(r);
      const cutoff = "2026-03-01T08:00:00.000Z";
      const kept = all.filter((r) => r.scanTime >= cutoff);
      assert.ok(kept.length > 0 && kept.length < all.length, "the cutoff splits the fixture");
      assert.equal(await console.purgeResultsOlderThan(cutoff), all.length - kept.length);
      assert.deepEqual(
        await console.allResultDigests(),
        kept.map((r) => ({ id: r.id, digest: r.digest })).sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
      assert.equal(await console.purgeResultsOlderThan(cutoff), 0);
    });

    describe("queryResults", () => {
      const all = Array.from({ length: 60 }, (_, i) => result(i));
      const queries: [string, ImageResultQuery][] = [
        ["everything, default sort by id", {}],
        ["first page", { limit: 7 }],
        ["middle page", { offset: 7, limit: 7 }],
        ["offset alone", { offset: 55 }],
        ["offset past the end", { offset: 100, limit: 5 }],
        ["ids", { ids: [all[3]?.id as string, all[40]?.id as string, "missing"] }],
        ["names", { names: [all[5]?.id as string] }],
        ["ids and names intersect", { ids: [all[3]?.id as string], names: [all[4]?.id as string] }],
        ["image ids", { imageIds: [all[0]?.imageId as string, all[2]?.imageId as string] }],
        ["registries", { registries: ["127.0.0.1:5001", "localhost:5002"] }],
        ["repositories", { repositories: ["library/Debian"] }],
        ["tags", { tags: [all[9]?.tag as string, all[10]?.tag as string] }],
        ["empty arrays do not filter", { registries: [], tags: [] }],
        ["search is a case-insensitive substring", { search: "LIBRARY/debian" }],
        ["search treats % literally", { search: "app%2" }],
        ["search treats _ literally", { search: "app_" }],
        ["search on the port", { search: ":5001/" }],
        ["filters combine", { registries: ["127.0.0.1:5000"], search: "team", limit: 3 }],
        ["sort by risk score, reversed, paged", { sort: "vulnerabilityRiskScore", reverse: true, limit: 10 }],
        ["sort by vulnerabilities count", { sort: "vulnerabilitiesCount", offset: 3, limit: 20 }],
        ["sort by scan time reversed", { sort: "scanTime", reverse: true }],
        ["sort by registry", { sort: "registry" }],
        ["sort by repository, reversed", { sort: "repository", reverse: true, limit: 30 }],
        ["sort by tag", { sort: "tag", limit: 12 }],
        ["sort by id reversed", { sort: "id", reverse: true, offset: 1, limit: 2 }],
        ["nothing matches", { repositories: ["none"] }],
      ];

      beforeEach(async () => {
        for (const r of all) await console.upsertResult(r);
      });

      for (const [name, query] of queries) {
        test(name, async () => {
          const expected = evaluate(all, query);
          const { total, results } = await console.queryResults(query);
          assert.deepEqual(
            { total, ids: results.map((r) => r.id) },
            expected,
            `query ${JSON.stringify(query)}`,
          );
          for (const r of results) {
            assert.deepEqual(
              r,
              all.find((a) => a.id === r.id),
            );
          }
        });
      }

      test("the fixture exercises the filters", () => {
        assert.ok(evaluate(all, { search: "app%2" }).total > 0);
        assert.equal(evaluate(all, { search: "app_" }).total, evaluate(all, { search: "app_1" }).total);
        assert.ok(evaluate(all, { search: "app_" }).total > 0);
        assert.ok(new Set(all.map((r) => r.vulnerabilityRiskScore)).size > 5, "scores repeat and differ");
      });
    });

    test("queryResults stays fast on 10,000 results", async () => {
      const many = Array.from({ length: 10_000 }, (_, i) => result(i));
      const batch = 200;
      for (let i = 0; i < many.length; i += batch) {
        await Promise.all(many.slice(i, i + batch).map((r) => console.upsertResult(r)));
      }
      const queries: ImageResultQuery[] = [
        { sort: "vulnerabilityRiskScore", reverse: true, offset: 5000, limit: 50 },
        { sort: "scanTime", limit: 50 },
        { search: "team/app", sort: "tag", limit: 50 },
        { registries: ["127.0.0.1:5001"], sort: "vulnerabilitiesCount", reverse: true, limit: 250 },
      ];
      for (const query of queries) {
        const started = performance.now();
        const { total, results } = await console.queryResults(query);
        const elapsed = performance.now() - started;
        const expected = evaluate(many, query);
        assert.deepEqual({ total, ids: results.map((r) => r.id) }, expected);
        assert.ok(elapsed < 500, `${JSON.stringify(query)} took ${elapsed.toFixed(0)} ms`);
      }
    });
  });
}

describe("ConsoleStore on SQLite across restarts", () => {
  test("a reopened file holds everything written before", async () => {
    const file = path.join(tmp, "restart.db");
    const written = await openConsoleStore({ sqliteFile: file });
    const c = written.console;
    await c.putUser({ username: "admin", passwordHash: "scrypt$h", role: "admin", createdAt: "t" });
    await c.putCredential(credential("robot", "pull robot"));
    await c.replaceSpecs([spec("s-2", "http://127.0.0.1:2"), spec("s-1", "http://127.0.0.1:1")]);
    await c.updateSpecStatus("s-1", { lastScanStatus: "completed" });
    const settings = { ...DEFAULT_SCAN_SETTINGS, registryScanRetentionDays: 3 };
    await c.putScanSettings(settings);
    const run = await c.createRun({
      kind: "regular",
      state: "running",
      specIds: ["s-2", "s-1"],
      selective: false,
      hostname: "h",
      startedAt: "t",
    });
    await c.putRepos([{ runId: run.id, specId: "s-1", repository: "library/alpine", state: "done" }]);
    await c.putImages([
      image(run.id, "s-1", "library/alpine", "3.18", "done"),
      image(run.id, "s-1", "x", "1"),
    ]);
    await c.addRunError(run.id, "boom", "t");
    await c.upsertResult(result(1));
    const counts = await c.progressCounts(run.id);
    await c.close();

    const reopened = await openConsoleStore({ sqliteFile: file });
    const r = reopened.console;
    try {
      assert.equal((await r.getUser("admin"))?.role, "admin");
      assert.deepEqual(await r.listCredentials(), [credential("robot", "pull robot")]);
      assert.deepEqual(await r.listSpecs(), [
        spec("s-2", "http://127.0.0.1:2"),
        { ...spec("s-1", "http://127.0.0.1:1"), lastScanStatus: "completed" },
      ]);
      assert.deepEqual(await r.getScanSettings(), settings);
      assert.deepEqual(await r.getRun(run.id), run);
      assert.deepEqual(await r.listImages(run.id), [
        image(run.id, "s-1", "library/alpine", "3.18", "done"),
        image(run.id, "s-1", "x", "1"),
      ]);
      assert.deepEqual(await r.progressCounts(run.id), counts);
      assert.deepEqual(await r.runErrors(run.id, 5), ["boom"]);
      assert.deepEqual(await r.getResult(result(1).id), result(1));
      const [interrupted] = await r.interruptRunningRuns("t9");
      assert.equal(interrupted?.id, run.id, "the run left running is found as interrupted");
    } finally {
      await r.close();
    }
  });

  test("a file of the previous release (layer cache only) gains the console tables; its diff_id-keyed layer cache is emptied, its inventories kept", async () => {
    const file = path.join(tmp, "previous-release.db");
    // Bring a new file to the previous release's schema only (migration 0001) and fill it.
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const migrations = migrationsFor("sqlite");
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateTo("0001_layer_cache_and_inventories");
    assert.equal(error, undefined);
    const listing = {
      entries: 1,
      uncompressedBytes: 10,
      files: [],
      whiteouts: [],
      opaqueDirs: [],
      warnings: [],
    };
    // Migration 0001's columns, which the current Database type no longer describes.
    await sql`insert into layer_listings (diff_id, entries, uncompressed_bytes, listing, analysed_at)
      values ('sha256:layer', 1, 10, ${gzipSync(JSON.stringify(listing))}, 't')`.execute(db);
    await db
      .insertInto("image_inventories")
      .values({
        digest: "sha256:image",
        identity: "{}",
        inventory: gzipSync("{}"),
        extractors: "x",
        indexed_at: "t",
      })
      .execute();
    await db.destroy();

    const { console: upgraded, store } = await openConsoleStore({ sqliteFile: file });
    try {
      const cache = new LayerCache(store);
      assert.equal(await cache.listing("sha256:layer"), undefined, "a diff_id is not a blob digest");
      await cache.putListing("sha256:blob", listing);
      assert.deepEqual(await cache.listing("sha256:blob"), listing);
      const inventories = await store.db.selectFrom("image_inventories").select("digest").execute();
      assert.deepEqual(inventories, [{ digest: "sha256:image" }]);
      await upgraded.appendSpec(spec("s", "http://127.0.0.1:1"));
      assert.equal((await upgraded.listSpecs()).length, 1);
    } finally {
      await upgraded.close();
    }
  });
});
