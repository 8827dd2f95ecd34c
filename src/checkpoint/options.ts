import { ConfigError } from '../core/errors.js';
import { integerIn, knownKeys, oneOf, record } from '../core/validate.js';
import type { CheckpointStore, CodecName } from './types.js';

/** When stored writes reach the disk (see docs/checkpointing.md). */
export type CheckpointSync = 'checkpoint' | 'always' | 'never';

/** What recovery promises: exactly-once effects on stage state (barriers aligned), or at-least-once (no waiting). */
export type Delivery = 'exactly-once' | 'at-least-once';

/** The `checkpoint` option of a pipeline. */
export interface CheckpointOptions {
  /** LevelDB directory (created if missing); or give `store`. */
  dir?: string;
  /** A store made by `createCheckpointStore()` or `redisStore()` (the pipeline opens and closes it); or give `dir`. */
  store?: CheckpointStore;
  /** Take a checkpoint after this many source events (default 1,000; 0 = not by count). */
  everyEvents?: number;
  /** Take a checkpoint this often, in milliseconds (default 5,000; 0 = not by time). */
  everyMs?: number;
  /** Completed checkpoints kept (default 3); older snapshots and markers are pruned. */
  keep?: number;
  /**
   * `checkpoint` (default): the completed-checkpoint marker is written with fsync, which makes every
   * snapshot written before it durable too; `always`: every snapshot fsynced; `never`: no fsync
   * (survives a process crash, not a machine crash).
   */
  sync?: CheckpointSync;
  /** How stage state is encoded with `dir` (default `json`; `v8` for trusted data only). */
  codec?: CodecName;
  /** Default `exactly-once`. */
  delivery?: Delivery;
  /** Events a stage keeps since its last snapshot for a replay after a restart (default 10,000). */
  replayLimit?: number;
  /**
   * When LevelDB reports the store's files damaged at start (CHECKPOINT_CORRUPT), run LevelDB's
   * repair and restore from what it saved, instead of failing `start()` (default false).
   */
  repairOnCorruption?: boolean;
}

/** Checkpoint options after validation. */
export interface ResolvedCheckpointOptions {
  dir: string | undefined;
  store: CheckpointStore | undefined;
  everyEvents: number;
  everyMs: number;
  keep: number;
  sync: CheckpointSync;
  codec: CodecName;
  delivery: Delivery;
  replayLimit: number;
  repairOnCorruption: boolean;
}

const KNOWN = ['dir', 'store', 'everyEvents', 'everyMs', 'keep', 'sync', 'codec', 'delivery', 'replayLimit', 'repairOnCorruption'] as const;

/** Checks the `checkpoint` option; a mistake is a CONFIG_INVALID naming the field. */
export function resolveCheckpointOptions(value: unknown): ResolvedCheckpointOptions {
  const opts = record('pipeline.checkpoint', value);
  knownKeys('pipeline.checkpoint', opts, KNOWN);
  const dir = opts.dir;
  if (dir !== undefined && (typeof dir !== 'string' || dir.trim() === '')) throw new ConfigError('pipeline.checkpoint.dir', dir, 'must be a directory path');
  const store = opts.store;
  if (store !== undefined && !isStore(store)) throw new ConfigError('pipeline.checkpoint.store', store, 'must be a store made by createCheckpointStore() or redisStore()');
  if ((dir === undefined) === (store === undefined)) {
    throw new ConfigError('pipeline.checkpoint.dir', dir ?? store, 'exactly one of `dir` and `store` must be given');
  }
  const everyEvents = opts.everyEvents === undefined ? 1_000 : integerIn('pipeline.checkpoint.everyEvents', opts.everyEvents, 0);
  const everyMs = opts.everyMs === undefined ? 5_000 : integerIn('pipeline.checkpoint.everyMs', opts.everyMs, 0, 2_147_483_647);
  return {
    dir: dir as string | undefined,
    store: store as CheckpointStore | undefined,
    everyEvents,
    everyMs,
    keep: opts.keep === undefined ? 3 : integerIn('pipeline.checkpoint.keep', opts.keep, 1, 1_000_000),
    sync: opts.sync === undefined ? 'checkpoint' : oneOf('pipeline.checkpoint.sync', opts.sync, ['checkpoint', 'always', 'never'] as const),
    codec: opts.codec === undefined ? 'json' : oneOf('pipeline.checkpoint.codec', opts.codec, ['json', 'v8'] as const),
    delivery: opts.delivery === undefined ? 'exactly-once' : oneOf('pipeline.checkpoint.delivery', opts.delivery, ['exactly-once', 'at-least-once'] as const),
    // By default a stage keeps enough for two checkpoints' worth of events: a restart between two never loses its snapshot.
    replayLimit: opts.replayLimit === undefined ? Math.max(10_000, 2 * everyEvents) : integerIn('pipeline.checkpoint.replayLimit', opts.replayLimit, 0),
    repairOnCorruption: flag('pipeline.checkpoint.repairOnCorruption', opts.repairOnCorruption),
  };
}

function flag(field: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new ConfigError(field, value, 'must be a boolean');
  return value === true;
}

function isStore(value: unknown): value is CheckpointStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<CheckpointStore>;
  return typeof s.open === 'function' && typeof s.writeSnapshot === 'function' && typeof s.completed === 'function';
}
