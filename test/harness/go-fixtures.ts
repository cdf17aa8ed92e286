/**
 * Real Go executables for the Go build-info extractor tests, built with Debian's Go toolchain
 * (`golang-go`, installed with apt-get when missing) entirely offline: the third-party modules
 * come from a file:// module proxy written here, so `go build` fetches, checksums and records them
 * like real dependencies. Built once and cached under ~/.cache/shipshape/testdata-go/<key>, the
 * key covering the sources below and the toolchain version.
 *
 * Binaries (CGO disabled, -buildvcs=false):
 * - hello:          example.com/hello with a dependency (greet v1.2.3), a module replaced by another
 *                   module version (old v1.0.0 => fork v1.4.0), a module replaced by a local directory
 *                   (local v0.1.0 => ./local), and `-ldflags "-X main.version=1.5.0"`;
 * - hello-stripped: the same with `-trimpath -ldflags="-s -w"`;
 * - hello-386:      GOARCH=386 (ELFCLASS32);
 * - hello-s390x:    GOARCH=s390x (big-endian ELFCLASS64);
 * - tool:           `go install example.com/tool@v1.3.0`, so the main module has a real version.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { withLock } from "./lock.js";
import { cacheDir } from "./paths.js";
import { ensureCommand } from "./tools.js";

const run = promisify(execFile);

interface ProxyModule {
  path: string;
  version: string;
  files: Record<string, string>;
}

const MODULES: ProxyModule[] = [
  {
    path: "example.com/greet",
    version: "v1.2.3",
    files: { "greet.go": 'package greet\n\nfunc Hello() string { return "hello" }\n' },
  },
  {
    path: "example.com/old",
    version: "v1.0.0",
    files: { "old.go": 'package old\n\nfunc Name() string { return "old" }\n' },
  },
  {
    path: "example.com/fork",
    version: "v1.4.0",
    files: { "old.go": 'package old\n\nfunc Name() string { return "fork" }\n' },
  },
  {
    path: "example.com/tool",
    version: "v1.3.0",
    files: {
      "main.go":
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
      "go.mod": "module example.com/tool\n\ngo 1.16\n\nrequire example.com/greet v1.2.3\n",
      "go.sum": "", // filled in at build time from the proxy's checksums
    },
  },
];

const HELLO_GO_MOD = `module example.com/hello

go 1.19

require (
	example.com/greet v1.2.3
	example.com/local v0.1.0
	example.com/old v1.0.0
)

replace example.com/old => example.com/fork v1.4.0

replace example.com/local => ./local
`;

const HELLO_MAIN = `package main

import (
	"fmt"

	"example.com/greet"
	"example.com/local"
	"example.com/old"
)

var version = "dev"

func main() { fmt.Println(greet.Hello(), old.Name(), local.V(), version) }
`;

export interface GoFixtures {
  dir: string;
  goVersion: string;
  hello: string;
  helloStripped: string;
  hello386: string;
  helloS390x: string;
  tool: string;
}

let pending: Promise<GoFixtures | string> | undefined;

/** Builds (or finds) the fixtures; resolves to a reason string when no Go toolchain can be had. */
export function goFixtures(): Promise<GoFixtures | string> {
  pending ??= build();
  return pending;
}

