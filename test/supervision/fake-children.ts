import type { ChildSpec, ChildStartContext } from '../../src/supervision/child.js';

/** What happened to fake children, in order: starts, stops, kills. */
export type Journal = string[];

/** A running fake child: the test makes it crash or exit. */
export interface FakeChild {
  id: string;
  incarnation: number;
  crash(error?: unknown): void;
  exitNormally(): void;
}

/** A set of fake children sharing a journal; `live` holds the current incarnation of each. */
export class FakeChildren {
  readonly journal: Journal = [];
  readonly live = new Map<string, FakeChild>();
  private readonly incarnations = new Map<string, number>();

  /** A child spec whose child records its life in the journal; `hang` makes its stop never finish. */
  spec(id: string, options: Partial<Omit<ChildSpec, 'id' | 'start'>> & { hang?: boolean; failStart?: () => boolean } = {}): ChildSpec {
    const { hang = false, failStart, ...rest } = options;
    return {
      id,
      ...rest,
      start: (ctx: ChildStartContext) => {
        if (failStart?.()) {
          this.journal.push(`start-failed ${ctx.id}`);
          throw new Error(`${ctx.id} cannot start`);
        }
        const incarnation = (this.incarnations.get(ctx.id) ?? 0) + 1;
        this.incarnations.set(ctx.id, incarnation);
        this.journal.push(`start ${ctx.id}`);
        const fake: FakeChild = {
          id: ctx.id,
          incarnation,
          crash: (error = new Error(`${ctx.id} crashed`)) => {
            this.live.delete(ctx.id);
            ctx.exited('error', error);
          },
          exitNormally: () => {
            this.live.delete(ctx.id);
            ctx.exited('normal');
          },
        };
        this.live.set(ctx.id, fake);
        return {
          stop: () => {
            this.journal.push(`stop ${ctx.id}`);
            if (hang) return new Promise<void>(() => {});
            this.live.delete(ctx.id);
            return undefined;
          },
          kill: () => {
            this.journal.push(`kill ${ctx.id}`);
            this.live.delete(ctx.id);
          },
        };
      },
    };
  }

  /** The live child `id`; throws if it is not running. */
  get(id: string): FakeChild {
    const child = this.live.get(id);
    if (child === undefined) throw new Error(`child ${id} is not running`);
    return child;
  }

  /** Journal entries since the last call. */
  drain(): Journal {
    return this.journal.splice(0);
  }
}
