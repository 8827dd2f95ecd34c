// The STEADFAST_* environment variables of `steadfast run`, checked before anything runs.
import { ConfigError } from '../core/errors.js';
import { isLogLevel } from '../logging/logger.js';
import { MODE_NAMES, type PipelineMode } from '../pipeline/modes.js';
import { defaultBreakerThreshold, defaultBreakerTimeoutMs } from '../resilience/breaker-env-defaults.js';

/** What `steadfast run` takes from the environment. */
export interface RunEnv {
  /** `STEADFAST_METRICS`: whether `--http` serves `/metrics` (default on). */
  metrics: boolean;
  /** `STEADFAST_HTTP`: the address `--http` defaults to. */
  http: string | undefined;
  /** `STEADFAST_STATUS_INTERVAL_MS`: period of the plain status lines. */
  statusIntervalMs: number | undefined;
  /** `STEADFAST_LOAD_TIMEOUT_MS`: how long the module may take to give its pipeline (0: no limit). */
  loadTimeoutMs: number | undefined;
  /** `STEADFAST_MODE`: the mode of a pipeline the module creates without one (the library reads it). */
  mode: PipelineMode | undefined;
  /** `STEADFAST_LOG_FORMAT`: `pretty` or `json` logs on stderr; `auto` (default) is pretty on a terminal. */
  logFormat: LogFormat;
}

/** How `steadfast run` writes the pipelines' logs. */
export type LogFormat = 'auto' | 'pretty' | 'json';
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'pretty', 'json'];

type Env = Readonly<Record<string, string | undefined>>;

/** The longest delay a Node timer takes. */
export const MAX_TIMER_MS = 2_147_483_647;

const SWITCH: Record<string, boolean> = { on: true, true: true, '1': true, yes: true, off: false, false: false, '0': false, no: false };

/**
 * Reads and checks every `STEADFAST_*` variable `steadfast run` knows, the ones the library reads
 * itself included (`STEADFAST_LOG_LEVEL`, the breaker defaults), so that a mistake stops the run
 * before it starts; a mistake is a CONFIG_INVALID naming the variable. Unset and empty are alike.
 */
export function readRunEnv(env: Env): RunEnv {
  const level = given(env, 'STEADFAST_LOG_LEVEL');
  if (level !== undefined && !isLogLevel(level)) {
    throw new ConfigError('STEADFAST_LOG_LEVEL', level, 'must be one of fatal, error, warn, info, debug, trace, silent');
  }
  const metricsText = given(env, 'STEADFAST_METRICS');
  const metrics = metricsText === undefined ? true : SWITCH[metricsText.toLowerCase()];
  if (metrics === undefined) throw new ConfigError('STEADFAST_METRICS', metricsText, 'must be on or off');
  const interval = given(env, 'STEADFAST_STATUS_INTERVAL_MS');
  let statusIntervalMs: number | undefined;
  if (interval !== undefined) {
    statusIntervalMs = /^[0-9]{1,10}$/.test(interval) ? Number(interval) : Number.NaN;
    if (!(statusIntervalMs === 0 || (statusIntervalMs >= 100 && statusIntervalMs <= 86_400_000))) {
      throw new ConfigError('STEADFAST_STATUS_INTERVAL_MS', interval, 'must be 0 (no periodic lines) or milliseconds in [100, 86400000]');
    }
  }
  const load = given(env, 'STEADFAST_LOAD_TIMEOUT_MS');
  let loadTimeoutMs: number | undefined;
  if (load !== undefined) {
    loadTimeoutMs = /^[0-9]{1,10}$/.test(load) ? Number(load) : Number.NaN;
    if (!(loadTimeoutMs >= 0 && loadTimeoutMs <= MAX_TIMER_MS)) {
      throw new ConfigError('STEADFAST_LOAD_TIMEOUT_MS', load, `must be milliseconds in [0, ${MAX_TIMER_MS}] (0: no limit)`);
    }
  }
  const mode = given(env, 'STEADFAST_MODE');
  if (mode !== undefined && !(MODE_NAMES as readonly string[]).includes(mode)) {
    throw new ConfigError('STEADFAST_MODE', mode, `must be one of ${MODE_NAMES.join(', ')}`);
  }
  const format = given(env, 'STEADFAST_LOG_FORMAT') ?? 'auto';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new ConfigError('STEADFAST_LOG_FORMAT', format, `must be one of ${LOG_FORMATS.join(', ')}`);
  defaultBreakerThreshold(env);
  defaultBreakerTimeoutMs(env);
  return { metrics, http: given(env, 'STEADFAST_HTTP'), statusIntervalMs, loadTimeoutMs, mode: mode as PipelineMode | undefined, logFormat: format as LogFormat };
}

function given(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
