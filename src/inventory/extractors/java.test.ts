import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { promisify } from "node:util";
import { crc32, deflateRawSync } from "node:zlib";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import { type JavaFixtures, javaFixtures } from "../../../test/harness/java-fixtures.js";
import type { ExtractorResult } from "../extractor.js";
import type { Package } from "../types.js";
import {
  coordinatesFromFileName,
  coordinatesFromManifest,
  createJavaExtractor,
  javaExtractor,
  parseManifest,
  parseProperties,
} from "./java.js";

const run = promisify(execFile);

const extract = async (
  location: string,
  content: Buffer,
  extractor = javaExtractor,
): Promise<ExtractorResult> =>
  extractor.extract({ path: location, size: content.length, mode: 0o644, content });

const fromPom = (g: string, a: string, v: string, location: string): Package => ({
  ecosystem: "maven",
  name: `${g}:${a}`,
  version: v,
  purl: `pkg:maven/${g}/${a}@${v}`,
  location,
  properties: { javaSource: "pom.properties", pomProperties: `META-INF/maven/${g}/${a}/pom.properties` },
});
const fromManifest = (g: string, a: string, v: string, location: string): Package => ({
  ecosystem: "maven",
  name: `${g}:${a}`,
  version: v,
  purl: `pkg:maven/${g}/${a}@${v}`,
  location,
  properties: { javaSource: "MANIFEST.MF" },
});
const fromFileName = (a: string, v: string, location: string): Package => ({
  ecosystem: "maven",
  name: a,
  version: v,
  purl: `pkg:generic/${a}@${v}`,
  location,
  properties: { javaSource: "filename" },
});

interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** 0 stored, 8 deflated (default). */
  method?: 0 | 8;
  /** The uncompressed size written in the headers, when it should lie. */
  declaredSize?: number;
  encrypted?: boolean;
}

