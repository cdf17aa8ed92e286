/**
 * Credential secrets at rest (spec 3.5, 3.6, 7.4): `secret.plain` and `apiToken.plain` are encrypted
 * with AES-256-GCM as soon as a credential is received, and only `encrypted` is stored or returned.
 *
 * The key comes from SHIPSHAPE_SECRET_KEY (32 bytes as base64 or 64 hex digits) or from
 * `<data-dir>/secret.key`, generated at first start (0600). Encrypted values read
 * "v1:<base64 of 12-byte IV | 16-byte tag | ciphertext>"; the credential `_id` and field name are
 * bound as associated data, so a value copied onto another credential or field does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import path from "node:path";
import type { Credential, Secret } from "../api/schemas.js";
import { loadOrCreateKey } from "./key-file.js";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = "v1:";

export type SecretField = "secret" | "apiToken";
export const SECRET_FIELDS: readonly SecretField[] = ["secret", "apiToken"];

export class SecretError extends Error {}

/** Parses SHIPSHAPE_SECRET_KEY: base64 or hex of exactly 32 bytes. */
export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== KEY_BYTES) {
    throw new SecretError("SHIPSHAPE_SECRET_KEY must be 32 bytes, as base64 or 64 hex digits");
  }
  return key;
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SecretError(`a secret key has ${KEY_BYTES} bytes`);
  }

  /** The key from the environment when set, else the data directory's key file. */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    const fromEnv = env.SHIPSHAPE_SECRET_KEY;
    if (fromEnv !== undefined && fromEnv !== "") return new SecretBox(parseSecretKey(fromEnv));
    return new SecretBox(loadOrCreateKey(path.join(dataDir, "secret.key"), KEY_BYTES));
  }

  encrypt(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  decrypt(encrypted: string, context: string): string {
    if (!encrypted.startsWith(PREFIX)) throw new SecretError("not a value this console encrypted");
    const raw = Buffer.from(encrypted.slice(PREFIX.length), "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretError("encrypted value is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      throw new SecretError("encrypted value does not decrypt with this console's key");
    }
  }

  /**
   * The credential as it may be stored: each `plain` encrypted and dropped. A field sent without
   * `plain` keeps `previous`'s value (clients echo what GET returned, or send `{}`); an echoed
   * `encrypted` must be one this key wrote for this credential and field.
   */
  sealCredential(credential: Credential, previous?: Credential): Credential {
    const sealed: Credential = { ...credential };
    for (const field of SECRET_FIELDS) {
      const context = `${credential._id}/${field}`;
      const given: Secret | undefined = credential[field];
      if (given?.plain !== undefined && given.plain !== "") {
        sealed[field] = { encrypted: this.encrypt(given.plain, context) };
      } else if (given?.encrypted !== undefined && given.encrypted !== "") {
        this.decrypt(given.encrypted, context);
        sealed[field] = { encrypted: given.encrypted };
      } else if (previous?.[field]?.encrypted) {
        sealed[field] = { encrypted: previous[field].encrypted };
      } else {
        sealed[field] = {};
      }
    }
    return sealed;
  }

  /** The credential with `plain` filled from `encrypted`, for one use by a registry provider. */
  openCredential(credential: Credential): Credential {
    const opened: Credential = { ...credential };
    for (const field of SECRET_FIELDS) {
      const encrypted = credential[field]?.encrypted;
      if (encrypted) opened[field] = { plain: this.decrypt(encrypted, `${credential._id}/${field}`) };
    }
    return opened;
  }
}
