/**
 * Java archives: JAR (JDK "JAR File Specification": META-INF/MANIFEST.MF main section,
 * name: value lines, 72-byte continuation lines), WAR, EAR, Jenkins HPI/JPI, JBoss SAR, PAR, all
 * ZIP files (PKWARE APPNOTE). Follows Trivy's jar parser (pkg/dependency/parser/java/jar) offline:
 *
 * 1. every `META-INF/maven/<groupId>/<artifactId>/pom.properties` (written by maven-archiver,
 *    kept by shading) is a package: groupId, artifactId, version (missing ids are taken from the
 *    path), so a shaded jar gives several;
 * 2. when none of them is the archive itself (its file name `artifact-version.jar` names another
 *    artifact, or there are several and the name says nothing), the MANIFEST.MF main section:
 *    groupId from Implementation-Vendor-Id, Bundle-SymbolicName (without its last segment, or
 *    without the file name's artifactId when it ends with it), Implementation-Vendor,
 *    Specification-Vendor; artifactId from Implementation-Title, Specification-Title, Bundle-Name,
 *    then the file name; version from Implementation-Version, Specification-Version,
 *    Bundle-Version - Trivy's order, but a value that cannot be a Maven coordinate ("The Apache
 *    Software Foundation", "Apache Commons IO", "${project.version}", "%bundle.name") is passed
 *    over rather than reported, since offline nothing checks it against Maven Central as Trivy's
 *    online mode does;
 * 3. when the archive yields nothing else, its file name `name-1.2.3.jar` (Trivy's pattern): a
 *    package named by the artifactId alone, `properties.javaSource = "filename"`. Without a groupId
 *    there is no valid maven purl, so its purl is `pkg:generic/<name>@<version>`.
 *
 * Nested archives (WEB-INF/lib, BOOT-INF/lib, lib/ of an EAR, any entry with one of the archive
 * extensions) are read recursively; a package's `location` is the outer path followed by one
 * `!/<entry path>` per level ("app.war!/WEB-INF/lib/x.jar"). Defences, all per top-level file:
 * nesting depth, total entries, total bytes inflated, a cap per nested archive and per metadata
 * file, declared sizes checked before inflating and actual sizes checked while inflating (yauzl
 * validateEntrySizes), encrypted entries skipped. Problems are warnings, never exceptions.
 * Names are "groupId:artifactId", purls `pkg:maven/<groupId>/<artifactId>@<version>`.
 */
import yauzl from "yauzl";
import { zipDirectoryEntries } from "../../util/zip.js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo } from "../extractor.js";
import type { Package } from "../types.js";
import { purlOf } from "./purl-fallback.js";

export interface JavaLimits {
  /** Archives inside archives deeper than this are not opened (the top-level file is depth 0). */
  maxDepth: number;
  /** Entries looked at across the top-level file and everything nested in it. */
  maxEntries: number;
  /** Bytes inflated across the top-level file and everything nested in it. */
  maxInflatedBytes: number;
  /** One nested archive's uncompressed size. */
  maxNestedArchiveBytes: number;
  /** One pom.properties or MANIFEST.MF. */
  maxMetadataBytes: number;
}

export const DEFAULT_JAVA_LIMITS: JavaLimits = {
  maxDepth: 4,
  maxEntries: 500_000,
  maxInflatedBytes: 1 << 30,
  maxNestedArchiveBytes: 256 << 20,
  maxMetadataBytes: 1 << 20,
};

const EXTENSIONS = ["jar", "war", "ear", "par", "sar", "jpi", "hpi"];
const ARCHIVE_RE = new RegExp(`\\.(${EXTENSIONS.join("|")})$`, "i");
/** Trivy's jarFileRegEx, for every archive extension: "spring-core-5.3.4-SNAPSHOT.jar". */
const FILE_NAME_RE = new RegExp(
  `^([a-zA-Z0-9._-]*[^-*])-(\\d\\S*(?:-SNAPSHOT)?)\\.(?:${EXTENSIONS.join("|")})$`,
  "i",
);
const POM_PROPERTIES_RE = /^META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;
const COORDINATE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z._+~-]*$/;

interface Coordinates {
  groupId: string;
  artifactId: string;
  version: string;
}

