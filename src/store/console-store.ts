/**
 * What the console keeps: users, encrypted credentials, registry specifications, scan settings,
 * scan runs with their per-repository and per-image work records, and image scan results.
 *
 * One interface, two implementations behind it (SQLite file by default, PostgreSQL for several
 * consoles and Defenders sharing one database), both built on the same Kysely queries. Progress is
 * computed from the same work records that hold each image's outcome, so the counters cannot drift
 * from the results.
 */
import type { Credential, RegistrySpecification, ScanSettings } from "../api/schemas.js";

export interface UserRecord {
  username: string;
  /** "scrypt$N$r$p$salt$hash" (base64 parts): the hash format src/auth/passwords.ts writes. */
  passwordHash: string;
  /** Built-in role string: admin, operator, auditor, devSecOps, vulnerabilityManager, … */
  role: string;
  createdAt: string;
}

/** What a guarded user change did: "last" = refused, it would leave no user of the kept role. */
export type UserChange = "done" | "missing" | "last";

/** A credential as stored: the wire object with every `plain` replaced by `encrypted`. */
export type StoredCredential = Credential & { created: string; lastModified: string; owner: string };

/** A registry specification with its server-managed fields filled (id, status, times). */
export type StoredSpec = RegistrySpecification & { id: string };

export type ScanKind = "regular" | "onDemand";
export type ScanRunState = "running" | "completed" | "failed" | "stopped" | "interrupted";

export interface ScanRun {
  id: number;
  kind: ScanKind;
  state: ScanRunState;
  /** Specification ids this run covers, in walk order (a selective or full scan). */
  specIds: string[];
  selective: boolean;
  hostname: string;
  startedAt: string;
  finishedAt?: string | undefined;
}

/** One repository's tag discovery within a run (progress step 1/2 counts these). */
export interface ScanRepoRecord {
  runId: number;
  specId: string;
  repository: string;
  state: "pending" | "done" | "failed";
  error?: string | undefined;
}

export type ScanImageState = "queued" | "scanning" | "done" | "failed" | "skipped" | "cancelled";

/** One image selected for scanning within a run (progress step 2/2 counts these). */
export interface ScanImageRecord {
  runId: number;
  specId: string;
  /** Result key: "<registry>/<repo>:<tag>" (ImageScanResult._id). */
  imageKey: string;
  registry: string;
  repository: string;
  tag: string;
  digest?: string | undefined;
  pushedAt?: string | undefined;
  state: ScanImageState;
  attempts: number;
  error?: string | undefined;
  updatedAt: string;
}

export interface SpecProgressCounts {
  specId: string;
  reposTotal: number;
  reposDone: number;
  imagesTotal: number;
  /** Images in a final state (done, failed, skipped, cancelled). */
  imagesFinished: number;
  imagesSucceeded: number;
  imagesFailed: number;
}

/** A stored image result: indexed columns for filtering and sorting, the rendered JSON beside. */
export interface ImageResultRecord {
  /** "<registry>/<repo>:<tag>". */
  id: string;
  /** Image id (config digest, "sha256:…"). */
  imageId: string;
  /** Manifest digest. */
  digest: string;
  registry: string;
  repository: string;
  tag: string;
  specId: string;
  scanTime: string;
  firstScanTime: string;
  vulnerabilityRiskScore: number;
  vulnerabilitiesCount: number;
  /** Vulnerability database build the findings came from: a rescan is skipped when unchanged. */
  databaseBuiltAt: string;
  /** Full ImageScanResult JSON object (non-compact). */
  result: Record<string, unknown>;
}

export type ImageResultSortKey =
  | "id"
  | "scanTime"
  | "vulnerabilityRiskScore"
  | "vulnerabilitiesCount"
  | "registry"
  | "repository"
  | "tag";

export interface ImageResultQuery {
  ids?: string[];
  imageIds?: string[];
  registries?: string[];
  repositories?: string[];
  tags?: string[];
  /** Full image names (same as ids; the `name` filter of GET /registry). */
  names?: string[];
  /** Case-insensitive substring over the image name (after unescaping the client's regex escapes). */
  search?: string;
  sort?: ImageResultSortKey;
  reverse?: boolean;
  offset?: number;
  limit?: number;
}

