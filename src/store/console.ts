/**
 * The console store (issue 5, "Everything is persisted …" and "The store sits behind one
 * interface …"): `KyselyConsoleStore` implements src/store/console-store.ts over a `Store`, with the
 * same Kysely queries on SQLite and PostgreSQL. Registry specifications keep their stored order
 * (spec 3.2, 3.3, 3.4); image results are filtered, sorted and paged in SQL (spec 1.6, 4.1) with
 * `total` counted before offset/limit (the `Total-Count` header).
 *
 * Opening one:
 *
 *   const { store, console } = await openConsoleStore({ sqliteFile: "/var/lib/shipshape/console.db" });
 *   const { console } = await openConsoleStore({ postgresUrl: "postgres://…", schema: "shipshape" });
 *
 * `store` is the underlying Store (its `db` also serves the layer cache and inventories when they
 * share the database); `console.close()` closes it too (Store.close is idempotent).
 */
import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { DEFAULT_SCAN_SETTINGS, type ScanSettings } from "../api/schemas.js";
import type {
  ConsoleStore,
  ImageResultQuery,
  ImageResultRecord,
  ImageResultSortKey,
  ScanImageRecord,
  ScanImageState,
  ScanKind,
  ScanRepoRecord,
  ScanRun,
  ScanRunState,
  SpecProgressCounts,
  StoredCredential,
  StoredSpec,
  UserChange,
  UserRecord,
} from "./console-store.js";
import type { Database, ImageResultsTable, ScanImagesTable, ScanRunsTable, UsersTable } from "./schema.js";
import { Store } from "./store.js";

/** Image states after which an image is no longer worked on. */
const FINISHED_IMAGE_STATES: ScanImageState[] = ["done", "failed", "skipped", "cancelled"];
/** Image states a stop or an interruption cancels. */
const OPEN_IMAGE_STATES: ScanImageState[] = ["queued", "scanning"];
/** Rows per multi-row insert: far below SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;
/** Stands for "no limit" where an offset is given alone (SQLite has no OFFSET without LIMIT). */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

const SORT_COLUMNS: Record<ImageResultSortKey, keyof ImageResultsTable> = {
  id: "id",
  scanTime: "scan_time",
  vulnerabilityRiskScore: "risk_score",
  vulnerabilitiesCount: "vuln_count",
  registry: "registry",
  repository: "repository",
  tag: "tag",
};

export interface ConsoleStoreOptions {
  /** SQLite file (created if missing); used when no postgresUrl is given. */
  sqliteFile?: string;
  /** PostgreSQL connection string; takes precedence over sqliteFile. */
  postgresUrl?: string;
  /** PostgreSQL schema holding the tables (created if missing). */
  schema?: string;
}

/** Opens the store named by the options (PostgreSQL if a URL is given, else the SQLite file). */
export async function openConsoleStore(
  options: ConsoleStoreOptions,
): Promise<{ store: Store; console: KyselyConsoleStore }> {
  let store: Store;
  if (options.postgresUrl) {
    store = await Store.openPostgres(
      options.postgresUrl,
      options.schema !== undefined ? { schema: options.schema } : {},
    );
  } else if (options.sqliteFile) {
    store = await Store.openSqlite(options.sqliteFile);
  } else {
    throw new Error("console store: neither a PostgreSQL URL nor a SQLite file was given");
  }
  return { store, console: new KyselyConsoleStore(store) };
}

function userOf(row: Selectable<UsersTable>): UserRecord {
  return {
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    createdAt: row.created_at,
  };
}

export class KyselyConsoleStore implements ConsoleStore {
  private readonly db: Kysely<Database>;

  constructor(private readonly store: Store) {
    this.db = store.db;
  }

  // Users.

  async getUser(username: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom("users")
      .selectAll()
      .where("username", "=", username)
      .executeTakeFirst();
    return row ? userOf(row) : undefined;
  }

