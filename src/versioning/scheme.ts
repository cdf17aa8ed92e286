/**
 * The versioning plug-in interface (modelled on Renovate's lib/modules/versioning): one scheme per
 * ecosystem's own ordering rules. Matching compares an installed version with the bounds a feed
 * states, so every scheme must order exactly as its package manager does.
 */
export interface VersioningScheme {
  /** Stable name, used in advisory ranges: "dpkg", "apk", "rpm", "semver", "go", "pep440", "maven", "rubygems", "composer", "nuget". */
  readonly name: string;
  /** Bump when ordering changes (stored match results depend on it). */
  readonly version: number;
  /** The specification implemented, e.g. "deb-version(7)", "PEP 440". */
  readonly spec: string;
  isValid(version: string): boolean;
  /** Negative, zero or positive as `a` sorts before, equal to, or after `b`. Throws InvalidVersionError on an invalid input. */
  compare(a: string, b: string): number;
}

export class InvalidVersionError extends Error {
  constructor(
    readonly scheme: string,
    readonly input: string,
  ) {
    super(`invalid ${scheme} version "${input}"`);
    this.name = "InvalidVersionError";
  }
}