async function build(): Promise<GoFixtures | string> {
  try {
    await ensureCommand("go", "golang-go");
  } catch (err) {
    return `no Go toolchain (apt-get install golang-go failed: ${(err as Error).message.split("\n")[0]})`;
  }
  const { stdout } = await run("go", ["version"]);
  const goVersion = stdout.trim().split(" ")[2] ?? "unknown";
  const key = createHash("sha256")
    .update(JSON.stringify({ MODULES, HELLO_GO_MOD, HELLO_MAIN, goVersion, rev: 1 }))
    .digest("hex")
    .slice(0, 16);
  const dir = path.join(cacheDir, "testdata-go", key);
  const fixtures: GoFixtures = {
    dir,
    goVersion,
    hello: path.join(dir, "bin", "hello"),
    helloStripped: path.join(dir, "bin", "hello-stripped"),
    hello386: path.join(dir, "bin", "hello-386"),
    helloS390x: path.join(dir, "bin", "hello-s390x"),
    tool: path.join(dir, "bin", "tool"),
  };
  if (existsSync(path.join(dir, "done"))) return fixtures;
  await withLock(`${dir}.lock`, async () => {
    if (existsSync(path.join(dir, "done"))) return;
    await fs.rm(dir, { recursive: true, force: true });
    await buildInto(dir);
    await fs.writeFile(path.join(dir, "done"), `${goVersion}\n`);
  });
  return fixtures;
}

async function buildInto(dir: string): Promise<void> {
  const work = path.join(dir, "work");
  const proxy = path.join(work, "proxy");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOPROXY: `file://${proxy}`,
    GOSUMDB: "off",
    GOFLAGS: "-mod=mod -buildvcs=false",
    GOPATH: path.join(work, "gopath"),
    GOCACHE: path.join(work, "gocache"),
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    GO111MODULE: "on",
  };
  const go = async (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
    await run("go", args, { cwd, env: { ...env, ...extra }, maxBuffer: 16 << 20 });
  };

  for (const m of MODULES) {
    const root = path.join(work, "mods", `${m.path}@${m.version}`);
    const files: Record<string, string> = { "go.mod": `module ${m.path}\n\ngo 1.16\n`, ...m.files };
    const needsSum = "go.sum" in files;
    delete files["go.sum"];
    for (const [name, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await fs.writeFile(path.join(root, name), text);
    }
    // A module with dependencies of its own publishes its go.sum (from the proxy written so far).
    if (needsSum) await go(root, ["mod", "tidy"]);
    const at = path.join(proxy, m.path, "@v");
    await fs.mkdir(at, { recursive: true });
    await fs.appendFile(path.join(at, "list"), `${m.version}\n`);
    await fs.writeFile(path.join(at, `${m.version}.mod`), files["go.mod"] as string);
    await fs.writeFile(
      path.join(at, `${m.version}.info`),
      JSON.stringify({ Version: m.version, Time: "2020-01-01T00:00:00Z" }),
    );
    // A module zip holds its files under "<path>@<version>/", without directory entries.
    await run("zip", ["-q", "-r", "-D", "-X", path.join(at, `${m.version}.zip`), `${m.path}@${m.version}`], {
      cwd: path.join(work, "mods"),
    });
  }

  const src = path.join(work, "hello");
  await fs.mkdir(path.join(src, "local"), { recursive: true });
  await fs.writeFile(path.join(src, "go.mod"), HELLO_GO_MOD);
  await fs.writeFile(path.join(src, "main.go"), HELLO_MAIN);
  await fs.writeFile(path.join(src, "local", "go.mod"), "module example.com/local\n\ngo 1.16\n");
  await fs.writeFile(path.join(src, "local", "local.go"), "package local\n\nfunc V() int { return 1 }\n");
  const bin = path.join(dir, "bin");
  await fs.mkdir(bin, { recursive: true });
  await go(src, ["build", "-o", path.join(bin, "hello"), "-ldflags", "-X main.version=1.5.0", "."]);
  await go(src, ["build", "-o", path.join(bin, "hello-stripped"), "-trimpath", "-ldflags=-s -w", "."]);
  await go(src, ["build", "-o", path.join(bin, "hello-386"), "."], { GOARCH: "386" });
  await go(src, ["build", "-o", path.join(bin, "hello-s390x"), "."], { GOARCH: "s390x" });
  await go(work, ["install", "example.com/tool@v1.3.0"], { GOBIN: bin, GOFLAGS: "-buildvcs=false" });
  await fs.rm(work, { recursive: true, force: true });
}
