/**
 * Saving registry specifications (spec 3.2, 3.3, 7.2): checks each entry, keeps only the fields of
 * RegistrySpecification (legacy keys such as `hostname` or `credentialId` are dropped, spec 7.2),
 * assigns ids, and on PUT keeps the id and scan status of entries the client echoed back unchanged.
 */
import { randomBytes } from "node:crypto";
import { providerFor } from "../registry/providers/index.js";
import { compileVersionPattern, VersionPatternError } from "../scan/version-pattern.js";
import type { StoredCredential, StoredSpec } from "../store/console-store.js";
import { badRequest } from "./errors.js";
import { REGISTRY_TYPES, RegistrySpecification, ZERO_TIME } from "./schemas.js";

export const MAX_SPECIFICATIONS = 19_999;
export const OS_VALUES = ["linux", "linuxARM64", "windows"] as const;

const SERVER_MANAGED = [
  "id",
  "scanStatus",
  "lastScanStatus",
  "scanTime",
  "lastScanTime",
  "scanError",
  "scannedImagesSuccessTotal",
] as const;
const SPEC_FIELDS = Object.keys(RegistrySpecification.properties) as (keyof RegistrySpecification)[];
const CONFIG_FIELDS = SPEC_FIELDS.filter((f) => !(SERVER_MANAGED as readonly string[]).includes(f));

/** A spec id: 24 hex digits, the length of the vendor's (Mongo ObjectId-like) identifiers. */
export function newSpecId(): string {
  return randomBytes(12).toString("hex");
}

/** Only the client-supplied configuration fields, in schema order. */
function configOf(spec: RegistrySpecification): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) if (spec[field] !== undefined) config[field] = spec[field];
  return config;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** 400 with a message for the first thing wrong with `spec`; `where` names it ("specifications[2]"). */
export function checkSpec(
  spec: RegistrySpecification,
  credentials: Map<string, StoredCredential>,
  where: string,
): void {
  const fail = (message: string) => badRequest(`${where}: ${message}`);
  if (!(REGISTRY_TYPES as readonly string[]).includes(spec.version)) {
    throw fail(
      `unknown registry type (version) "${spec.version}"; expected one of ${REGISTRY_TYPES.join(", ")}`,
    );
  }
  if (spec.os !== undefined && spec.os !== "" && !(OS_VALUES as readonly string[]).includes(spec.os)) {
    throw fail(`os must be one of ${OS_VALUES.join(", ")}, got "${spec.os}"`);
  }
  if (spec.cap !== undefined && !(Number.isInteger(spec.cap) && spec.cap >= 0)) {
    throw fail(`cap must be an integer >= 0 (0 = all tags), got ${spec.cap}`);
  }
  if (spec.scanners !== undefined && !(Number.isInteger(spec.scanners) && spec.scanners >= 1)) {
    throw fail(`scanners must be an integer >= 1, got ${spec.scanners}`);
  }
  if (spec.versionPattern !== undefined && spec.versionPattern.trim() !== "") {
    try {
      compileVersionPattern(spec.versionPattern);
    } catch (err) {
      if (err instanceof VersionPatternError) throw fail(err.message);
      throw err;
    }
  }
  if (spec.version === "gitlab") {
    const gitlab = spec.gitlabRegistrySpec;
    const hasIds =
      Boolean(gitlab?.userID) || (gitlab?.projectIDs?.length ?? 0) > 0 || (gitlab?.groupIDs?.length ?? 0) > 0;
    if (!hasIds) throw fail("a GitLab registry needs gitlabRegistrySpec.userID, projectIDs or groupIDs");
  }
  if (spec.credentialID !== undefined && spec.credentialID !== "") {
    const credential = credentials.get(spec.credentialID);
    if (!credential) throw fail(`credential "${spec.credentialID}" does not exist`);
    const provider = providerFor(spec.version);
    if (provider && !provider.credentialTypes.includes(credential.type)) {
      throw fail(
        `credential "${spec.credentialID}" has type ${credential.type}; registry type ${spec.version} takes ${provider.credentialTypes.join(", ")}`,
      );
    }
  }
}

/** A new entry: its configuration with a fresh id and unset status. */
export function freshSpec(spec: RegistrySpecification): StoredSpec {
  return {
    ...(configOf(spec) as RegistrySpecification),
    id: newSpecId(),
    scanStatus: "",
    lastScanStatus: "",
    scanTime: ZERO_TIME,
    lastScanTime: ZERO_TIME,
    scanError: "",
    scannedImagesSuccessTotal: 0,
  };
}

/**
 * The specifications a PUT stores: an entry echoing a stored id keeps that id — and, when its
 * configuration is unchanged, the stored scan status too; other entries get new ids.
 */
export function replacementSpecs(incoming: RegistrySpecification[], stored: StoredSpec[]): StoredSpec[] {
  const byId = new Map(stored.map((spec) => [spec.id, spec]));
  const used = new Set<string>();
  return incoming.map((spec) => {
    const previous = spec.id !== undefined ? byId.get(spec.id) : undefined;
    if (!previous || used.has(previous.id)) return freshSpec(spec);
    used.add(previous.id);
    if (canonical(configOf(spec)) === canonical(configOf(previous))) return previous;
    return { ...freshSpec(spec), id: previous.id };
  });
}