/** A minimal ZIP writer (APPNOTE 4.3): local headers, data, central directory, end record. */
function zip(entries: ZipEntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = typeof e.data === "string" ? Buffer.from(e.data) : e.data;
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(raw) : raw;
    const name = Buffer.from(e.name);
    const size = e.declaredSize ?? raw.length;
    const flags = e.encrypted ? 1 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc32(raw), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc32(raw), 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

const pomEntry = (g: string, a: string, v: string): ZipEntrySpec => ({
  name: `META-INF/maven/${g}/${a}/pom.properties`,
  data: `groupId=${g}\nartifactId=${a}\nversion=${v}\n`,
});

describe("java: archives made by the JDK's jar tool and by Maven", () => {
  let fx: JavaFixtures | string;
  before(async () => {
    fx = await javaFixtures();
  });
  const fixture = (t: { skip: (m: string) => void }): JavaFixtures | undefined => {
    if (typeof fx === "string") {
      t.skip(`no JDK, archives not built: ${fx}`);
      return undefined;
    }
    return fx;
  };

  test("a jar with pom.properties, one with only MANIFEST.MF, one with neither", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const loc = (n: string) => `opt/app/lib/${n}`;
    assert.deepEqual(await extract(loc("lib-a-1.0.0.jar"), readFileSync(f.libA)), {
      packages: [fromPom("com.example", "lib-a", "1.0.0", loc("lib-a-1.0.0.jar"))],
    });
    assert.deepEqual(await extract(loc("manifest-only-2.3.1.jar"), readFileSync(f.manifestOnly)), {
      packages: [fromManifest("org.example", "manifest-only", "2.3.1", loc("manifest-only-2.3.1.jar"))],
    });
    assert.deepEqual(await extract(loc("plain-util-0.9.jar"), readFileSync(f.plainUtil)), {
      packages: [fromFileName("plain-util", "0.9", loc("plain-util-0.9.jar"))],
    });
  });

  test("a shaded jar: one package per pom.properties", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const loc = "app/shaded-app-3.0.jar";
    assert.deepEqual(await extract(loc, readFileSync(f.shaded)), {
      packages: [
        fromPom("com.example", "shaded-app", "3.0", loc),
        fromPom("com.google.guava", "guava", "31.1-jre", loc),
        fromPom("org.slf4j", "slf4j-api", "1.7.36", loc),
      ],
    });
  });

  test("a war with jars in WEB-INF/lib: locations chain with !/", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const loc = "usr/local/tomcat/webapps/webapp.war";
    assert.deepEqual(await extract(loc, readFileSync(f.war)), {
      packages: [
        fromPom("com.example", "webapp", "5.0.0", loc),
        fromPom("com.example", "lib-a", "1.0.0", `${loc}!/WEB-INF/lib/lib-a-1.0.0.jar`),
        fromManifest("org.example", "manifest-only", "2.3.1", `${loc}!/WEB-INF/lib/manifest-only-2.3.1.jar`),
        fromFileName("plain-util", "0.9", `${loc}!/WEB-INF/lib/plain-util-0.9.jar`),
      ],
    });
  });

  test("an ear holding a war holding jars: three levels", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const loc = "opt/jboss/deployments/enterprise-7.1.ear";
    const war = `${loc}!/webapp.war`;
    assert.deepEqual(await extract(loc, readFileSync(f.ear)), {
      packages: [
        fromManifest("com.example", "enterprise", "7.1", loc),
        fromPom("com.example", "shaded-app", "3.0", `${loc}!/lib/shaded-app-3.0.jar`),
        fromPom("com.google.guava", "guava", "31.1-jre", `${loc}!/lib/shaded-app-3.0.jar`),
        fromPom("org.slf4j", "slf4j-api", "1.7.36", `${loc}!/lib/shaded-app-3.0.jar`),
        fromPom("com.example", "webapp", "5.0.0", war),
        fromPom("com.example", "lib-a", "1.0.0", `${war}!/WEB-INF/lib/lib-a-1.0.0.jar`),
        fromManifest("org.example", "manifest-only", "2.3.1", `${war}!/WEB-INF/lib/manifest-only-2.3.1.jar`),
        fromFileName("plain-util", "0.9", `${war}!/WEB-INF/lib/plain-util-0.9.jar`),
      ],
    });
  });

  test("a Spring Boot jar with stored BOOT-INF/lib jars", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const loc = "app.jar";
    assert.deepEqual(await extract(loc, readFileSync(f.boot)), {
      packages: [
        fromPom("com.example", "boot-app", "2.0.0", loc),
        fromPom("com.example", "lib-a", "1.0.0", `${loc}!/BOOT-INF/lib/lib-a-1.0.0.jar`),
      ],
    });
  });

  test("Maven-built jars (offline, from the local repository): plain and shaded", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    if (typeof f.maven === "string") return t.skip(f.maven);
    assert.deepEqual(await extract("app/acme-app-1.4.2.jar", readFileSync(f.maven.jar)), {
      packages: [fromPom("com.acme", "acme-app", "1.4.2", "app/acme-app-1.4.2.jar")],
    });
    const shaded = "app/acme-app-1.4.2-shaded.jar";
    assert.deepEqual(await extract(shaded, readFileSync(f.maven.shaded)), {
      packages: [
        fromPom("com.acme", "acme-app", "1.4.2", shaded),
        fromPom("commons-io", "commons-io", "2.6", shaded),
      ],
    });
  });

  test("commons-io 2.6 from Maven Central, and the same jar without its pom.properties", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const real = path.join(
      process.env.HOME ?? "/root",
      ".m2/repository/commons-io/commons-io/2.6/commons-io-2.6.jar",
    );
    if (!existsSync(real)) return t.skip(`${real} is not in the local Maven repository`);
    const loc = "app/lib/commons-io-2.6.jar";
    assert.deepEqual(await extract(loc, readFileSync(real)), {
      packages: [fromPom("commons-io", "commons-io", "2.6", loc)],
    });
    // Its manifest says Implementation-Title "Apache Commons IO", which is no artifactId: the
    // file name supplies it, Implementation-Vendor-Id the groupId.
    const stripped = path.join(mkdtempSync(path.join(tmpdir(), "shipshape-java-")), "commons-io-2.6.jar");
    await run("cp", [real, stripped]);
    await run("zip", ["-q", "-d", stripped, "META-INF/maven/*"]);
    assert.deepEqual(await extract(loc, readFileSync(stripped)), {
      packages: [fromManifest("commons-io", "commons-io", "2.6", loc)],
    });
  });

  test("fuzz: seeded byte corruptions and truncations of the ear never throw", async (t) => {
    const f = fixture(t);
    if (f === undefined) return;
    const ear = readFileSync(f.ear);
    let rnd = 0x51f15eed;
    const next = () => {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      return rnd >>> 0;
    };
    const cpuMs = cpuClock();
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(ear.subarray(0, round % 5 === 0 ? next() % ear.length : ear.length));
      for (let k = 0; k < 1 + (next() % 6); k++)
        if (copy.length > 0) copy[next() % copy.length] = next() & 0xff;
      const r = await extract("x.ear", copy);
      for (const p of r.packages ?? []) assert.equal(p.ecosystem, "maven");
    }
    assert.ok(cpuMs() < 60_000);
  });
});

