/**
 * The options of every command that reads an image, kept apart from the indexing code they drive
 * so that declaring the commands loads nothing heavy.
 */
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type { CredentialFlags } from "./credentials.js";

export interface ImageFlags extends CredentialFlags {
  platform?: string;
  insecure?: boolean;
  cacheDir: string;
  cache: boolean;
}

export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "shipshape");
}

/** Adds the options shared by every command that reads an image. */
export function imageOptions(command: Command): Command {
  return command
    .argument(
      "<image>",
      "registry reference, OCI layout directory (DIR or oci:DIR:REF), or docker save archive",
    )
    .option("--platform <os/arch[/variant]>", "platform to pick from a multi-platform image", "linux/amd64")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the registry password or token from stdin")
    .option("--insecure", "allow plain HTTP and unverified TLS for the registry")
    .option("--cache-dir <dir>", "cache location (layer cache, vulnerability database)", defaultCacheDir())
    .option("--no-cache", "analyse every layer again, leaving the layer cache untouched");
}
