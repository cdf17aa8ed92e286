import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const POLL_MS = 250;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function ownerPid(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await fs.readFile(path.join(lockDir, "owner"), "utf8"), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `lockDir` with its owner file in one step (rename), so a lock is never seen without an owner. */
async function tryAcquire(lockDir: string): Promise<boolean> {
  const staging = `${lockDir}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.mkdir(staging);
  await fs.writeFile(path.join(staging, "owner"), `${process.pid}\n`);
  try {
    await fs.rename(staging, lockDir);
    return true;
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Runs `fn` while holding an exclusive lock directory shared by every process on this machine
 * (parallel `node --test` workers). A lock whose owner process has died is stale and reclaimed;
 * a live owner is waited for however long its build takes, up to `timeoutMs`.
 */
export async function withLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  timeoutMs = 30 * 60_000,
): Promise<T> {
  await fs.mkdir(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  while (!(await tryAcquire(lockDir))) {
    const owner = await ownerPid(lockDir);
    if (owner !== undefined && !isAlive(owner)) {
      // Moved aside before removal so two reclaimers collide on an atomic rename instead of one
      // deleting the lock the other just took (only a waiter stalled between reading the owner and
      // renaming can still move a fresh lock; that needs a crash and two waiters in the same instant).
      const grave = `${lockDir}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
      await fs.rename(lockDir, grave).catch(() => undefined);
      await fs.rm(grave, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir} (owner pid ${owner})`);
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}
