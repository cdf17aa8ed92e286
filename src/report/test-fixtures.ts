/**
 * Test-only inventories for the report tests, modelled on the testbed images: node-app (Debian base,
 * the Node.js runtime, npm packages from a lock file and node_modules, esbuild's Go binary, a Java
 * archive), Alpine, and an OS-less image holding two Go binaries. Not imported by production code.
 */
import type { ImageIdentity, ImageInventory, InventoriedPackage, LayerRef } from "../inventory/types.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;

export const TOOL = { name: "shipshape", version: "0.1.0" };
export const NOW = new Date("2024-05-01T12:34:56.789Z");

function layers(n: number): ImageIdentity["layers"] {
  return Array.from({ length: n }, (_, i) => ({
    digest: d(String.fromCharCode(0x61 + i)),
    diffId: d(String.fromCharCode(0x30 + i)),
    size: 1000 * (i + 1),
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    createdBy: i === 0 ? "debootstrap --variant=minbase bookworm" : `RUN step ${i}`,
  }));
}

const layer = (image: ImageIdentity, index: number): LayerRef => ({
  digest: image.layers[index]?.digest as string,
  index,
  createdBy: image.layers[index]?.createdBy,
});

export const nodeAppImage: ImageIdentity = {
  name: "127.0.0.1:5000/node-app:1.0",
  registry: "127.0.0.1:5000",
  repository: "node-app",
  tag: "1.0",
  digest: d("e"),
  indexDigest: d("f"),
  configDigest: d("8"),
  os: "linux",
  architecture: "amd64",
  created: "2024-04-30T10:00:00Z",
  layers: layers(4),
};

const L = (i: number) => layer(nodeAppImage, i);

