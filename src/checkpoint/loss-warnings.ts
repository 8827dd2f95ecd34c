import type { Logger } from 'pino';
import type { CodecLoss } from './json-tags.js';

/**
 * Warns about what the json codec could not keep, once per stage and kind of loss, with the path
 * of the first one: a state written at every checkpoint would otherwise repeat the same warning.
 */
export class LossWarnings {
  private readonly warned = new Set<string>();

  constructor(
    private readonly log: Logger | undefined,
    /** What was encoded, for the message: `the state of stage "s"`, `a dead letter of stage "s"`. */
    private readonly what: (stage: string) => string,
  ) {}

  /** Warns for each kind in `losses` not warned of yet for `stage`; true when anything was lost. */
  note(stage: string, losses: readonly CodecLoss[] | undefined, fields: Record<string, unknown> = {}): boolean {
    if (losses === undefined || losses.length === 0) return false;
    for (const loss of losses) {
      const id = `${stage}\u0000${loss.kind}`;
      if (this.warned.has(id)) continue;
      this.warned.add(id);
      this.log?.warn({ ...fields, loss: loss.kind, path: loss.path }, `${this.what(stage)} is not stored as it is: ${loss.path}: ${loss.detail} (warned once per kind of loss)`);
    }
    return true;
  }
}
