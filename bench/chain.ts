// The pipeline benchmark's workload as steadfast stages: parse → enrich → aggregate over
// `{ id, key: i % KEYS, value }`, used by bench/pipeline.bench.ts and bench/checkpoint-pipeline.bench.ts.
import { defineStage } from 'steadfast';

export interface RawEvent {
  id: number;
  key: number;
  value: number;
}
export interface ParsedEvent extends RawEvent {
  ts: number;
}
export interface EnrichedEvent extends ParsedEvent {
  score: number;
}

export const KEYS = 100;
/**
 * The `ts` parse adds: one fixed logical timestamp, a small integer. A wall-clock value would be a
 * heap-boxed double in every object and a clock read per event, the same extra cost for every
 * variant, which would only blur the differences the bench is about.
 */
export const TS = 1;

// Explicit object literals, not `{ ...e, ts }` (a spread-then-add makes a new hidden class per call
// on this Node), written inline rather than as calls to the baseline loop's functions: sharing
// those functions made steadfast ~25% slower in bench/pipeline.bench.ts through V8 feedback.
export const parseStage = defineStage<RawEvent, ParsedEvent>({
  name: 'parse',
  process: (e) => ({ state: undefined, emit: [{ id: e.id, key: e.key, value: e.value, ts: TS }] }),
});
export const enrichStage = defineStage<ParsedEvent, EnrichedEvent>({
  name: 'enrich',
  process: (e) => ({ state: undefined, emit: [{ id: e.id, key: e.key, value: e.value, ts: e.ts, score: e.value * 2 }] }),
});
export const aggregateStage = defineStage<EnrichedEvent, never, Float64Array>({
  name: 'aggregate',
  initialState: () => new Float64Array(KEYS),
  process: (e, s) => {
    s[e.key] += e.score;
    return { state: s };
  },
});
