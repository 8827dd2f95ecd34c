import type { PipelineStats, StageStats } from '../../src/index.js';
import { Observers } from '../../src/pipeline/observer.js';
import { BreakerRegistry } from '../../src/resilience/breaker-registry.js';
import type { ObservedPipeline } from '../../src/observability/tracked-pipeline.js';

/** The counters of a stage as stats() reports them, with `changes` applied. */
export function stageStatsOf(name: string, changes: Partial<StageStats> = {}): StageStats {
  return {
    name,
    group: name,
    replica: undefined,
    kind: 'stage',
    status: 'idle',
    eventsIn: 0,
    eventsOut: 0,
    failedEvents: 0,
    calls: 0,
    failedCalls: 0,
    meanBatch: 0,
    fallbacks: 0,
    restarts: 0,
    unrouted: 0,
    mailbox: { depth: 0, capacity: 1024, peak: 0, replaying: 0 },
    waitingMs: null,
    latency: { perEventMs: null, busyMs: 0 },
    processedPerSecond: 0,
    recentPerSecond: 0,
    ...changes,
  };
}

/** A pipeline whose stats a test sets by hand, and whose observer events it emits. */
export interface StubPipeline extends ObservedPipeline {
  stages: Record<string, StageStats>;
  observers: Observers;
  /** Emits a call event as a stage would. */
  call(stage: string, ms: number, ok?: boolean): void;
}

export function stubPipeline(name: string, stages: string[]): StubPipeline {
  const observers = new Observers();
  const stub: StubPipeline = {
    name,
    stages: Object.fromEntries(stages.map((s) => [s, stageStatsOf(s)])),
    observers,
    breakers: new BreakerRegistry(),
    observe: (listener) => observers.add(listener),
    call: (stage, ms, ok = true) => observers.emit({ type: 'steadfast.stage.call', stage, group: stage, events: 1, ms, ok, failed: ok ? 0 : 1 }),
    stats: (): PipelineStats => ({
      pipeline: name,
      runId: 'stub',
      status: 'running',
      mode: 'standard',
      startedAt: 0,
      uptimeMs: 0,
      source: { name: 'stub', status: 'reading', events: 0, lastOffset: null, errors: 0 },
      stages: stub.stages,
      buffered: { now: 0, peak: 0, capacity: 0 },
      errors: 0,
      deadLetters: { stored: 0, altered: 0, notStored: 0, pending: 0 },
      eventsPerSecond: 0,
      sinkPerSecond: 0,
      recent: { windowMs: 10_000, sourcePerSecond: 0, sinkPerSecond: 0 },
      supervision: {
        name,
        state: 'running',
        strategy: 'one_for_one',
        children: stages.length,
        running: stages.length,
        restarting: 0,
        restarts: 0,
        intensity: { restarts: 0, maxRestarts: 10, withinMs: 60_000 },
        killed: 0,
        budget: 10,
      },
    }),
  };
  return stub;
}
