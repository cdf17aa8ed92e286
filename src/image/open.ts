/**
 * Turns what a user names into an image source: `oci:DIR[:REF]` or a layout directory,
 * `docker-archive:FILE` or an archive file, else a registry reference (`host/repo:tag@digest`).
 */
import fs from "node:fs";
import type { Credentials } from "../registry/auth.js";
import { RegistryClient } from "../registry/client.js";
import { parseImageReference } from "../registry/reference.js";
import type { Platform } from "./manifest.js";
import type { ImageSource } from "./source.js";
import { openDockerArchive } from "./sources/docker-archive.js";
import { openOciLayout } from "./sources/oci-layout.js";
import { openRegistryImage } from "./sources/registry.js";

export interface OpenImageOptions {
  insecure?: boolean;
  credentials?: Credentials;
  platform?: Platform | undefined;
  signal?: AbortSignal;
}

const isLayoutDir = (dir: string) => fs.existsSync(`${dir}/oci-layout`) && fs.statSync(dir).isDirectory();

export async function openImage(input: string, options: OpenImageOptions = {}): Promise<ImageSource> {
  const explicitLayout = input.startsWith("oci:") ? input.slice(4) : undefined;
  const layoutSpec = explicitLayout ?? input;
  const colon = layoutSpec.lastIndexOf(":");
  const [dir, ref] =
    colon > 0 && isLayoutDir(layoutSpec.slice(0, colon)) && !isLayoutDir(layoutSpec)
      ? [layoutSpec.slice(0, colon), layoutSpec.slice(colon + 1)]
      : [layoutSpec, undefined];
  if (explicitLayout !== undefined || isLayoutDir(dir)) {
    return openOciLayout(dir, ref, { name: input, platform: options.platform });
  }
  const archive = input.startsWith("docker-archive:") ? input.slice("docker-archive:".length) : undefined;
  if (archive !== undefined || (fs.existsSync(input) && fs.statSync(input).isFile())) {
    return openDockerArchive(archive ?? input, { name: input });
  }
  const reference = parseImageReference(input);
  const client = new RegistryClient({
    registry: reference.registry,
    insecure: options.insecure ?? false,
    credentials: options.credentials ?? { kind: "anonymous" },
  });
  try {
    return await openRegistryImage(client, reference, {
      name: input,
      platform: options.platform,
      signal: options.signal,
    });
  } catch (err) {
    await client.close();
    throw err;
  }
}