/** Parses a Java .properties file (the subset pom.properties uses, with escapes and continuations). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/^[ \t\f]+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] as string).replace(/^[ \t\f]+/, "");
    }
    const m = /^((?:\\.|[^\\=: \t\f])*)[ \t\f]*[=: \t\f]?[ \t\f]*(.*)$/.exec(line);
    if (m === null) continue;
    out.set(unescapeProperty(m[1] as string), unescapeProperty(m[2] as string));
  }
  return out;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return { t: "\t", n: "\n", r: "\r", f: "\f" }[e] ?? e;
  });
}

/** The main section of a manifest: attribute name → value (continuation lines joined). */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  const flush = () => {
    if (current === undefined) return;
    const colon = current.indexOf(":");
    if (colon > 0) {
      const name = current.slice(0, colon).trim();
      if (!out.has(name)) out.set(name, current.slice(colon + 1).trim());
    }
    current = undefined;
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") break; // the end of the main section
    if (line.startsWith(" ")) {
      if (current !== undefined) current += line.slice(1);
      continue;
    }
    flush();
    current = line;
  }
  flush();
  return out;
}

/** Trivy's manifest heuristics, each candidate checked for being a plausible Maven coordinate. */
export function coordinatesFromManifest(
  manifest: Map<string, string>,
  fileArtifactId?: string,
): Coordinates | undefined {
  const get = (name: string): string | undefined => {
    const v = manifest.get(name)?.trim();
    return v === undefined || v === "" || v.startsWith("%") || v.includes("${") ? undefined : v;
  };
  const symbolic = get("Bundle-SymbolicName")?.split(";")[0]?.trim();
  let fromSymbolic: string | undefined;
  if (symbolic !== undefined) {
    if (fileArtifactId !== undefined && symbolic.endsWith(`.${fileArtifactId}`)) {
      fromSymbolic = symbolic.slice(0, -fileArtifactId.length - 1);
    } else {
      const dot = symbolic.lastIndexOf(".");
      fromSymbolic = dot > 0 ? symbolic.slice(0, dot) : symbolic;
    }
  }
  const first = (values: (string | undefined)[], re: RegExp) =>
    values.find((v) => v !== undefined && re.test(v));
  const groupId = first(
    [
      get("Implementation-Vendor-Id"),
      fromSymbolic,
      get("Implementation-Vendor"),
      get("Specification-Vendor"),
    ],
    COORDINATE_RE,
  );
  const artifactId = first(
    [get("Implementation-Title"), get("Specification-Title"), get("Bundle-Name"), fileArtifactId],
    COORDINATE_RE,
  );
  const version = first(
    [get("Implementation-Version"), get("Specification-Version"), get("Bundle-Version")],
    VERSION_RE,
  );
  if (groupId === undefined || artifactId === undefined || version === undefined || !/\d/.test(version))
    return undefined;
  return { groupId, artifactId, version };
}

/** artifactId and version from a file name such as "commons-lang3-3.12.0.jar". */
export function coordinatesFromFileName(path: string): { artifactId: string; version: string } | undefined {
  const m = FILE_NAME_RE.exec(path.slice(path.lastIndexOf("/") + 1));
  return m === null ? undefined : { artifactId: m[1] as string, version: m[2] as string };
}

class LimitError extends Error {}

interface Budget {
  entries: number;
  bytes: number;
}

interface Walk {
  limits: JavaLimits;
  budget: Budget;
  warnings: string[];
}