  async putUser(user: UserRecord): Promise<void> {
    const row = { password_hash: user.passwordHash, role: user.role, created_at: user.createdAt };
    await this.db
      .insertInto("users")
      .values({ username: user.username, ...row })
      .onConflict((c) => c.column("username").doUpdateSet(row))
      .execute();
  }

  async createUser(user: UserRecord): Promise<boolean> {
    const result = await this.db
      .insertInto("users")
      .values({
        username: user.username,
        password_hash: user.passwordHash,
        role: user.role,
        created_at: user.createdAt,
      })
      .onConflict((c) => c.column("username").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom("users").selectAll().execute();
    // Sorted here: PostgreSQL's collation and SQLite's byte order disagree on case.
    return rows.map(userOf).sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  }

  async updateUser(
    username: string,
    patch: Partial<Pick<UserRecord, "role" | "passwordHash">>,
    keepRole: string,
  ): Promise<UserChange> {
    return this.guardedUserChange(username, keepRole, patch.role, async (trx) => {
      await trx
        .updateTable("users")
        .set({
          ...(patch.role !== undefined ? { role: patch.role } : {}),
          ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        })
        .where("username", "=", username)
        .execute();
    });
  }

  async deleteUser(username: string, keepRole: string): Promise<UserChange> {
    return this.guardedUserChange(username, keepRole, null, async (trx) => {
      await trx.deleteFrom("users").where("username", "=", username).execute();
    });
  }

  /**
   * Runs `write` unless the user is missing or is the last holder of `keepRole` and would lose it
   * (`newRole`: undefined = unchanged, null = the user is deleted). On PostgreSQL the holders' rows are locked first, in name order,
   * so two admins demoting or deleting each other at once cannot both succeed.
   */
  private async guardedUserChange(
    username: string,
    keepRole: string,
    newRole: string | null | undefined,
    write: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<UserChange> {
    return this.db.transaction().execute(async (trx) => {
      const holders = await trx
        .selectFrom("users")
        .select("username")
        .where("role", "=", keepRole)
        .orderBy("username")
        .$if(this.store.dialect === "postgres", (q) => q.forUpdate())
        .execute();
      const user = await trx
        .selectFrom("users")
        .select("role")
        .where("username", "=", username)
        .executeTakeFirst();
      if (!user) return "missing";
      const losesRole = newRole !== undefined && newRole !== keepRole;
      if (user.role === keepRole && losesRole && holders.length <= 1) return "last";
      await write(trx);
      return "done";
    });
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // Credentials.

  async listCredentials(): Promise<StoredCredential[]> {
    const rows = await this.db.selectFrom("credentials").select("body").orderBy("id").execute();
    return rows.map((row) => JSON.parse(row.body) as StoredCredential);
  }

  async getCredential(id: string): Promise<StoredCredential | undefined> {
    const row = await this.db
      .selectFrom("credentials")
      .select("body")
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as StoredCredential) : undefined;
  }

  async putCredential(credential: StoredCredential): Promise<void> {
    const row = { type: credential.type, body: JSON.stringify(credential) };
    await this.db
      .insertInto("credentials")
      .values({ id: credential._id, ...row })
      .onConflict((c) => c.column("id").doUpdateSet(row))
      .execute();
  }

  async deleteCredential(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("credentials").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  // Registry specifications.

  async listSpecs(): Promise<StoredSpec[]> {
    const rows = await this.db
      .selectFrom("registry_specs")
      .select("body")
      .orderBy("position")
      .orderBy("id")
      .execute();
    return rows.map((row) => JSON.parse(row.body) as StoredSpec);
  }

  async getSpec(id: string): Promise<StoredSpec | undefined> {
    const row = await this.db
      .selectFrom("registry_specs")
      .select("body")
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as StoredSpec) : undefined;
  }

  async appendSpec(spec: StoredSpec): Promise<void> {
    // The position is computed in the statement itself, so concurrent appends need no lock.
    await this.db
      .insertInto("registry_specs")
      .values({
        id: spec.id,
        position: sql<number>`(select coalesce(max(position), -1) + 1 from registry_specs)`,
        body: JSON.stringify(spec),
      })
      .execute();
  }

  async replaceSpecs(specs: StoredSpec[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("registry_specs").execute();
      const rows = specs.map((spec, position) => ({ id: spec.id, position, body: JSON.stringify(spec) }));
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto("registry_specs")
          .values(rows.slice(i, i + INSERT_CHUNK))
          .execute();
      }
    });
  }

