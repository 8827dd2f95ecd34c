import type { LevelWithSilent } from 'pino';

/** A pipeline's preset: default batch size, mailbox size, batch duration target and log level. */
export type PipelineMode = 'throughput' | 'standard' | 'debug';

/** What a mode sets; a stage's own `maxBatch` / `mailbox` / `targetBatchMs` take precedence. */
export interface ModePreset {
  maxBatch: number;
  mailbox: number;
  targetBatchMs: number;
  logLevel: LevelWithSilent;
}

/**
 * The presets. `standard` is the default. `throughput` takes large batches (a call's fixed cost,
 * about 17 µs of XState machinery, is paid once per up to 4096 events) and logs warnings only;
 * `debug` handles one event per call with small mailboxes, so each event's path is visible in the
 * debug log.
 */
export const MODES: Readonly<Record<PipelineMode, Readonly<ModePreset>>> = Object.freeze({
  throughput: Object.freeze({ maxBatch: 4096, mailbox: 16384, targetBatchMs: 50, logLevel: 'warn' as const }),
  standard: Object.freeze({ maxBatch: 256, mailbox: 1024, targetBatchMs: 20, logLevel: 'info' as const }),
  debug: Object.freeze({ maxBatch: 1, mailbox: 16, targetBatchMs: 5, logLevel: 'debug' as const }),
});

export const MODE_NAMES = Object.keys(MODES) as PipelineMode[];

/** The mode a pipeline created without one takes: `STEADFAST_MODE` when it names a mode (else ignored), else `standard`. */
export function defaultMode(env: Readonly<Record<string, string | undefined>> = process.env): PipelineMode {
  const fromEnv = env.STEADFAST_MODE?.trim();
  return fromEnv !== undefined && (MODE_NAMES as readonly string[]).includes(fromEnv) ? (fromEnv as PipelineMode) : 'standard';
}