const deb = (
  name: string,
  version: string,
  source: { name: string; version?: string } | undefined,
  licenses?: string[],
): InventoriedPackage => ({
  ecosystem: "deb",
  name,
  version,
  purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`,
  source,
  arch: "amd64",
  licenses,
  location: "var/lib/dpkg/status",
  files: [`usr/share/doc/${name}/copyright`],
  layer: L(0),
});

const npm = (
  name: string,
  version: string,
  location: string,
  licenses?: string[],
  properties?: Record<string, string>,
): InventoriedPackage => {
  const scoped = name.startsWith("@");
  const [ns, n] = scoped ? (name.split("/") as [string, string]) : [undefined, name];
  return {
    ecosystem: "npm",
    name,
    version,
    purl: `pkg:npm/${ns ? `${encodeURIComponent(ns)}/` : ""}${n}@${version}`,
    licenses,
    location,
    properties,
    layer: L(2),
  };
};

const esbuildBinary = "app/node_modules/esbuild-linux-64/bin/esbuild";

export const nodeAppInventory: ImageInventory = {
  os: {
    id: "debian",
    versionId: "12",
    versionCodename: "bookworm",
    prettyName: "Debian GNU/Linux 12 (bookworm)",
    idLike: [],
    location: "etc/os-release",
  },
  packages: [
    deb("zlib1g", "1:1.2.13.dfsg-1", { name: "zlib", version: "1:1.2.13.dfsg-1" }, ["Zlib"]),
    deb("libc6", "2.36-9+deb12u7", { name: "glibc", version: "2.36-9+deb12u7" }, [
      "GPL-2.0-or-later",
      "LGPL-2.1-or-later",
    ]),
    deb("tar", "1.34+dfsg-1.2+deb12u1", { name: "tar" }, ["GPL-3+", "GPL-2+"]),
    deb("base-files", "12.4+deb12u5", undefined, ["GPL-2.0-or-later", "gpl-2.0-or-later"]),
    {
      ecosystem: "node",
      name: "node",
      version: "14.15.0",
      purl: "pkg:generic/node@14.15.0",
      licenses: ["MIT"],
      location: "usr/local/bin/node",
      layer: L(1),
    },
    npm("lodash", "4.17.15", "app/package-lock.json", undefined, { dev: "false" }),
    npm("lodash", "4.17.15", "app/node_modules/lodash/package.json", ["MIT"]),
    npm("handlebars", "4.5.3", "app/node_modules/handlebars/package.json", ["MIT"]),
    npm("@babel/code-frame", "7.12.13", "app/node_modules/@babel/code-frame/package.json", ["MIT"]),
    npm("tree-kill", "1.2.1", "app/node_modules/tree-kill/package.json", ["MIT"]),
    npm("marked", "0.3.5", "app/node_modules/marked/package.json", ["SEE LICENSE IN LICENSE.md"]),
    npm("ws", "1.1.0", "app/node_modules/ws/package.json", ["(MIT OR Apache-2.0)", "BSD"]),
    npm("moment", "2.11.1", "app/node_modules/moment/package.json", ["MIT or Apache-2.0"]),
    npm("mixin-deep", "1.3.0", "app/node_modules/mixin-deep/package.json", ["LicenseRef-Proprietary"]),
    npm("esbuild-linux-64", "0.8.57", "app/node_modules/esbuild-linux-64/package.json", ["MIT"]),
    {
      ecosystem: "golang",
      name: "github.com/evanw/esbuild",
      version: "v0.8.57",
      purl: "pkg:golang/github.com/evanw/esbuild@v0.8.57",
      location: esbuildBinary,
      properties: { goMainModule: "true" },
      layer: L(2),
    },
    {
      ecosystem: "golang",
      name: "golang.org/x/sys",
      version: "v0.0.0-20201119102817-f84b799fce68",
      purl: "pkg:golang/golang.org/x/sys@v0.0.0-20201119102817-f84b799fce68",
      location: esbuildBinary,
      layer: L(2),
    },
    {
      ecosystem: "golang",
      name: "stdlib",
      version: "v1.15.5",
      purl: "pkg:golang/stdlib@v1.15.5",
      location: esbuildBinary,
      layer: L(2),
    },
    {
      ecosystem: "maven",
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.14.1",
      purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      licenses: ["Apache License, Version 2.0"],
      location: "opt/app/lib/app.jar",
      properties: { archivePath: "opt/app/lib/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar" },
      layer: L(3),
    },
    {
      ecosystem: "maven",
      name: "org.openjdk:jdk-tools",
      version: "11.0.2",
      purl: "pkg:maven/org.openjdk/jdk-tools@11.0.2",
      licenses: ["GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-with-classpath-exception"],
      location: "opt/app/lib/app.jar",
      layer: L(3),
    },
  ],
  warnings: ["app/node_modules/broken/package.json: invalid JSON: Unexpected end of JSON input"],
};

export const alpineImage: ImageIdentity = {
  name: "127.0.0.1:5000/alpine:3.10.3",
  registry: "127.0.0.1:5000",
  repository: "alpine",
  tag: "3.10.3",
  digest: d("9"),
  configDigest: d("6"),
  os: "linux",
  architecture: "arm64",
  variant: "v8",
  layers: layers(1),
};

const apk = (name: string, version: string, origin: string, licenses: string[]): InventoriedPackage => ({
  ecosystem: "apk",
  name,
  version,
  purl: `pkg:apk/alpine/${name}@${version}?arch=aarch64&distro=3.10.3`,
  source: { name: origin, version },
  arch: "aarch64",
  licenses,
  location: "lib/apk/db/installed",
  layer: layer(alpineImage, 0),
});

export const alpineInventory: ImageInventory = {
  os: { id: "alpine", versionId: "3.10.3", prettyName: "Alpine Linux v3.10", location: "etc/os-release" },
  packages: [
    apk("musl", "1.1.22-r3", "musl", ["MIT"]),
    apk("busybox", "1.30.1-r2", "busybox", ["GPL-2.0"]),
    apk("libcrypto1.1", "1.1.1d-r0", "openssl", ["OpenSSL"]),
    apk("ssl_client", "1.30.1-r2", "busybox", ["GPL-2.0"]),
    apk("zlib", "1.2.11-r1", "zlib", ["Zlib"]),
    apk("scanelf", "1.2.3-r0", "pax-utils", ["GPL-2.0-only AND LGPL-2.1+"]),
  ],
  warnings: [],
};

/** A scratch image with two Go binaries: no OS, the same module in both. */
export const scratchImage: ImageIdentity = {
  name: "oci:./layout:server",
  digest: d("7"),
  configDigest: d("5"),
  os: "linux",
  architecture: "amd64",
  layers: layers(2),
};

const go = (name: string, version: string, location: string, main = false): InventoriedPackage => ({
  ecosystem: "golang",
  name,
  version,
  purl: `pkg:golang/${name}@${version}`,
  location,
  properties: main ? { goMainModule: "true" } : undefined,
  layer: layer(scratchImage, location.endsWith("server") ? 0 : 1),
});

export const scratchInventory: ImageInventory = {
  packages: [
    go("example.com/server", "v1.2.3", "app/server", true),
    go("github.com/gorilla/mux", "v1.8.0", "app/server"),
    go("golang.org/x/net", "v0.17.0", "app/server"),
    go("stdlib", "v1.21.3", "app/server"),
    go("example.com/healthcheck", "v0.1.0", "app/healthcheck", true),
    go("golang.org/x/net", "v0.17.0", "app/healthcheck"),
    go("stdlib", "v1.21.3", "app/healthcheck"),
  ],
  warnings: [],
};

export const emptyInventory: ImageInventory = { packages: [], warnings: [] };

export const FIXTURES: { name: string; image: ImageIdentity; inventory: ImageInventory }[] = [
  { name: "node-app (deb, node, npm, golang, maven)", image: nodeAppImage, inventory: nodeAppInventory },
  { name: "alpine (apk)", image: alpineImage, inventory: alpineInventory },
  { name: "scratch (no OS, two Go binaries)", image: scratchImage, inventory: scratchInventory },
  { name: "empty", image: scratchImage, inventory: emptyInventory },
];

/** Deterministic Fisher–Yates shuffle (mulberry32), for order-independence tests. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
