import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { generate } from "selfsigned";
import { Agent, request } from "undici";
import { freePort } from "./paths.js";
import { ensureCommand } from "./tools.js";

const run = promisify(execFile);

export type RegistryAuth =
  | { kind: "none" }
  | { kind: "htpasswd"; users: Record<string, string> }
  /** Field names match what startTokenServer returns, so a token server can be passed as is. */
  | { kind: "token"; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** Filesystem storage root; default: a fresh empty one, deleted on stop. */
  storageDir?: string;
  /**
   * Serve without writing anything (distribution's maintenance read-only mode, no upload purging).
   * Use it for shared storage such as the seeded cache, which several registries serve at once.
   */
  readOnly?: boolean;
  /** distribution's `catalog.maxentries` (default 1000): a larger `n` on /v2/_catalog is a 400. */
  maxEntries?: number;
  /** Serve HTTPS with this PEM certificate and key (e.g. from generateRegistryCertificates). */
  tls?: { cert: string; key: string };
}

export interface RegistryCertificates {
  /** The CA's PEM certificate: what a client must trust (RegistrySpecification.caCert). */
  caCert: string;
  /** The registry's PEM certificate for 127.0.0.1, signed by the CA, and its key. */
  cert: string;
  key: string;
}

/** A private CA and a server certificate it signed for 127.0.0.1, as a company registry has. */
export async function generateRegistryCertificates(): Promise<RegistryCertificates> {
  const ca = await generate([{ name: "commonName", value: "shipshape test registry CA" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keySize: 2048,
    algorithm: "sha256",
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  });
  return { caCert: ca.cert, cert: server.cert, key: server.private };
}

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT` (`https://` with the tls option) */
  url: string;
  /** `127.0.0.1:PORT`, as in image references */
  host: string;
  /** The registry's stdout and stderr; deleted on stop, so read it before. */
  logFile: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 5;
const INSTANCE_HEADER = "x-shipshape-registry-instance";
const running = new Set<ChildProcess>();
/** The start-up probe asks whether this instance is up (its header says so), not whom to trust. */
const probeAgent = new Agent({ connect: { rejectUnauthorized: false } });

// A test process that ends without calling stop() must not leave registries behind. The 'exit'
// hook covers normal ends; setpriv --pdeathsig below covers crashes and SIGKILL of this process.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** YAML double-quoted scalars accept JSON string syntax, so paths need no further escaping. */
const q = JSON.stringify;

function authSection(auth: RegistryAuth, htpasswdFile: string): string {
  switch (auth.kind) {
    case "none":
      return "";
    case "htpasswd":
      return `auth:\n  htpasswd:\n    realm: shipshape\n    path: ${q(htpasswdFile)}\n`;
    case "token":
      return [
        "auth:",
        "  token:",
        `    realm: ${q(auth.realm)}`,
        `    service: ${q(auth.service)}`,
        `    issuer: ${q(auth.issuer)}`,
        `    rootcertbundle: ${q(auth.rootCertBundle)}`,
        "",
      ].join("\n");
  }
}

interface Instance {
  port: number;
  /** Sent back in INSTANCE_HEADER on every response. */
  id: string;
}

function configYaml(
  opts: RegistryOptions,
  storageDir: string,
  htpasswdFile: string,
  instance: Instance,
  tlsFiles: { cert: string; key: string },
): string {
  const maintenance = opts.readOnly
    ? "  maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: true\n"
    : "";
  const catalog = opts.maxEntries === undefined ? "" : `catalog:\n  maxentries: ${opts.maxEntries}\n`;
  return (
    "version: 0.1\n" +
    "log:\n  level: warn\n  formatter: text\n" +
    `storage:\n  filesystem:\n    rootdirectory: ${q(storageDir)}\n  delete:\n    enabled: true\n${maintenance}` +
    // A fixed secret per instance silences distribution's "no HTTP secret" warning.
    `http:\n  addr: 127.0.0.1:${instance.port}\n  secret: ${randomBytes(16).toString("hex")}\n` +
    `  headers:\n    ${INSTANCE_HEADER}: [${q(instance.id)}]\n` +
    (opts.tls ? `  tls:\n    certificate: ${q(tlsFiles.cert)}\n    key: ${q(tlsFiles.key)}\n` : "") +
    catalog +
    authSection(opts.auth ?? { kind: "none" }, htpasswdFile)
  );
}

async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  await ensureCommand("htpasswd", "apache2-utils");
  let create = true;
  for (const [user, password] of Object.entries(users)) {
    // -B: bcrypt, the only hash distribution's htpasswd backend accepts.
    await run("htpasswd", [create ? "-Bbc" : "-Bb", file, user, password]);
    create = false;
  }
}

