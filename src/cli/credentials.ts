/** Registry credentials from command-line flags; the password only ever comes from stdin. */
import type { Credentials } from "../registry/auth.js";
import { UsageError } from "./usage-error.js";

export interface CredentialFlags {
  username?: string;
  passwordStdin?: boolean;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function credentialsFromFlags(flags: CredentialFlags): Promise<Credentials> {
  if (flags.passwordStdin && !flags.username) throw new UsageError("--password-stdin needs --username");
  if (!flags.username) return { kind: "anonymous" };
  if (!flags.passwordStdin)
    throw new UsageError("--username needs --password-stdin (passwords are never taken as arguments)");
  const password = (await readStdin()).replace(/\r?\n$/, "");
  if (!password) throw new UsageError("no password on stdin");
  return { kind: "basic", username: flags.username, password };
}
