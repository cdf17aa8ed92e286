/**
 * CPU time of this process, for tests that guard against pathological slow paths (quadratic loops,
 * runaway decompression): on a loaded machine wall time would fail them for nothing.
 */
export function cpuClock(): () => number {
  const start = process.cpuUsage();
  return () => {
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  };
}