/**
 * "ready" once this very instance answers /v2/ with 200 or 401 (checked by its instance header, since
 * a process that took the port first would answer too); "exited" if it died first (e.g. port taken).
 */
async function waitUntilServing(
  child: ChildProcess,
  url: string,
  instance: string,
): Promise<"ready" | "exited"> {
  const exited = new Promise<"exited">((resolve) => child.once("exit", () => resolve("exited")));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return "exited";
    try {
      const res = await request(`${url}/v2/`, {
        headersTimeout: 1000,
        bodyTimeout: 1000,
        dispatcher: probeAgent,
      });
      await res.body.dump();
      const ours = res.headers[INSTANCE_HEADER] === instance;
      if (ours && (res.statusCode === 200 || res.statusCode === 401)) return "ready";
    } catch {
      // Not listening yet.
    }
    if ((await Promise.race([exited, sleep(50)])) === "exited") return "exited";
  }
  throw new Error(`registry at ${url} did not answer /v2/ within ${START_TIMEOUT_MS} ms`);
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts CNCF distribution (Debian's docker-registry, 2.8) on 127.0.0.1 with a generated config and
 * resolves once `/v2/` answers 200 or 401.
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  await ensureCommand("docker-registry", "docker-registry");
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-registry-"));
  const storageDir = opts.storageDir ?? path.join(workDir, "storage");
  const configFile = path.join(workDir, "config.yml");
  const htpasswdFile = path.join(workDir, "htpasswd");
  const logFile = path.join(workDir, "registry.log");
  const tlsFiles = { cert: path.join(workDir, "tls.crt"), key: path.join(workDir, "tls.key") };
  if (opts.auth?.kind === "htpasswd") await writeHtpasswd(htpasswdFile, opts.auth.users);
  if (opts.tls) {
    await fs.writeFile(tlsFiles.cert, opts.tls.cert);
    await fs.writeFile(tlsFiles.key, opts.tls.key, { mode: 0o600 });
  }

  for (let attempt = 1; ; attempt++) {
    // freePort() can race with other processes; a registry that lost the race exits and we retry.
    const port = await freePort();
    const id = randomBytes(16).toString("hex");
    await fs.writeFile(configFile, configYaml(opts, storageDir, htpasswdFile, { port, id }, tlsFiles));
    const log = await fs.open(logFile, "w");
    const child = spawn("setpriv", ["--pdeathsig", "SIGTERM", "docker-registry", "serve", configFile], {
      stdio: ["ignore", log.fd, log.fd],
    });
    await log.close();
    running.add(child);
    child.once("exit", () => running.delete(child));
    const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
    const state = await waitUntilServing(child, url, id).catch(async (err: unknown) => {
      await terminate(child);
      await fs.rm(workDir, { recursive: true, force: true });
      throw err;
    });
    if (state === "ready") {
      return {
        url,
        host: `127.0.0.1:${port}`,
        logFile,
        async stop() {
          await terminate(child);
          await fs.rm(workDir, { recursive: true, force: true });
        },
      };
    }
    const output = await fs.readFile(logFile, "utf8");
    if (!output.includes("address already in use") || attempt === START_ATTEMPTS) {
      await fs.rm(workDir, { recursive: true, force: true });
      throw new Error(`docker-registry exited during startup:\n${output}`);
    }
  }
}
