/**
 * What `shipshape console` does: open the stores, start the API and the orchestrator, build the
 * vulnerability database when missing, then run the periodic scheduler until SIGINT/SIGTERM.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, type ConsoleFlags, resolveConfig } from "../../api/config.js";
import { buildServer, REDACTED_PATHS } from "../../api/server.js";
import { loadTls } from "../../api/tls.js";
import { LoginLimiter } from "../../auth/login-limiter.js";
import { generatePassword, hashPassword } from "../../auth/passwords.js";
import { SecretBox } from "../../auth/secrets.js";
import { TokenIssuer } from "../../auth/tokens.js";
import { Orchestrator } from "../../scan/orchestrator.js";
import { RegistryScanScheduler } from "../../scan/scheduler.js";
import { openConsoleStore } from "../../store/console.js";
import type { ConsoleStore } from "../../store/console-store.js";
import { VulnerabilityDatabase } from "../../vulndb/database.js";
import { enrichmentSources, feedSources } from "../../vulndb/sources/index.js";
import { updateDatabase } from "../../vulndb/update.js";
import { databaseFile } from "../database-file.js";
import { UsageError } from "../usage-error.js";
import { version } from "../version.js";
import { sourceOverrides } from "./db.js";

/** The first start's `admin` user: SHIPSHAPE_ADMIN_PASSWORD, or a generated password printed once. */
async function ensureAdmin(store: ConsoleStore, env: NodeJS.ProcessEnv): Promise<void> {
  if ((await store.countUsers()) > 0) return;
  const given = env.SHIPSHAPE_ADMIN_PASSWORD;
  const password = given && given !== "" ? given : generatePassword();
  await store.putUser({
    username: "admin",
    role: "admin",
    passwordHash: await hashPassword(password),
    createdAt: new Date().toISOString(),
  });
  if (!given)
    process.stdout.write(
      `Created user admin with password: ${password}\n(shown once; change it by setting SHIPSHAPE_ADMIN_PASSWORD before the first start)\n`,
    );
}

export async function runConsole(flags: ConsoleFlags): Promise<void> {
  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const overrides = sourceOverrides(config.sources);
  if (config.vulndbMirror && !fs.existsSync(config.vulndbMirror)) {
    throw new UsageError(`--vulndb-mirror ${config.vulndbMirror} does not exist`);
  }
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { store, console: consoleStore } = await openConsoleStore({
    sqliteFile: path.join(config.dataDir, "console.db"),
  });
  await ensureAdmin(consoleStore, process.env);
  const secrets = SecretBox.open(config.dataDir);
  const dbFile = databaseFile(config.dataDir);
  let database: VulnerabilityDatabase | undefined = fs.existsSync(dbFile)
    ? VulnerabilityDatabase.open(dbFile)
    : undefined;
  const orchestrator = new Orchestrator({
    store: consoleStore,
    cacheStore: store,
    database: () => {
      if (!database) throw new Error("the vulnerability database is still being built");
      return database;
    },
    resolveCredential: async (id) => {
      const credential = await consoleStore.getCredential(id);
      return credential && secrets.openCredential(credential);
    },
    hostname: os.hostname(),
    parallelSpecs: config.parallelSpecs,
  });
  await orchestrator.init();
  const https = config.http
    ? undefined
    : await loadTls({ dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey });
  let scheduler: RegistryScanScheduler | undefined;
  const app = await buildServer(
    {
      store: consoleStore,
      scans: orchestrator,
      secrets,
      tokens: TokenIssuer.open(config.dataDir),
      limiter: new LoginLimiter(),
      database: () => database,
      reschedule: async () => scheduler?.reschedule(),
      version,
    },
    {
      pathPrefix: config.pathPrefix,
      registryRateLimit: config.registryRateLimit,
      https,
      logger: { level: process.env.SHIPSHAPE_LOG_LEVEL ?? "info", redact: REDACTED_PATHS },
    },
  );
  const log = app.log;
  const address = await app.listen({ port: config.port, host: config.host });
  log.info({ address, dataDir: config.dataDir, tls: https?.origin ?? "off" }, "console listening");

  // A stop during the first start's database build abandons the build (the next start redoes it).
  const building = new AbortController();
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      building.abort();
      log.info({ signal }, "shutting down: stopping scans");
      scheduler?.stop();
      await app.close();
      await orchestrator.close();
      database?.close();
      await consoleStore.close();
      resolve();
    };
    process.once("SIGINT", () => void shutdown("SIGINT"));
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
  });

  if (!database) {
    log.info({ file: dbFile }, "no vulnerability database: building it (db update)");
    const built = await updateDatabase({
      signal: building.signal,
      dbFile,
      sources: [...feedSources],
      enrichment: [...enrichmentSources],
      overrides,
      mirror: config.vulndbMirror,
      onEvent: (event) => {
        if (event.kind === "source-done")
          log.info(
            {
              source: event.status.name,
              records: event.status.records,
              available: event.status.available,
            },
            "vulnerability source read",
          );
        else if (event.kind === "warning") log.warn({ source: event.source }, event.message);
        else if (event.kind === "fetch" && event.bytes === undefined)
          log.info({ source: event.source, origin: event.origin }, "fetching feed");
      },
    }).then(
      () => true,
      (err) => {
        if (building.signal.aborted) return false;
        throw err;
      },
    );
    if (!built) {
      await stopped;
      return;
    }
    database = VulnerabilityDatabase.open(dbFile);
    log.info({ builtAt: database.builtAt() }, "vulnerability database ready");
  }
  scheduler = new RegistryScanScheduler({
    store: consoleStore,
    scans: orchestrator,
    onError: (err) => log.error({ err }, "periodic scan"),
  });
  await scheduler.start();
  await stopped;
}
