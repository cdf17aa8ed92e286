import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { request } from "undici";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * Basic credentials go on every request (htpasswd registries). `bearer` is asked once per push for a
 * token covering `scopes` (push on the target, pull on every repository a blob is mounted from).
 */
export type PushAuth =
  | { username: string; password: string }
  | { bearer: (scopes: string[]) => Promise<string> };

/** Blob digest → repositories of one registry known to hold it; enables cross-repository mounts. */
export type KnownBlobs = Map<string, Set<string>>;

export interface PushRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  auth?: PushAuth;
  /**
   * Share one map across pushes into the same registry (and only that registry's lifetime) so blobs
   * already pushed are mounted or skipped instead of uploaded again.
   */
  knownBlobs?: KnownBlobs;
}

export interface PushTarget {
  repository: string;
  tag: string;
}

export interface PushResult {
  digest: string;
  mediaType: string;
  /** Blob counts by how they got there. */
  uploaded: number;
  mounted: number;
  existing: number;
}

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

interface ManifestNode {
  descriptor: Descriptor;
  bytes: Buffer;
  blobs: Descriptor[];
  children: ManifestNode[];
}

function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (algorithm === undefined || hex === undefined) throw new Error(`malformed digest ${digest}`);
  return path.join(layoutDir, "blobs", algorithm, hex);
}

async function loadManifest(layoutDir: string, descriptor: Descriptor): Promise<ManifestNode> {
  const bytes = await fs.readFile(blobPath(layoutDir, descriptor.digest));
  const json = JSON.parse(bytes.toString("utf8")) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  if (INDEX_TYPES.has(descriptor.mediaType)) {
    const children = await Promise.all((json.manifests ?? []).map((child) => loadManifest(layoutDir, child)));
    return { descriptor, bytes, blobs: [], children };
  }
  const blobs = [...(json.config ? [json.config] : []), ...(json.layers ?? [])];
  return { descriptor, bytes, blobs, children: [] };
}

/** The descriptor that the layout's index.json names `refName` (org.opencontainers.image.ref.name). */
export async function findInLayout(layoutDir: string, refName: string): Promise<Descriptor> {
  const index = JSON.parse(await fs.readFile(path.join(layoutDir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const found = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === refName);
  if (found === undefined) throw new Error(`no image ${refName} in ${layoutDir}`);
  return found;
}

function allBlobs(node: ManifestNode): Descriptor[] {
  return [...node.blobs, ...node.children.flatMap(allBlobs)];
}

class Pusher {
  readonly counts = { uploaded: 0, mounted: 0, existing: 0 };
  private authorization: string | undefined;

  constructor(
    private readonly registry: PushRegistry,
    private readonly known: KnownBlobs,
    private readonly repository: string,
  ) {}

  async authorize(mountSources: string[]): Promise<void> {
    const auth = this.registry.auth;
    if (auth === undefined) return;
    if ("bearer" in auth) {
      const scopes = [
        `repository:${this.repository}:pull,push`,
        ...mountSources.map((r) => `repository:${r}:pull`),
      ];
      this.authorization = `Bearer ${await auth.bearer(scopes)}`;
    } else {
      this.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    }
  }

  mountSource(digest: string): string | undefined {
    const holders = this.known.get(digest);
    if (holders === undefined || holders.has(this.repository)) return undefined;
    return holders.values().next().value;
  }

  private async send(
    method: "HEAD" | "POST" | "PUT",
    url: string,
    body?: { data: Buffer | Readable; type: string; length: number },
  ) {
    const headers: Record<string, string> = {};
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    if (body !== undefined) {
      headers["content-type"] = body.type;
      headers["content-length"] = String(body.length);
    }
    const res = await request(new URL(url, this.registry.url), {
      method,
      headers,
      body: body?.data ?? null,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  private fail(what: string, res: { status: number; text: string }): never {
    throw new Error(
      `push to ${this.registry.url}/${this.repository}: ${what} answered ${res.status}: ${res.text}`,
    );
  }

  private remember(digest: string): void {
    let holders = this.known.get(digest);
    if (holders === undefined) {
      holders = new Set();
      this.known.set(digest, holders);
    }
    holders.add(this.repository);
  }

  async ensureBlob(layoutDir: string, blob: Descriptor): Promise<void> {
    const name = this.repository;
    if (this.known.get(blob.digest)?.has(name)) return;
    const head = await this.send("HEAD", `/v2/${name}/blobs/${blob.digest}`);
    if (head.status === 200) {
      this.counts.existing++;
      this.remember(blob.digest);
      return;
    }
    const from = this.mountSource(blob.digest);
    const start = await this.send(
      "POST",
      from === undefined
        ? `/v2/${name}/blobs/uploads/`
        : `/v2/${name}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
    );
    if (start.status === 201) {
      this.counts.mounted++;
      this.remember(blob.digest);
      return;
    }
    // 202: an upload session, also what a failed mount falls back to.
    const location = start.headers.location;
    if (start.status !== 202 || typeof location !== "string") this.fail("starting an upload", start);
    const target = new URL(location, this.registry.url);
    target.searchParams.set("digest", blob.digest);
    // Streamed from disk with a known length: layers can be hundreds of MB.
    const data = createReadStream(blobPath(layoutDir, blob.digest));
    const put = await this.send("PUT", target.href, {
      data,
      type: "application/octet-stream",
      length: blob.size,
    });
    if (put.status !== 201) this.fail(`uploading ${blob.digest}`, put);
    this.counts.uploaded++;
    this.remember(blob.digest);
  }

  async putManifest(node: ManifestNode, reference: string): Promise<void> {
    const { mediaType, digest } = node.descriptor;
    const res = await this.send("PUT", `/v2/${this.repository}/manifests/${reference}`, {
      data: node.bytes,
      type: mediaType,
      length: node.bytes.length,
    });
    if (res.status !== 201) this.fail(`PUT manifest ${reference}`, res);
    const stored = res.headers["docker-content-digest"];
    if (stored !== digest)
      throw new Error(`registry stored manifest ${reference} as ${stored}, expected ${digest}`);
  }

  /** Children first, by digest: the registry refuses an index whose manifests it does not have. */
  async pushTree(layoutDir: string, node: ManifestNode, reference: string): Promise<void> {
    for (const child of node.children) await this.pushTree(layoutDir, child, child.descriptor.digest);
    for (const blob of node.blobs) await this.ensureBlob(layoutDir, blob);
    await this.putManifest(node, reference);
  }
}

/**
 * Pushes one image (manifest or whole index) of an OCI image layout to `registry` as
 * `target.repository:target.tag`, uploading only the blobs the repository lacks.
 */
export async function pushImage(
  layoutDir: string,
  refName: string,
  registry: PushRegistry,
  target: PushTarget,
): Promise<PushResult> {
  const root = await loadManifest(layoutDir, await findInLayout(layoutDir, refName));
  const pusher = new Pusher(registry, registry.knownBlobs ?? new Map(), target.repository);
  const sources = allBlobs(root).flatMap((blob) => pusher.mountSource(blob.digest) ?? []);
  await pusher.authorize([...new Set(sources)]);
  await pusher.pushTree(layoutDir, root, target.tag);
  return { digest: root.descriptor.digest, mediaType: root.descriptor.mediaType, ...pusher.counts };
}
