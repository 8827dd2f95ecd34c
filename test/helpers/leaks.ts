/** Counts of active handles and requests by type (timers, files, sockets), for leak checks. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The resource types of which there are more now than in `before` (the test runner's own timers may come and go). */
export function leakedSince(before: Record<string, number>): Record<string, number> {
  const leaked: Record<string, number> = {};
  for (const [type, count] of Object.entries(activeResources())) {
    if (count > (before[type] ?? 0)) leaked[type] = count - (before[type] ?? 0);
  }
  return leaked;
}

/** Waits until pending I/O callbacks of closed resources have run (closing a file settles on a later turn). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