describe("java: defences", () => {
  test("a nested archive declaring more than the per-archive cap is not inflated", async () => {
    const outer = zip([
      pomEntry("com.example", "outer", "1.0"),
      { name: "WEB-INF/lib/bomb.jar", data: Buffer.alloc(1024), declaredSize: 300 << 20 },
    ]);
    assert.deepEqual(await extract("outer-1.0.war", outer), {
      packages: [fromPom("com.example", "outer", "1.0", "outer-1.0.war")],
      warnings: [
        `outer-1.0.war!/WEB-INF/lib/bomb.jar: declares ${300 << 20} bytes, more than the ${256 << 20} allowed`,
      ],
    });
  });

  test("a zip bomb: 64 MiB of zeros in 64 KiB stops at the inflate budget", async () => {
    const zeros = Buffer.alloc(64 << 20);
    const bomb = zip([
      { name: "lib/a.jar", data: zeros.subarray(0, 6 << 20) },
      { name: "lib/b.jar", data: zeros },
      pomEntry("com.example", "after-the-bomb", "1.0"),
    ]);
    assert.ok(bomb.length < 1 << 20, `the bomb is small (${bomb.length} bytes)`);
    const small = createJavaExtractor({ maxInflatedBytes: 16 << 20, maxNestedArchiveBytes: 128 << 20 });
    const cpuMs = cpuClock();
    const r = await extract("bomb.jar", bomb, small);
    assert.ok(cpuMs() < 10_000);
    assert.deepEqual(r.warnings, [
      "bomb.jar!/lib/a.jar: not a readable zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.",
      "bomb.jar!/lib/b.jar: declares 67108864 bytes, past the archive's inflate budget",
    ]);
    assert.deepEqual(r.packages, [fromPom("com.example", "after-the-bomb", "1.0", "bomb.jar")]);
  });

  test("entry sizes that lie are caught while inflating", async () => {
    const liar = zip([
      {
        name: "META-INF/MANIFEST.MF",
        data: `Implementation-Title: x\n${"X-Pad: y\n".repeat(200_000)}`,
        declaredSize: 100,
      },
      { name: "lib/inner.jar", data: Buffer.alloc(8 << 20), declaredSize: 1000 },
      pomEntry("com.example", "liar", "1.0"),
    ]);
    const r = await extract("liar.jar", liar);
    assert.deepEqual(r.warnings, [
      "liar.jar!/META-INF/MANIFEST.MF: too many bytes in the stream. expected 100. got at least 16384",
      "liar.jar!/lib/inner.jar: too many bytes in the stream. expected 1000. got at least 16384",
    ]);
    assert.deepEqual(r.packages, [fromPom("com.example", "liar", "1.0", "liar.jar")]);
  });

  test("nesting deeper than the limit is not opened", async () => {
    let archive = zip([pomEntry("com.example", "level-6", "1.0")]);
    for (let level = 5; level >= 0; level--) {
      archive = zip([
        pomEntry("com.example", `level-${level}`, "1.0"),
        { name: `lib/level-${level + 1}.jar`, data: archive },
      ]);
    }
    const r = await extract("level-0.jar", archive);
    const locations = ["level-0.jar"];
    for (let level = 1; level <= 4; level++)
      locations.push(`${locations[level - 1]}!/lib/level-${level}.jar`);
    assert.deepEqual(
      r.packages,
      locations.map((loc, level) => fromPom("com.example", `level-${level}`, "1.0", loc)),
    );
    assert.deepEqual(r.warnings, [
      `${locations[4]}!/lib/level-5.jar: nested more than 4 archives deep, not read`,
    ]);
  });

  test("more entries than allowed: the rest is not read", async () => {
    const many = zip([
      pomEntry("com.example", "first", "1.0"),
      ...Array.from({ length: 300 }, (_, i) => ({ name: `com/example/C${i}.class`, data: "x" })),
      pomEntry("com.example", "never-seen", "1.0"),
    ]);
    const r = await extract("many.jar", many, createJavaExtractor({ maxEntries: 100 }));
    assert.deepEqual(r.packages, [fromPom("com.example", "first", "1.0", "many.jar")]);
    assert.deepEqual(r.warnings, ["many.jar: more than 100 entries in all; the rest is not read"]);
  });

  test("corrupt archives: not zip, truncated, a corrupt jar inside a good war", async () => {
    assert.deepEqual(await extract("x.jar", Buffer.from("PK\x03\x04 this is not really a zip file at all")), {
      warnings: [
        "x.jar: not a readable zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.",
      ],
    });
    const good = zip([pomEntry("com.example", "good", "1.0"), { name: "a.class", data: "y".repeat(5000) }]);
    const truncated = await extract("t.jar", good.subarray(0, good.length - 30));
    assert.equal(truncated.packages, undefined);
    assert.equal(truncated.warnings?.length, 1);
    const war = zip([
      pomEntry("com.example", "war", "2.0"),
      { name: "WEB-INF/lib/broken-1.0.jar", data: Buffer.from("garbage") },
      { name: "WEB-INF/lib/ok-1.1.jar", data: zip([pomEntry("com.example", "ok", "1.1")]) },
    ]);
    assert.deepEqual(await extract("w.war", war), {
      packages: [
        fromPom("com.example", "war", "2.0", "w.war"),
        fromPom("com.example", "ok", "1.1", "w.war!/WEB-INF/lib/ok-1.1.jar"),
      ],
      warnings: [
        "w.war!/WEB-INF/lib/broken-1.0.jar: not a readable zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.",
      ],
    });
  });

  test("encrypted entries are skipped", async () => {
    const r = await extract("e.jar", zip([{ ...pomEntry("com.example", "secret", "1.0"), encrypted: true }]));
    assert.deepEqual(r, {
      warnings: ["e.jar!/META-INF/maven/com.example/secret/pom.properties: encrypted, not read"],
    });
  });
});