  async updateSpecStatus(id: string, patch: Parameters<ConsoleStore["updateSpecStatus"]>[1]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("registry_specs")
        .select("body")
        .where("id", "=", id)
        // PostgreSQL: other consoles may update the same spec; SQLite's writer lock serialises already.
        .$if(this.store.dialect === "postgres", (q) => q.forUpdate())
        .executeTakeFirst();
      if (!row) return;
      const spec = { ...(JSON.parse(row.body) as StoredSpec), ...patch };
      await trx
        .updateTable("registry_specs")
        .set({ body: JSON.stringify(spec) })
        .where("id", "=", id)
        .execute();
    });
  }

  // Scan settings.

  async getScanSettings(): Promise<ScanSettings> {
    const row = await this.db
      .selectFrom("scan_settings")
      .select("body")
      .where("id", "=", 1)
      .executeTakeFirst();
    return { ...DEFAULT_SCAN_SETTINGS, ...(row ? (JSON.parse(row.body) as Partial<ScanSettings>) : {}) };
  }

  async putScanSettings(settings: ScanSettings): Promise<void> {
    const body = JSON.stringify(settings);
    await this.db
      .insertInto("scan_settings")
      .values({ id: 1, body })
      .onConflict((c) => c.column("id").doUpdateSet({ body }))
      .execute();
  }

  // Scan runs.

  async createRun(run: Omit<ScanRun, "id">): Promise<ScanRun> {
    const row = await this.db
      .insertInto("scan_runs")
      .values({
        kind: run.kind,
        state: run.state,
        spec_ids: JSON.stringify(run.specIds),
        selective: run.selective ? 1 : 0,
        hostname: run.hostname,
        started_at: run.startedAt,
        finished_at: run.finishedAt ?? null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { ...run, id: Number(row.id) };
  }

  async getRun(id: number): Promise<ScanRun | undefined> {
    const row = await this.db.selectFrom("scan_runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? runOf(row) : undefined;
  }

  async finishRun(id: number, state: Exclude<ScanRunState, "running">, finishedAt: string): Promise<void> {
    await this.db
      .updateTable("scan_runs")
      .set({ state, finished_at: finishedAt })
      .where("id", "=", id)
      .execute();
  }

  async interruptRunningRuns(finishedAt: string): Promise<ScanRun[]> {
    return await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable("scan_runs")
        .set({ state: "interrupted", finished_at: finishedAt })
        .where("state", "=", "running")
        .returningAll()
        .execute();
      const ids = rows.map((row) => row.id);
      if (ids.length > 0) {
        await trx
          .updateTable("scan_images")
          .set({ state: "cancelled", updated_at: finishedAt })
          .where("run_id", "in", ids)
          .where("state", "in", OPEN_IMAGE_STATES)
          .execute();
      }
      return rows.map(runOf).sort((a, b) => a.id - b.id);
    });
  }

  async latestRun(kind: ScanKind): Promise<ScanRun | undefined> {
    const row = await this.db
      .selectFrom("scan_runs")
      .selectAll()
      .where("kind", "=", kind)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? runOf(row) : undefined;
  }

  async latestFinishedRegularRun(): Promise<ScanRun | undefined> {
    const row = await this.db
      .selectFrom("scan_runs")
      .selectAll()
      .where("kind", "=", "regular")
      .where("state", "<>", "running")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? runOf(row) : undefined;
  }

  async addRunError(runId: number, message: string, at: string): Promise<void> {
    await this.db.insertInto("scan_run_errors").values({ run_id: runId, message, at }).execute();
  }

  async runErrors(runId: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("scan_run_errors")
      .select((eb) => ["message", eb.fn.max("id").as("last")])
      .where("run_id", "=", runId)
      .groupBy("message")
      .orderBy("last", "desc")
      .limit(limit)
      .execute();
    return rows.map((row) => row.message);
  }

  // Work records.

  async putRepos(records: ScanRepoRecord[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        const rows = records.slice(i, i + INSERT_CHUNK).map((record) => ({
          run_id: record.runId,
          spec_id: record.specId,
          repository: record.repository,
          state: record.state,
          error: record.error ?? null,
        }));
        await trx
          .insertInto("scan_repos")
          .values(rows)
          .onConflict((c) =>
            c
              .columns(["run_id", "spec_id", "repository"])
              .doUpdateSet((eb) => ({ state: eb.ref("excluded.state"), error: eb.ref("excluded.error") })),
          )
          .execute();
      }
    });
  }

  async setRepoState(
    runId: number,
    specId: string,
    repository: string,
    state: ScanRepoRecord["state"],
    error?: string,
  ): Promise<void> {
    await this.db
      .updateTable("scan_repos")
      .set({ state, error: error ?? null })
      .where("run_id", "=", runId)
      .where("spec_id", "=", specId)
      .where("repository", "=", repository)
      .execute();
  }

  async putImages(records: ScanImageRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      // Insertion order is kept per run: listImages hands images out in the order they were put.
      const runIds = [...new Set(records.map((record) => record.runId))];
      const next = new Map<number, number>();
      const tops = await trx
        .selectFrom("scan_images")
        .select((eb) => ["run_id", eb.fn.max("seq").as("top")])
        .where("run_id", "in", runIds)
        .groupBy("run_id")
        .execute();
      for (const row of tops) next.set(row.run_id, Number(row.top) + 1);
      const rows = records.map((record) => {
        const seq = next.get(record.runId) ?? 0;
        next.set(record.runId, seq + 1);
        return imageRowOf(record, seq);
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto("scan_images")
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((c) => c.columns(["run_id", "spec_id", "image_key"]).doNothing())
          .execute();
      }
    });
  }

  async updateImage(
    runId: number,
    specId: string,
    imageKey: string,
    patch: Parameters<ConsoleStore["updateImage"]>[3],
  ): Promise<void> {
    const set: Partial<ScanImagesTable> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.digest !== undefined) set.digest = patch.digest;
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    // An explicit `error: undefined` clears the error (a retry that succeeded).
    if ("error" in patch) set.error = patch.error ?? null;
    if (Object.keys(set).length === 0) return;
    await this.db
      .updateTable("scan_images")
      .set(set)
      .where("run_id", "=", runId)
      .where("spec_id", "=", specId)
      .where("image_key", "=", imageKey)
      .execute();
  }

  async listImages(runId: number, specId?: string, states?: ScanImageState[]): Promise<ScanImageRecord[]> {
    const rows = await this.db
      .selectFrom("scan_images")
      .selectAll()
      .where("run_id", "=", runId)
      .$if(specId !== undefined, (q) => q.where("spec_id", "=", specId as string))
      .$if(states !== undefined, (q) =>
        // An empty state list matches nothing (IN () is not valid SQL).
        (states as ScanImageState[]).length > 0
          ? q.where("state", "in", states as ScanImageState[])
          : q.where(sql<boolean>`1 = 0`),
      )
      .orderBy("seq")
      .execute();
    return rows.map(imageRecordOf);
  }

  async cancelImages(runId: number, specId: string | undefined, at: string): Promise<number> {
    const result = await this.db
      .updateTable("scan_images")
      .set({ state: "cancelled", updated_at: at })
      .where("run_id", "=", runId)
      .where("state", "in", OPEN_IMAGE_STATES)
      .$if(specId !== undefined, (q) => q.where("spec_id", "=", specId as string))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Counts per specification having any work record in the run, ordered by specification id. */
  async progressCounts(runId: number): Promise<SpecProgressCounts[]> {
    const repos = await this.db
      .selectFrom("scan_repos")
      .select((eb) => [
        "spec_id",
        eb.fn.countAll<number>().as("total"),
        // Discovery of a repository is over whether its tags were listed or listing failed.
        eb.fn.sum<number>(eb.case().when("state", "<>", "pending").then(1).else(0).end()).as("done"),
      ])
      .where("run_id", "=", runId)
      .groupBy("spec_id")
      .execute();
    const images = await this.db
      .selectFrom("scan_images")
      .select((eb) => [
        "spec_id",
        eb.fn.countAll<number>().as("total"),
        eb.fn
          .sum<number>(eb.case().when("state", "in", FINISHED_IMAGE_STATES).then(1).else(0).end())
          .as("finished"),
        eb.fn.sum<number>(eb.case().when("state", "=", "done").then(1).else(0).end()).as("succeeded"),
        eb.fn.sum<number>(eb.case().when("state", "=", "failed").then(1).else(0).end()).as("failed"),
      ])
      .where("run_id", "=", runId)
      .groupBy("spec_id")
      .execute();
    const bySpec = new Map<string, SpecProgressCounts>();
    const countsOf = (specId: string): SpecProgressCounts => {
      let counts = bySpec.get(specId);
      if (!counts) {
        counts = {
          specId,
          reposTotal: 0,
          reposDone: 0,
          imagesTotal: 0,
          imagesFinished: 0,
          imagesSucceeded: 0,
          imagesFailed: 0,
        };
        bySpec.set(specId, counts);
      }
      return counts;
    };
    for (const row of repos) {
      const counts = countsOf(row.spec_id);
      counts.reposTotal = Number(row.total);
      counts.reposDone = Number(row.done);
    }
    for (const row of images) {
      const counts = countsOf(row.spec_id);
      counts.imagesTotal = Number(row.total);
      counts.imagesFinished = Number(row.finished);
      counts.imagesSucceeded = Number(row.succeeded);
      counts.imagesFailed = Number(row.failed);
    }
    return [...bySpec.values()].sort((a, b) => (a.specId < b.specId ? -1 : a.specId > b.specId ? 1 : 0));
  }

  // Image results.

  async upsertResult(result: ImageResultRecord): Promise<void> {
    const { first_scan_time, ...updated } = resultRowOf(result);
    await this.db
      .insertInto("image_results")
      .values({ ...updated, first_scan_time })
      // first_scan_time is left out of the update: an existing row keeps its first scan.
      .onConflict((c) => c.column("id").doUpdateSet(updated))
      .execute();
  }

  async getResult(id: string): Promise<ImageResultRecord | undefined> {
    const row = await this.db.selectFrom("image_results").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? resultRecordOf(row) : undefined;
  }

  async findResultByDigest(digest: string, databaseBuiltAt: string): Promise<ImageResultRecord | undefined> {
    const row = await this.db
      .selectFrom("image_results")
      .selectAll()
      .where("digest", "=", digest)
      .where("database_built_at", "=", databaseBuiltAt)
      .orderBy("scan_time", "desc")
      .orderBy("id")
      .limit(1)
      .executeTakeFirst();
    return row ? resultRecordOf(row) : undefined;
  }

  /** Empty filter arrays are treated as absent filters (no `?registry=` given). */
  async queryResults(query: ImageResultQuery): Promise<{ total: number; results: ImageResultRecord[] }> {
    const filters: [keyof ImageResultsTable, string[] | undefined][] = [
      ["id", query.ids],
      ["id", query.names],
      ["image_id", query.imageIds],
      ["registry", query.registries],
      ["repository", query.repositories],
      ["tag", query.tags],
    ];
    let filtered = this.db.selectFrom("image_results");
    for (const [column, values] of filters) {
      if (values && values.length > 0) filtered = filtered.where(column, "in", values);
    }
    if (query.search) {
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      filtered = filtered.where(sql<boolean>`lower(id) like ${pattern} escape '\\'`);
    }
    const { n } = await filtered.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    const direction = query.reverse ? "desc" : "asc";
    const column = SORT_COLUMNS[query.sort ?? "id"];
    let page = filtered.selectAll().orderBy(column, direction);
    if (column !== "id") page = page.orderBy("id", direction);
    if (query.limit !== undefined || query.offset !== undefined) page = page.limit(query.limit ?? NO_LIMIT);
    if (query.offset !== undefined) page = page.offset(query.offset);
    const rows = await page.execute();
    return { total: Number(n), results: rows.map(resultRecordOf) };
  }

  async purgeResultsOlderThan(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom("image_results")
      .where("scan_time", "<", before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async allResultDigests(): Promise<{ id: string; digest: string }[]> {
    return await this.db.selectFrom("image_results").select(["id", "digest"]).orderBy("id").execute();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

function runOf(row: Selectable<ScanRunsTable>): ScanRun {
  const run: ScanRun = {
    id: Number(row.id),
    kind: row.kind as ScanKind,
    state: row.state as ScanRunState,
    specIds: JSON.parse(row.spec_ids) as string[],
    selective: row.selective !== 0,
    hostname: row.hostname,
    startedAt: row.started_at,
  };
  if (row.finished_at !== null) run.finishedAt = row.finished_at;
  return run;
}

function imageRowOf(record: ScanImageRecord, seq: number): ScanImagesTable {
  return {
    run_id: record.runId,
    spec_id: record.specId,
    image_key: record.imageKey,
    seq,
    registry: record.registry,
    repository: record.repository,
    tag: record.tag,
    digest: record.digest ?? null,
    pushed_at: record.pushedAt ?? null,
    state: record.state,
    attempts: record.attempts,
    error: record.error ?? null,
    updated_at: record.updatedAt,
  };
}

function imageRecordOf(row: ScanImagesTable): ScanImageRecord {
  const record: ScanImageRecord = {
    runId: Number(row.run_id),
    specId: row.spec_id,
    imageKey: row.image_key,
    registry: row.registry,
    repository: row.repository,
    tag: row.tag,
    state: row.state as ScanImageState,
    attempts: Number(row.attempts),
    updatedAt: row.updated_at,
  };
  if (row.digest !== null) record.digest = row.digest;
  if (row.pushed_at !== null) record.pushedAt = row.pushed_at;
  if (row.error !== null) record.error = row.error;
  return record;
}

function resultRowOf(record: ImageResultRecord): ImageResultsTable {
  return {
    id: record.id,
    image_id: record.imageId,
    digest: record.digest,
    registry: record.registry,
    repository: record.repository,
    tag: record.tag,
    spec_id: record.specId,
    scan_time: record.scanTime,
    first_scan_time: record.firstScanTime,
    risk_score: record.vulnerabilityRiskScore,
    vuln_count: record.vulnerabilitiesCount,
    database_built_at: record.databaseBuiltAt,
    result: JSON.stringify(record.result),
  };
}

function resultRecordOf(row: ImageResultsTable): ImageResultRecord {
  return {
    id: row.id,
    imageId: row.image_id,
    digest: row.digest,
    registry: row.registry,
    repository: row.repository,
    tag: row.tag,
    specId: row.spec_id,
    scanTime: row.scan_time,
    firstScanTime: row.first_scan_time,
    vulnerabilityRiskScore: Number(row.risk_score),
    vulnerabilitiesCount: Number(row.vuln_count),
    databaseBuiltAt: row.database_built_at,
    result: JSON.parse(row.result) as Record<string, unknown>,
  };
}