function openZip(buffer: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

/** Inflates one entry into memory, at most `limit` bytes, charged to the budget. */
function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, limit: number, budget: Budget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > limit) {
      reject(new LimitError(`declares ${entry.uncompressedSize} bytes, more than the ${limit} allowed`));
      return;
    }
    if (entry.uncompressedSize > budget.bytes) {
      reject(new LimitError(`declares ${entry.uncompressedSize} bytes, past the archive's inflate budget`));
      return;
    }
    zip.openReadStream(entry, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on("data", (chunk: Buffer) => {
        total += chunk.length;
        budget.bytes -= chunk.length;
        if (total > limit || budget.bytes < 0) {
          stream.destroy(new LimitError(`inflates past ${Math.min(limit, total)} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", reject);
      stream.on("end", () => resolve(Buffer.concat(chunks, total)));
    });
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function mavenPackage(c: Coordinates, location: string, properties: Record<string, string>): Package {
  return {
    ecosystem: "maven",
    name: `${c.groupId}:${c.artifactId}`,
    version: c.version,
    purl: purlOf("maven", c.groupId, c.artifactId, c.version),
    location,
    properties,
  };
}

/**
 * Reads one archive (the top-level file or a nested one) at `location`, `depth` levels down: its
 * own packages first, then those of the archives inside it in entry order.
 */
async function walkArchive(walk: Walk, buffer: Buffer, location: string, depth: number): Promise<Package[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(buffer);
  } catch (err) {
    walk.warnings.push(`${location}: not a readable zip archive: ${errorText(err)}`);
    return [];
  }
  const own: Package[] = [];
  const nested: Package[] = [];
  const poms: (Coordinates & { path: string })[] = [];
  let manifest: Map<string, string> | undefined;
  const warn = (entry: string, what: string) => walk.warnings.push(`${location}!/${entry}: ${what}`);
  try {
    for await (const entry of zipDirectoryEntries(zip)) {
      if (--walk.budget.entries < 0) {
        walk.warnings.push(
          `${location}: more than ${walk.limits.maxEntries} entries in all; the rest is not read`,
        );
        break;
      }
      const name = entry.fileName;
      if (name.endsWith("/")) continue;
      const pom = POM_PROPERTIES_RE.exec(name);
      const isManifest = name.toUpperCase() === "META-INF/MANIFEST.MF";
      const isArchive = ARCHIVE_RE.test(name);
      if (pom === null && !isManifest && !isArchive) continue;
      if (entry.isEncrypted()) {
        warn(name, "encrypted, not read");
        continue;
      }
      if (isArchive && depth + 1 > walk.limits.maxDepth) {
        warn(name, `nested more than ${walk.limits.maxDepth} archives deep, not read`);
        continue;
      }
      let data: Buffer;
      try {
        data = await readEntry(
          zip,
          entry,
          isArchive ? walk.limits.maxNestedArchiveBytes : walk.limits.maxMetadataBytes,
          walk.budget,
        );
      } catch (err) {
        warn(name, errorText(err));
        if (walk.budget.bytes < 0) break;
        continue;
      }
      if (pom !== null) {
        const props = parseProperties(data.toString("utf8"));
        const groupId = props.get("groupId")?.trim() || (pom[1] as string);
        const artifactId = props.get("artifactId")?.trim() || (pom[2] as string);
        const version = props.get("version")?.trim() ?? "";
        if (version === "") warn(name, "no version");
        else poms.push({ groupId, artifactId, version, path: name });
      } else if (isManifest) {
        manifest = parseManifest(data.toString("utf8"));
      } else {
        nested.push(...(await walkArchive(walk, data, `${location}!/${name}`, depth + 1)));
      }
    }
  } catch (err) {
    walk.warnings.push(`${location}: ${errorText(err)}`);
  } finally {
    zip.close();
  }

  const seen = new Set<string>();
  for (const p of poms) {
    if (seen.has(`${p.groupId}:${p.artifactId}@${p.version}`)) continue;
    seen.add(`${p.groupId}:${p.artifactId}@${p.version}`);
    own.push(mavenPackage(p, location, { javaSource: "pom.properties", pomProperties: p.path }));
  }
  const fromName = coordinatesFromFileName(location);
  const identified =
    fromName !== undefined
      ? poms.some((p) => p.artifactId === fromName.artifactId && p.version === fromName.version)
      : poms.length === 1;
  const fromManifest =
    identified || manifest === undefined
      ? undefined
      : coordinatesFromManifest(manifest, fromName?.artifactId);
  if (fromManifest !== undefined) {
    if (!poms.some((p) => p.groupId === fromManifest.groupId && p.artifactId === fromManifest.artifactId)) {
      own.push(mavenPackage(fromManifest, location, { javaSource: "MANIFEST.MF" }));
    }
  } else if (poms.length === 0 && fromName !== undefined) {
    own.push({
      ecosystem: "maven",
      name: fromName.artifactId,
      version: fromName.version,
      purl: purlOf("generic", undefined, fromName.artifactId, fromName.version),
      location,
      properties: { javaSource: "filename" },
    });
  }
  return [...own, ...nested];
}

export function createJavaExtractor(limits: Partial<JavaLimits> = {}): Extractor {
  const l: JavaLimits = { ...DEFAULT_JAVA_LIMITS, ...limits };
  return {
    name: "java",
    version: 1,
    spec: "JAR File Specification (META-INF/MANIFEST.MF), Maven pom.properties, PKWARE ZIP APPNOTE; Trivy's jar heuristics",
    maxFileBytes: 512 << 20,
    wants(file: FileInfo): boolean {
      return file.size >= 22 && ARCHIVE_RE.test(file.path);
    },
    async extract(file: ExtractorFile): Promise<ExtractorResult> {
      const walk: Walk = {
        limits: l,
        budget: { entries: l.maxEntries, bytes: l.maxInflatedBytes },
        warnings: [],
      };
      const packages = await walkArchive(walk, file.content, file.path, 0);
      const result: ExtractorResult = {};
      if (packages.length > 0) result.packages = packages;
      if (walk.warnings.length > 0) result.warnings = walk.warnings.slice(0, 50);
      if (walk.warnings.length > 50)
        result.warnings?.push(`${file.path}: ${walk.warnings.length - 50} more warnings`);
      return result;
    },
  };
}

export const javaExtractor: Extractor = createJavaExtractor();
