/**
 * `shipshape console`: the registry-scanning console (issue 5 "Running it"): the Prisma Cloud
 * Compute compatible API (src/api/server.ts) over HTTPS on 8083 by default, the SQLite store and
 * layer cache under the data directory, the vulnerability database (built with the `db update`
 * code path when missing, progress in the log), the scan orchestrator and the periodic scheduler.
 * Settings: flag > SHIPSHAPE_* environment > config file > default (src/api/config.ts).
 * SIGINT/SIGTERM stop the listener, the scheduler and every scan, then close the stores.
 */
import type { Command } from "commander";
import type { ConsoleFlags } from "../../api/config.js";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerConsoleCommand(program: Command): void {
  program
    .command("console")
    .description("Run the registry-scanning console (Prisma Cloud Compute compatible API)")
    .option("--port <port>", "listen port (default 8083; SHIPSHAPE_PORT)")
    .option("--host <address>", "listen address (default 0.0.0.0; SHIPSHAPE_HOST)")
    .option("--data-dir <dir>", "store, keys, certificate and database (SHIPSHAPE_DATA_DIR)")
    .option("--http", "serve plain HTTP instead of HTTPS (SHIPSHAPE_HTTP)")
    .option("--tls-cert <file>", "PEM certificate (default: self-signed, generated once; SHIPSHAPE_TLS_CERT)")
    .option("--tls-key <file>", "PEM private key for --tls-cert (SHIPSHAPE_TLS_KEY)")
    .option("--config <file>", "JSON or YAML settings file (SHIPSHAPE_CONFIG)")
    .option(
      "--vulndb-mirror <dir>",
      "build the vulnerability database from this mirror folder (SHIPSHAPE_VULNDB_MIRROR)",
    )
    .option(
      "--source <name=url|path>",
      "read one feed from this URL or path (repeatable; SHIPSHAPE_SOURCES)",
      collect,
    )
    .option(
      "--parallel-specs <n>",
      "registry specifications scanned at once (default 1; SHIPSHAPE_PARALLEL_SPECS)",
    )
    .option("--path-prefix <prefix>", "serve the API under this path prefix (SHIPSHAPE_PATH_PREFIX)")
    .option(
      "--registry-rate-limit <requests/window>",
      "limit GET /registry per user, e.g. 30/30s as Prisma SaaS (default off; SHIPSHAPE_REGISTRY_RATE_LIMIT)",
    )
    .action(async (flags: ConsoleFlags) => {
      // Loaded here, not at start-up: every command's code would otherwise load for any one of them.
      const { runConsole } = await import("../actions/console.js");
      await runConsole(flags);
    });
}
