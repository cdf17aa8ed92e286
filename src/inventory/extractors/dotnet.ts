/**
 * .NET extractor: `*.deps.json` dependency manifests written by the .NET SDK next to an application
 * (https://github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md,
 * "deps.json"): `libraries` keyed "Name/Version" with a `type`, and `targets` per runtime target.
 * purl `pkg:nuget/<Name>@<Version>` (purl-spec nuget type, name case kept).
 *
 * Decisions:
 * - Libraries of type `package` are reported; `project` (the application and its project
 *   references: local code) and `reference` are not. `runtimepack` libraries (the runtime bundled
 *   in a self-contained app) are reported under their package name without the `runtimepack.`
 *   prefix (e.g. Microsoft.NETCore.App.Runtime.linux-x64), as advisories name them.
 * - Like Trivy, a package whose entry in the runtime target has no `runtime`, `runtimeTargets` or
 *   `native` assets ships no code into the application (build-time analyzers, meta-packages) and is
 *   skipped; a package missing from the target is kept.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo } from "../extractor.js";
import { guardedExtract, isRecord, PackageSink, parseJson, str } from "./language-common.js";

const RUNTIME_PACK_PREFIX = "runtimepack.";

function nonEmpty(value: unknown): boolean {
  if (isRecord(value)) return Object.keys(value).length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return false;
}

function extractDepsJson(file: ExtractorFile): ExtractorResult {
  const parsed = parseJson(file.content, file.path);
  if ("warning" in parsed) return { packages: [], warnings: [parsed.warning] };
  const doc = parsed.value;
  const sink = new PackageSink("nuget", file.path);
  if (!isRecord(doc) || !isRecord(doc.libraries)) {
    sink.warn("no `libraries` object");
    return sink.result();
  }
  const targetName = isRecord(doc.runtimeTarget) ? str(doc.runtimeTarget.name) : undefined;
  const target = targetName && isRecord(doc.targets) ? doc.targets[targetName] : undefined;
  const targetLibs = isRecord(target) ? target : undefined;
  for (const [key, lib] of Object.entries(doc.libraries)) {
    if (!sink.open) break;
    if (!isRecord(lib)) continue;
    const type = str(lib.type)?.toLowerCase();
    if (type !== "package" && type !== "runtimepack") continue;
    const slash = key.indexOf("/");
    if (slash <= 0 || slash === key.length - 1) {
      sink.warn(`invalid library key ${JSON.stringify(key)}`);
      continue;
    }
    if (targetLibs) {
      const assets = targetLibs[key];
      if (
        isRecord(assets) &&
        !nonEmpty(assets.runtime) &&
        !nonEmpty(assets.runtimeTargets) &&
        !nonEmpty(assets.native)
      ) {
        continue;
      }
    }
    let name = key.slice(0, slash);
    if (name.startsWith(RUNTIME_PACK_PREFIX)) name = name.slice(RUNTIME_PACK_PREFIX.length);
    sink.add({ name, version: key.slice(slash + 1) });
  }
  return sink.result();
}

export const dotnetExtractor: Extractor = {
  name: "dotnet",
  version: 1,
  spec: ".NET deps.json (github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md)",
  maxFileBytes: 16 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return file.path.endsWith(".deps.json");
  },
  extract(file: ExtractorFile): ExtractorResult {
    return guardedExtract(file, extractDepsJson);
  },
};