export interface ConsoleStore {
  // Users.
  getUser(username: string): Promise<UserRecord | undefined>;
  /** Inserts the user, or replaces the one of the same name. */
  putUser(user: UserRecord): Promise<void>;
  /** Inserts the user; false (and nothing written) when the name is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  /** Every user, by name in code-point order. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Changes a user's role or password hash unless that would leave no user of `keepRole` (the last
   * admin). "last" = refused; checked and written in one transaction.
   */
  updateUser(
    username: string,
    patch: Partial<Pick<UserRecord, "role" | "passwordHash">>,
    keepRole: string,
  ): Promise<UserChange>;
  /** Deletes a user unless it is the last of `keepRole`; as updateUser. */
  deleteUser(username: string, keepRole: string): Promise<UserChange>;
  countUsers(): Promise<number>;

  // Credentials (already encrypted by the caller; the store never sees plain text).
  listCredentials(): Promise<StoredCredential[]>;
  getCredential(id: string): Promise<StoredCredential | undefined>;
  putCredential(credential: StoredCredential): Promise<void>;
  /** Returns false when there was none with that id. */
  deleteCredential(id: string): Promise<boolean>;

  // Registry specifications, in stored order.
  listSpecs(): Promise<StoredSpec[]>;
  getSpec(id: string): Promise<StoredSpec | undefined>;
  appendSpec(spec: StoredSpec): Promise<void>;
  /** Replaces every specification with these, in order, in one transaction. */
  replaceSpecs(specs: StoredSpec[]): Promise<void>;
  /** Updates the server-managed fields of one specification (no-op if it was deleted meanwhile). */
  updateSpecStatus(
    id: string,
    patch: Partial<
      Pick<
        StoredSpec,
        | "scanStatus"
        | "lastScanStatus"
        | "scanTime"
        | "lastScanTime"
        | "scanError"
        | "scannedImagesSuccessTotal"
      >
    >,
  ): Promise<void>;

  // Scan settings (one row; defaults until first written).
  getScanSettings(): Promise<ScanSettings>;
  putScanSettings(settings: ScanSettings): Promise<void>;

  // Scan runs and their work records.
  createRun(run: Omit<ScanRun, "id">): Promise<ScanRun>;
  getRun(id: number): Promise<ScanRun | undefined>;
  finishRun(id: number, state: Exclude<ScanRunState, "running">, finishedAt: string): Promise<void>;
  /** Runs still "running" from a previous process: marked interrupted at start-up; returns them. */
  interruptRunningRuns(finishedAt: string): Promise<ScanRun[]>;
  /** The newest run of this kind (any state). */
  latestRun(kind: ScanKind): Promise<ScanRun | undefined>;
  /** The newest finished regular run (completed, failed, stopped or interrupted). */
  latestFinishedRegularRun(): Promise<ScanRun | undefined>;
  /** Appends an error message of a run (for GET /statuses/registry). */
  addRunError(runId: number, message: string, at: string): Promise<void>;
  /** The most recent `limit` distinct error messages of a run, newest first. */
  runErrors(runId: number, limit: number): Promise<string[]>;

  putRepos(records: ScanRepoRecord[]): Promise<void>;
  setRepoState(
    runId: number,
    specId: string,
    repository: string,
    state: ScanRepoRecord["state"],
    error?: string,
  ): Promise<void>;
  /** Inserts image work records; an existing (runId, specId, imageKey) is left unchanged. */
  putImages(records: ScanImageRecord[]): Promise<void>;
  updateImage(
    runId: number,
    specId: string,
    imageKey: string,
    patch: Partial<Pick<ScanImageRecord, "state" | "attempts" | "error" | "digest" | "updatedAt">>,
  ): Promise<void>;
  listImages(runId: number, specId?: string, states?: ScanImageState[]): Promise<ScanImageRecord[]>;
  /** Marks every queued or scanning image of a run (optionally of one spec) cancelled. */
  cancelImages(runId: number, specId: string | undefined, at: string): Promise<number>;
  progressCounts(runId: number): Promise<SpecProgressCounts[]>;

  // Image results, upserted by result id; firstScanTime is kept across updates.
  upsertResult(result: ImageResultRecord): Promise<void>;
  getResult(id: string): Promise<ImageResultRecord | undefined>;
  /** The newest result of a manifest digest scanned against a database build, if any. */
  findResultByDigest(digest: string, databaseBuiltAt: string): Promise<ImageResultRecord | undefined>;
  queryResults(query: ImageResultQuery): Promise<{ total: number; results: ImageResultRecord[] }>;
  /** Results not rescanned since `before` (images gone from the registry) are deleted; returns how many. */
  purgeResultsOlderThan(before: string): Promise<number>;
  allResultDigests(): Promise<{ id: string; digest: string }[]>;

  close(): Promise<void>;
}
