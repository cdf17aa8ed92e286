/** What `shipshape registry ls` does once its flags are checked: list, then print text or JSON. */
import { mapBounded } from "../../registry/backoff.js";
import { RegistryClient, type RegistryClientOptions } from "../../registry/client.js";
import type { LsFlags } from "../commands/registry.js";
import { credentialsFromFlags } from "../credentials.js";
import { ProgressLine } from "../progress.js";
import { UsageError } from "../usage-error.js";

interface RepositoryListing {
  repository: string;
  tags: { tag: string; digest?: string }[];
}

export async function runRegistryLs(
  address: string,
  flags: LsFlags,
  { pageSize, concurrency }: { pageSize: number; concurrency: number },
): Promise<void> {
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
  const listings = await mapBounded(repositories, opts.concurrency, async (repository) => {
    const tags = await client.listTags(repository, { pageSize: opts.pageSize });
    const entries = await mapBounded(tags, opts.digests ? opts.concurrency : 1, async (tag) =>
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

/** The client checks its configuration when built: a bad address is the caller's mistake. */
function newClient(options: RegistryClientOptions): RegistryClient {
  try {
    return new RegistryClient(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
