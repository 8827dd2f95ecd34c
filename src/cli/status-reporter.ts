// Writes the status of a running pipeline: on a terminal one line redrawn in place, otherwise a
// plain timestamped line every interval.
import { setRepeating, systemClock, type CancelTimer } from '../core/clock.js';
import type { PipelineStats } from '../pipeline/stats.js';
import { fitLine, statusLine } from './status-line.js';

/** How the status is shown. */
export interface StatusReporterOptions {
  /** Redraw one line in place (stdout is a terminal) or write plain lines. */
  tty: boolean;
  /** Terminal width, to keep the live line from wrapping. */
  columns: number | undefined;
  /** Period of the plain lines; 0 writes only the final one (and no live line). */
  intervalMs: number;
  now?: () => number;
}

/** How often the live line is redrawn on a terminal. */
export const TTY_REFRESH_MS = 500;

const CLEAR = '\r\x1b[2K';

export class StatusReporter {
  private timer: CancelTimer | undefined;
  private drawn = false;
  private readonly now: () => number;

  constructor(
    private readonly stats: () => PipelineStats,
    private readonly out: { write(text: string): unknown },
    private readonly options: StatusReporterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the periodic status (a live line at once on a terminal). */
  start(): void {
    if (this.options.intervalMs === 0 || this.timer !== undefined) return;
    if (this.options.tty) this.tick();
    // Unref'd: the status never keeps the process alive; the pipeline does, while it runs.
    this.timer = setRepeating(systemClock, this.options.tty ? TTY_REFRESH_MS : this.options.intervalMs, () => this.tick(), { unref: true });
  }

  /** Writes the status now: redraws the live line, or writes a plain line (the rates are those of the last 10 s, `stats.recent`). */
  tick(): void {
    const stats = this.stats();
    const at = this.now();
    this.write(statusLine(stats, { read: stats.recent.sourcePerSecond, done: stats.recent.sinkPerSecond }, at), at, false);
  }

  /** Clears the live line, so that other text can be written on the terminal. */
  clear(): void {
    if (!this.drawn) return;
    this.out.write(CLEAR);
    this.drawn = false;
  }

  /** Stops the periodic status and writes the final one (the rates are the averages of the run), on a line of its own. */
  stop(): void {
    this.timer?.();
    this.timer = undefined;
    const stats = this.stats();
    const at = this.now();
    this.write(statusLine(stats, { read: stats.eventsPerSecond, done: stats.sinkPerSecond }, at), at, true);
  }

  private write(line: string, at: number, final: boolean): void {
    if (this.options.tty) {
      this.out.write(final ? `${CLEAR}${line}\n` : `${CLEAR}${fitLine(line, this.options.columns)}`);
      this.drawn = !final;
      return;
    }
    this.out.write(`${new Date(at).toISOString()} ${line}\n`);
  }
}
