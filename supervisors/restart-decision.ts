/** How a child's exits are treated (Erlang/OTP): `permanent` always restarted, `transient` only after an error, `temporary` never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** Why a child left: it finished on its own (`normal`), was shut down (`shutdown`), or crashed (`error`). */
export type ExitKind = 'normal' | 'shutdown' | 'error';

/** Every restart type, in the order docs list them. */
export const RESTART_TYPES: readonly RestartType[] = Object.freeze(['permanent', 'transient', 'temporary'] as const);

/** Every exit kind, in the order docs list them. */
export const EXIT_KINDS: readonly ExitKind[] = Object.freeze(['normal', 'shutdown', 'error'] as const);

/** Erlang/OTP's restart decision as data: `RESTART_TABLE[type][exit]` is true when the child is restarted. */
export const RESTART_TABLE: Readonly<Record<RestartType, Readonly<Record<ExitKind, boolean>>>> = Object.freeze({
  permanent: Object.freeze({ normal: true, shutdown: true, error: true }),
  transient: Object.freeze({ normal: false, shutdown: false, error: true }),
  temporary: Object.freeze({ normal: false, shutdown: false, error: false }),
});

/** True when a child of restart `type` that exited with `exit` is to be restarted (a lookup in {@link RESTART_TABLE}). */
export function shouldRestart(type: RestartType, exit: ExitKind): boolean {
  return RESTART_TABLE[type][exit];
}
