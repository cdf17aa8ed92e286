/** `shipshape registry ls`: repositories and tags of a registry, optionally with manifest digests. */
import type { Command } from "commander";
import { RegistryClient, type RegistryClientOptions } from "../../registry/client.js";
import { type CredentialFlags, credentialsFromFlags } from "../credentials.js";
import { ProgressLine } from "../progress.js";
import { UsageError } from "../usage-error.js";

interface LsFlags extends CredentialFlags {
  repo?: string[];
  digests?: boolean;
  insecure?: boolean;
  pageSize: string;
  concurrency: string;
  format: string;
}

interface RepositoryListing {
  repository: string;
  tags: { tag: string; digest?: string }[];
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
      const client = newClient({
        registry: address,
        insecure: flags.insecure ?? false,
        credentials: await credentialsFromFlags(flags),
        concurrency,
      });
      try {
        const listings = await listRegistry(client, flags.repo, {
          pageSize,
          concurrency,
          digests: flags.digests ?? false,
        });
        process.stdout.write(
          flags.format === "json"
            ? `${JSON.stringify(listings, null, 2)}\n`
            : formatText(listings, flags.digests ?? false),
        );
      } finally {
        await client.close();
      }
    });
}

async function listRegistry(
  client: RegistryClient,
  only: string[] | undefined,
  opts: { pageSize: number; concurrency: number; digests: boolean },
): Promise<RepositoryListing[]> {
  const progress = new ProgressLine();
  progress.update("listing repositories…");
  const repositories = only?.length
    ? [...new Set(only)].sort()
    : await client.listRepositories({ pageSize: opts.pageSize });
  let done = 0;
  let tagCount = 0;
  const listings = await mapConcurrent(repositories, opts.concurrency, async (repository) => {
    const tags = await client.listTags(repository, { pageSize: opts.pageSize });
    const entries = await mapConcurrent(tags, opts.digests ? opts.concurrency : 1, async (tag) =>
      opts.digests ? { tag, digest: (await client.headManifest(repository, tag)).digest } : { tag },
    );
    done++;
    tagCount += tags.length;
    progress.update(`listing tags: ${done}/${repositories.length} repositories, ${tagCount} tags`);
    return { repository, tags: entries };
  });
  progress.done(`${repositories.length} repositories, ${tagCount} tags`);
  return listings;
}

function formatText(listings: RepositoryListing[], digests: boolean): string {
  const rows = listings.flatMap((l) =>
    l.tags.map((t) => [l.repository, t.tag, ...(digests ? [t.digest ?? ""] : [])]),
  );
  const header = ["REPOSITORY", "TAG", ...(digests ? ["DIGEST"] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the result. */
async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The client checks its configuration when built: a bad address is the caller's mistake. */
function newClient(options: RegistryClientOptions): RegistryClient {
  try {
    return new RegistryClient(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}
