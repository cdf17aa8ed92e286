/**
 * Image references and registry addresses (distribution/reference grammar; Docker Hub defaults as
 * docker/cli normalises them: implicit docker.io host, library/ prefix for single-component names).
 */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

export interface ImageReference {
  /** Registry host as the user named it ("docker.io", "127.0.0.1:5000"). */
  registry: string;
  repository: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
/** Registered algorithms have a fixed encoding (OCI image-spec descriptor.md): lower-case hex of one length. */
const DIGEST_ENCODING: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
/** distribution/reference domain: dot-separated labels or a bracketed IPv6 literal, optional port. */
const LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[a-fA-F0-9:.]+\\])(?::([0-9]+))?$`);
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidRepository(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name.split("/").every((c) => REPO_COMPONENT.test(c));
}

export function isDigest(ref: string): boolean {
  if (!DIGEST.test(ref)) return false;
  const colon = ref.indexOf(":");
  const encoding = DIGEST_ENCODING[ref.slice(0, colon)];
  return encoding === undefined || encoding.test(ref.slice(colon + 1));
}

/** `host[:port]` as a registry host: DNS labels, IPv4 or a bracketed IPv6 literal, port 1–65535. */
export function isValidHost(host: string): boolean {
  const m = HOST.exec(host);
  if (!m) return false;
  return m[1] === undefined || (Number(m[1]) >= 1 && Number(m[1]) <= 65535);
}

/** Parses `[host[:port]/]path[:tag][@digest]`; throws a plain Error with the reason on bad input. */
export function parseImageReference(input: string): ImageReference {
  let rest = input.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new Error(`invalid digest in image reference "${input}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new Error(`invalid tag "${tag}" in image reference "${input}"`);
  }
  let registry = DOCKER_HUB;
  const firstSlash = rest.indexOf("/");
  if (firstSlash > 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      if (!isValidHost(first))
        throw new Error(`invalid registry host "${first}" in image reference "${input}"`);
      registry = first;
      rest = rest.slice(firstSlash + 1);
    }
  }
  if (isDockerHub(registry) && !rest.includes("/")) rest = `library/${rest}`;
  if (!isValidRepository(rest))
    throw new Error(`invalid repository name "${rest}" in image reference "${input}"`);
  if (!tag && !digest) tag = "latest";
  return { registry, repository: rest, tag, digest };
}

export function isDockerHub(host: string): boolean {
  return host === DOCKER_HUB || host === "index.docker.io" || host === DOCKER_HUB_API;
}

export interface RegistryAddress {
  /** host[:port] */
  host: string;
  /** Explicit scheme when the user wrote one. */
  scheme?: "http" | "https" | undefined;
  /** API path prefix before /v2 (Artifactory, Nexus), without trailing slash; "" for none. */
  pathPrefix: string;
}

/** Parses what a user types for a registry: "host:port", "https://host/prefix", "docker.io". */
export function parseRegistryAddress(input: string): RegistryAddress {
  const text = input.trim().replace(/\/+$/, "");
  const m = /^(?:(https?):\/\/)?([^/\s]+)((?:\/[^/?#\s]+)*)$/i.exec(text);
  if (!m?.[2] || !isValidHost(m[2])) throw new Error(`invalid registry address "${input}"`);
  let pathPrefix = m[3] ?? "";
  if (pathPrefix.endsWith("/v2")) pathPrefix = pathPrefix.slice(0, -3);
  const hub = isDockerHub(m[2].toLowerCase());
  // Docker Hub serves /v2/ at its root; "/v1" comes from the config.json key https://index.docker.io/v1/.
  if (hub && pathPrefix === "/v1") pathPrefix = "";
  const host = hub ? DOCKER_HUB_API : m[2];
  const scheme = m[1]?.toLowerCase() as "http" | "https" | undefined;
  return { host, scheme, pathPrefix };
}
