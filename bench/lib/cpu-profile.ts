/**
 * Summaries of a V8 CPU profile (`node --cpu-prof`, the .cpuprofile JSON): self and total time per
 * function and self time per file. Only the main thread is sampled: zlib inflation and file I/O run
 * on libuv's thread pool and show up as "(idle)" on the main thread while it waits for them.
 */
import { readFile } from "node:fs/promises";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  /** `name file:line` */
  function: string;
  file: string;
  selfMs: number;
  /** Time with the function anywhere on the stack (recursion counted once). */
  totalMs: number;
}

export interface ProfileSummary {
  /** Sampled wall time of the main thread. */
  profiledMs: number;
  samples: number;
  functions: FunctionTime[];
  /** Self time by file (node:internal modules, src/… , node_modules/<package>, or the V8 pseudo-nodes). */
  files: { file: string; selfMs: number }[];
}

/** A URL shortened to the part that names it: src/…, bench/…, node_modules/<pkg>/…, node:… */
export function shortFile(url: string, root: string): string {
  if (url === "") return "";
  let file = url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url;
  if (file.startsWith(`${root}/`)) file = file.slice(root.length + 1);
  const nm = file.lastIndexOf("node_modules/");
  if (nm >= 0) file = file.slice(nm);
  return file;
}

export async function summariseProfile(file: string, root: string): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode) => {
    const f = n.callFrame;
    const where = shortFile(f.url, root);
    return {
      key: where ? `${f.functionName || "(anonymous)"} ${where}:${f.lineNumber + 1}` : f.functionName,
      file: where || f.functionName,
    };
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  const fileOfKey = new Map<string, string>();
  // timeDeltas[i] is the time between sample i-1 and sample i; it is charged to sample i.
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (!leaf) return;
    const { key, file } = keyOf(leaf);
    fileOfKey.set(key, file);
    self.set(key, (self.get(key) ?? 0) + ms);
    files.set(file, (files.get(file) ?? 0) + ms);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = keyOf(n).key;
      if (seen.has(k) || k === "(root)") continue;
      seen.add(k);
      fileOfKey.set(k, keyOf(n).file);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  });
  const functions = [...total.keys()]
    .map((k) => ({
      function: k,
      file: fileOfKey.get(k) ?? "",
      selfMs: self.get(k) ?? 0,
      totalMs: total.get(k) ?? 0,
    }))
    .sort((a, b) => b.selfMs - a.selfMs || b.totalMs - a.totalMs);
  return {
    profiledMs: (profile.endTime - profile.startTime) / 1000,
    samples: profile.samples.length,
    functions,
    files: [...files].map(([file, selfMs]) => ({ file, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}
