/** `shipshape registry ls`: repositories and tags of a registry, optionally with manifest digests. */
import type { Command } from "commander";
import type { CredentialFlags } from "../credentials.js";
import { UsageError } from "../usage-error.js";

export interface LsFlags extends CredentialFlags {
  repo?: string[];
  digests?: boolean;
  insecure?: boolean;
  pageSize: string;
  concurrency: string;
  format: string;
}

export function registerRegistryCommands(program: Command): void {
  const registry = program.command("registry").description("Talk to a container registry");
  registry
    .command("ls")
    .description("List repositories and their tags")
    .argument("<registry>", "registry address: host[:port], or a URL with scheme and path prefix")
    .option("--repo <name...>", "only these repositories (needed where the registry has no catalog)")
    .option("--digests", "resolve each tag to its manifest digest (HEAD requests)")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the password or token from stdin")
    .option("--insecure", "allow plain HTTP and unverified TLS for this registry")
    .option("--page-size <n>", "entries per catalog/tags page", "100")
    .option("--concurrency <n>", "requests in flight to the registry", "4")
    .option("--format <format>", "text or json", "text")
    .action(async (address: string, flags: LsFlags) => {
      const pageSize = positiveInt(flags.pageSize, "--page-size");
      const concurrency = positiveInt(flags.concurrency, "--concurrency");
      if (flags.format !== "text" && flags.format !== "json")
        throw new UsageError(`unknown --format ${flags.format}`);
      // Loaded here, not at start-up: every command's code would otherwise load for any one of them.
      const { runRegistryLs } = await import("../actions/registry.js");
      await runRegistryLs(address, flags, { pageSize, concurrency });
    });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}
