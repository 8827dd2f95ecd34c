/**
 * Where a pipeline run is, with what each phase holds: created; starting and running since
 * `startedAt`; stopping (drain, final checkpoint, close); stopped or failed at `endedAt`.
 */
export type RunLife =
  | { phase: 'created' }
  | { phase: 'starting'; startedAt: number }
  | { phase: 'running'; startedAt: number }
  | { phase: 'stopping'; startedAt: number | null }
  | { phase: 'stopped' | 'failed'; startedAt: number | null; endedAt: number };

/** When the run started (epoch ms), or null if it never did. */
export function startedAtOf(life: RunLife): number | null {
  return life.phase === 'created' ? null : life.startedAt;
}
