/**
 * Package names as each ecosystem compares them, applied alike when advisories are stored and when
 * installed packages are looked up: PEP 503 for PyPI, case-insensitive NuGet and Packagist names.
 */
export function normalizePackageName(ecosystem: string, name: string): string {
  switch (ecosystem) {
    case "PyPI":
      return name.toLowerCase().replace(/[-_.]+/g, "-");
    case "NuGet":
    case "Packagist":
      return name.toLowerCase();
    default:
      return name;
  }
}
