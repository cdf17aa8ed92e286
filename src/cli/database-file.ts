/** Where the vulnerability database file lives, and its age in words (for status and reports). */
import path from "node:path";

export function databaseFile(cacheDir: string): string {
  return process.env.SHIPSHAPE_DB ?? path.join(cacheDir, "db", "vuln.db");
}

export function describeDatabaseAge(builtAt: string | undefined, now = Date.now()): string {
  if (!builtAt) return "built at an unknown time";
  const hours = Math.floor((now - Date.parse(builtAt)) / 3_600_000);
  const age =
    hours < 1
      ? "less than an hour ago"
      : hours < 48
        ? `${hours} hours ago`
        : `${Math.floor(hours / 24)} days ago`;
  return `built ${builtAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")} (${age})`;
}
