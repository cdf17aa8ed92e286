/**
 * Password hashing for console users (spec 2.1, 1.3 Basic): scrypt with a random salt, stored as
 * "scrypt$N$r$p$salt$hash" (base64 parts, the format UserRecord.passwordHash documents), compared in
 * constant time. The cost parameters travel with each hash, so raising them later keeps old hashes valid.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const COST = { N: 16_384, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST.N, COST.r, COST.p);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** false for a wrong password and for a hash this code did not write. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (![N, R, P].every((v) => Number.isSafeInteger(v) && v > 0)) return false;
  const expected = Buffer.from(hash, "base64");
  if (expected.length !== KEY_BYTES) return false;
  const actual = await derive(password, Buffer.from(salt, "base64"), N, R, P);
  return timingSafeEqual(actual, expected);
}

/** A password for the first admin when none is configured: 24 characters of URL-safe base64. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
