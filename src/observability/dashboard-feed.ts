import { setRepeating, systemClock, type CancelTimer } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { PipelineObservation } from '../pipeline/observer.js';
import type { HealthMonitor, HealthReport } from './health.js';
import type { SseHub } from './sse-hub.js';
import { treeOf, type LastCheckpoint, type PipelineNode } from './tree.js';
import type { ObservedPipeline } from './tracked-pipeline.js';

/** What `/tree` answers, and the `snapshot` event of `/events` carries (with `health`). */
export interface TreeSnapshot {
  /** Epoch ms. */
  at: number;
  pipelines: PipelineNode[];
}

/** A `snapshot` event: the tree and a health summary. */
export interface DashboardSnapshot extends TreeSnapshot {
  health: Pick<HealthReport, 'state' | 'availability'> & {
    stages: Array<{ pipeline: string; stage: string; status: string; reasons: string[] }>;
  };
}

/**
 * Feeds the dashboard: the supervision trees (with the last checkpoint of each stage), a snapshot
 * every `updateMs` while an `/events` stream is open, and the pipelines' notable events (restarts,
 * flapping, escalations, breaker transitions, checkpoints) as they happen. Calls are not forwarded:
 * the snapshots carry their counts.
 */
export class DashboardFeed {
  private readonly checkpoints = new Map<ObservedPipeline, Map<string, LastCheckpoint>>();
  private readonly offs: Array<() => void> = [];
  private timer: CancelTimer | undefined;

  constructor(
    private readonly pipelines: readonly ObservedPipeline[],
    private readonly hub: SseHub,
    private readonly health: HealthMonitor,
    private readonly updateMs: number,
    private readonly now: () => number,
  ) {
    for (const pipeline of pipelines) {
      const checkpoints = new Map<string, LastCheckpoint>();
      this.checkpoints.set(pipeline, checkpoints);
      this.offs.push(
        pipeline.observe((event) => {
          if (event.type === 'steadfast.stage.call') return;
          if (event.type === 'steadfast.checkpoint.stage_written') checkpoints.set(event.stage, { version: event.version, bytes: event.bytes, ms: event.ms, at: this.now() });
          if (this.hub.size === 0) return; // nobody watches: nothing to build
          this.hub.send('observation', { pipeline: pipeline.name, at: this.now(), event: plain(event) });
        }),
      );
    }
  }

  tree(): TreeSnapshot {
    return {
      at: this.now(),
      pipelines: this.pipelines.map((p) => treeOf(p.stats(), p.breakers.list(), this.checkpoints.get(p))),
    };
  }

  snapshot(): DashboardSnapshot {
    const report = this.health.check();
    return {
      ...this.tree(),
      health: {
        state: report.state,
        availability: report.availability,
        stages: report.pipelines.flatMap((p) => p.stages.map((s) => ({ pipeline: p.pipeline, stage: s.stage, status: s.status, reasons: s.reasons }))),
      },
    };
  }

  /** A stream opened: it gets a snapshot now, and all streams get one every `updateMs` while any is open. */
  streamOpened(send: (event: string, data: unknown) => void): void {
    send('snapshot', this.snapshot());
    if (this.timer !== undefined || this.hub.size === 0) return;
    this.timer = setRepeating(
      systemClock,
      this.updateMs,
      () => {
        if (this.hub.size === 0) this.streamsClosed();
        else this.hub.send('snapshot', this.snapshot());
      },
      { unref: true },
    );
  }

  /** The last stream closed: no more snapshots (no health checks, no trees) until one opens. */
  streamsClosed(): void {
    this.timer?.();
    this.timer = undefined;
  }

  /** Running snapshots right now (a stream is open). */
  get active(): boolean {
    return this.timer !== undefined;
  }

  close(): void {
    this.streamsClosed();
    for (const off of this.offs.splice(0)) off();
  }
}

/** An observation as JSON can carry it: errors become their messages. */
function plain(event: PipelineObservation): unknown {
  switch (event.type) {
    case 'steadfast.supervisor.restarting':
      return { ...event, error: messageOf(event.error) };
    case 'steadfast.checkpoint.failed':
      return { ...event, error: messageOf(event.error) };
    case 'steadfast.supervisor.escalated':
      return { type: 'steadfast.supervisor.escalated', escalation: { ...event.escalation, error: messageOf(event.escalation.error) } };
    default:
      return event;
  }
}
