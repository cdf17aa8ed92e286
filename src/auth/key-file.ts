/**
 * A secret key kept in the data directory, generated at first start: written owner-only (0600) with
 * exclusive create, so two consoles starting together on one directory end up with the same key.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export function loadOrCreateKey(file: string, bytes: number): Buffer {
  try {
    return readKey(file, bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${randomBytes(bytes).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readKey(file, bytes);
}

function readKey(file: string, bytes: number): Buffer {
  const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== bytes) throw new Error(`${file}: expected a base64 key of ${bytes} bytes`);
  return key;
}
