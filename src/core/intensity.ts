/**
 * Counts a restart at `now` in the sliding window of restart timestamps (Erlang/OTP restart
 * intensity): restarts older than `now - withinMs` leave the window, and `exceeded` is true when
 * more than `maxRestarts` remain.
 *
 * - Boundary: a restart exactly `withinMs` ago is still inside, as in OTP's `can_restart`
 *   (`Restart >= Now - Period`).
 * - `window` is ascending, as returned by the previous call; the result is ascending too and keeps
 *   only the newest `maxRestarts + 1` timestamps (older ones would leave the window first).
 * - Time should not go backwards (use a monotonic clock): a timestamp newer than `now` stays in the
 *   window and is counted, and restarts already forgotten are not recovered.
 * - `maxRestarts` is an integer >= 0; with 0 the first restart already exceeds.
 */
export function recordRestart(
  window: readonly number[],
  now: number,
  maxRestarts: number,
  withinMs: number,
): { window: number[]; exceeded: boolean } {
  const since = now - withinMs;
  const kept = window.filter((at) => at >= since);
  let at = kept.length;
  while (at > 0 && kept[at - 1] > now) at--;
  kept.splice(at, 0, now);
  const exceeded = kept.length > maxRestarts;
  const limit = maxRestarts + 1;
  return { window: kept.length > limit ? kept.slice(kept.length - limit) : kept, exceeded };
}

/** A supervisor in a tree, reduced to what its restart budget depends on: its intensity and its supervisor children. */
export interface BudgetNode {
  maxRestarts: number;
  /** Supervisor children only (workers do not change the budget). */
  children: readonly BudgetNode[];
}

/**
 * The worst-case number of restarts of one worker within one intensity window: for a worker whose
 * supervisors, from its parent up to the root, allow m1 … mk restarts, m1 · (m2 + 1) · … · (mk + 1)
 * (each time a supervisor exhausts its intensity, its parent restarts it with a fresh window); the
 * maximum over every supervisor of the tree, any of which may hold workers directly; saturates at
 * `Number.MAX_SAFE_INTEGER`.
 */
export function restartBudget(tree: BudgetNode): number {
  let worst = 0;
  // Iterative, so that a deep tree cannot overflow the call stack.
  const pending: Array<{ node: BudgetNode; above: number }> = [{ node: tree, above: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, above } = next;
    const own = times(node.maxRestarts, above);
    if (own > worst) worst = own;
    const below = times(above, node.maxRestarts >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : node.maxRestarts + 1);
    for (const child of node.children) pending.push({ node: child, above: below });
  }
  return worst;
}

/** a · b for integers >= 0, saturating at MAX_SAFE_INTEGER instead of losing precision. */
function times(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  if (a > Number.MAX_SAFE_INTEGER / b) return Number.MAX_SAFE_INTEGER;
  const product = a * b;
  return product < Number.MAX_SAFE_INTEGER ? product : Number.MAX_SAFE_INTEGER;
}