describe("java: identification rules", () => {
  test("pom.properties: ids from the path when missing, no version is a warning, duplicates once", async () => {
    const r = await extract(
      "x.jar",
      zip([
        { name: "META-INF/maven/org.acme/from-path/pom.properties", data: "version=4.5\n" },
        {
          name: "META-INF/maven/org.acme/no-version/pom.properties",
          data: "groupId=org.acme\nartifactId=no-version\n",
        },
        pomEntry("org.acme", "twice", "1.0"),
        {
          name: "META-INF/maven/org.acme/twice-copy/pom.properties",
          data: "groupId=org.acme\nartifactId=twice\nversion=1.0\n",
        },
        { name: "not/META-INF/maven/a/b/pom.properties", data: "groupId=a\nartifactId=b\nversion=1\n" },
      ]),
    );
    assert.deepEqual(r.packages, [
      fromPom("org.acme", "from-path", "4.5", "x.jar"),
      fromPom("org.acme", "twice", "1.0", "x.jar"),
    ]);
    assert.deepEqual(r.warnings, ["x.jar!/META-INF/maven/org.acme/no-version/pom.properties: no version"]);
  });

  test("the manifest identifies the archive only when no pom.properties does", async () => {
    const manifest =
      "Manifest-Version: 1.0\nImplementation-Vendor-Id: org.acme\nImplementation-Title: tool\nImplementation-Version: 9.1\n";
    // Shaded: the bundled library's pom.properties does not describe tool-9.1.jar itself.
    const shaded = await extract(
      "tool-9.1.jar",
      zip([
        { name: "META-INF/MANIFEST.MF", data: manifest },
        pomEntry("com.google.code.gson", "gson", "2.8.9"),
      ]),
    );
    assert.deepEqual(shaded.packages, [
      fromPom("com.google.code.gson", "gson", "2.8.9", "tool-9.1.jar"),
      fromManifest("org.acme", "tool", "9.1", "tool-9.1.jar"),
    ]);
    // Its own pom.properties, by file name: the manifest is not consulted.
    const own = await extract(
      "tool-9.1.jar",
      zip([{ name: "META-INF/MANIFEST.MF", data: manifest }, pomEntry("org.acme", "tool", "9.1")]),
    );
    assert.deepEqual(own.packages, [fromPom("org.acme", "tool", "9.1", "tool-9.1.jar")]);
    // A name without a version and a single pom.properties: that is the archive.
    const renamed = await extract(
      "app.jar",
      zip([{ name: "META-INF/MANIFEST.MF", data: manifest }, pomEntry("org.acme", "x", "1")]),
    );
    assert.deepEqual(renamed.packages, [fromPom("org.acme", "x", "1", "app.jar")]);
  });

  test("coordinatesFromManifest: implausible values are passed over", () => {
    const m = (text: string) => parseManifest(text);
    const commonsIo = m(
      "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.commons.io\r\nSpecification-Title: Apache Commons IO\r\nImplementation-Vendor-Id: commons-io\r\nBundle-Name: Apache Commons IO\r\nImplementation-Title: Apache Commons IO\r\nImplementation-Version: 2.6\r\nSpecification-Vendor: The Apache Software Foundation\r\n",
    );
    assert.deepEqual(coordinatesFromManifest(commonsIo, "commons-io"), {
      groupId: "commons-io",
      artifactId: "commons-io",
      version: "2.6",
    });
    assert.equal(coordinatesFromManifest(commonsIo), undefined, "no artifactId without the file name");
    const jackson = m(
      "Bundle-SymbolicName: com.fasterxml.jackson.core.jackson-databind;singleton:=true\nBundle-Name: Jackson-core\nBundle-Version: 2.13.4.2\nImplementation-Title: jackson-databind\n",
    );
    assert.deepEqual(coordinatesFromManifest(jackson, "jackson-databind"), {
      groupId: "com.fasterxml.jackson.core",
      artifactId: "jackson-databind",
      version: "2.13.4.2",
    });
    const jdk = m(
      "Implementation-Title: Java Runtime Environment\nImplementation-Version: 17.0.15\nImplementation-Vendor: Oracle Corporation\n",
    );
    assert.equal(coordinatesFromManifest(jdk), undefined);
    const unfiltered = m(
      "Implementation-Vendor-Id: org.x\nImplementation-Title: y\nImplementation-Version: \u0024{project.version}\nBundle-Version: %ver\n",
    );
    assert.equal(coordinatesFromManifest(unfiltered), undefined);
    const spec = m(
      "Specification-Vendor: javax.servlet\nSpecification-Title: servlet-api\nSpecification-Version: 3.1\n",
    );
    assert.deepEqual(coordinatesFromManifest(spec), {
      groupId: "javax.servlet",
      artifactId: "servlet-api",
      version: "3.1",
    });
  });

  test("parseManifest: continuation lines, line ends, only the main section", () => {
    const text =
      "Manifest-Version: 1.0\r\nImplementation-Title: a-very-long-artifact-name-that-the-jar-tool-had-to-wr\r\n ap-onto-a-second-line\r\nImplementation-Version: 1.0\rBundle-Name:   spaced  \n\nName: org/example/\nImplementation-Title: section\n";
    const m = parseManifest(text);
    assert.equal(
      m.get("Implementation-Title"),
      "a-very-long-artifact-name-that-the-jar-tool-had-to-wrap-onto-a-second-line",
    );
    assert.equal(m.get("Implementation-Version"), "1.0");
    assert.equal(m.get("Bundle-Name"), "spaced");
    assert.equal(m.has("Name"), false);
  });

  test("parseProperties: separators, comments, escapes, continuations", () => {
    const p = parseProperties(
      "# c\n! c\ngroupId = org.x\nartifactId:y\nversion 1.0\\\n    .1\nkey\\=with=eq\nuni=caf\\u00e9\r\n  indented=yes\n",
    );
    assert.deepEqual(Object.fromEntries(p), {
      groupId: "org.x",
      artifactId: "y",
      version: "1.0.1",
      "key=with": "eq",
      uni: "café",
      indented: "yes",
    });
  });

  test("coordinatesFromFileName: Trivy's pattern", () => {
    const cases: [string, { artifactId: string; version: string } | undefined][] = [
      ["spring-core-5.3.4-SNAPSHOT.jar", { artifactId: "spring-core", version: "5.3.4-SNAPSHOT" }],
      ["lib/commons-lang3-3.12.0.jar", { artifactId: "commons-lang3", version: "3.12.0" }],
      ["netty-transport-4.1.118.Final.jar", { artifactId: "netty-transport", version: "4.1.118.Final" }],
      ["git-client-3.11.0.hpi", { artifactId: "git-client", version: "3.11.0" }],
      ["app.jar", undefined],
      ["foo-bar.war", undefined],
      ["x-1.0.zip", undefined],
    ];
    for (const [name, want] of cases) assert.deepEqual(coordinatesFromFileName(name), want, name);
  });

  test("wants: the archive extensions, any case", () => {
    for (const p of ["a.jar", "a.WAR", "b/c.ear", "x.par", "x.sar", "x.jpi", "x.hpi"]) {
      assert.equal(javaExtractor.wants({ path: p, size: 1000, mode: 0o644 }), true, p);
    }
    for (const p of ["a.jar.sha1", "a.zip", "jar", "a.class"])
      assert.equal(javaExtractor.wants({ path: p, size: 1000, mode: 0o644 }), false, p);
    assert.equal(javaExtractor.wants({ path: "a.jar", size: 10, mode: 0o644 }), false);
  });
});
