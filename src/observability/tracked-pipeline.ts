import type { Pipeline } from '../pipeline/pipeline.js';

/** What metrics, health and the HTTP server read from a pipeline (a `Pipeline` has all of it; `inspect` feeds `/inspect`). */
export type ObservedPipeline = Pick<Pipeline, 'name' | 'stats' | 'observe' | 'breakers'> & Partial<Pick<Pipeline, 'inspect'>>;

/** Breaker state as a number for `steadfast_breaker_state`: 0 closed, 1 halfOpen, 2 open or isolated (both refuse calls). */
export const BREAKER_STATE_VALUE = { closed: 0, halfOpen: 1, open: 2, isolated: 2 } as const;
