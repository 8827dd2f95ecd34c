import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, pushSource, toArray } from '../../src/index.js';

type Line = Record<string, unknown>;

/** A pino logger writing into an array of parsed lines. */
function capturedLogger(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, destination), lines };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

describe('supervisor reports in the logs', () => {
  it('carry the OTP report keys (supervisor, errorContext, reason, offender) with the pipeline fields', async () => {
    const { logger, lines } = capturedLogger();
    const source = pushSource<number>();
    const picky = defineStage({
      name: 'picky',
      onFailure: 'restart',
      process: (n: number) => {
        if (n < 0) throw new Error(`negative ${n}`);
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({
      name: 'otp',
      source,
      stages: [picky],
      sink: toArray(),
      logger,
      supervision: { maxRestarts: 1, withinMs: 60_000, backoff: { minMs: 1, maxMs: 2, factor: 2, jitter: 0 } },
    });
    await pipeline.start();
    await source.push(-1);
    await until(() => lines.some((l) => l.errorContext === 'restarting'));
    await source.push(-2);
    await pipeline.done.catch(() => {});
    await pipeline.stop();

    const base = { pipeline: 'otp', runId: pipeline.runId, supervisor: 'otp' };
    const crashed = lines.filter((l) => l.errorContext === 'child_terminated');
    expect(crashed).toHaveLength(2);
    expect(crashed[0]).toMatchObject({ ...base, level: 40, offender: 'picky', reason: expect.stringContaining('negative -1') });
    expect(lines.find((l) => l.errorContext === 'restarting')).toMatchObject({ ...base, level: 30, offender: 'picky', reason: 'error', strategy: 'one_for_one' });
    // The second crash is over the intensity (1 restart): the supervisor gives up and says why.
    expect(lines.find((l) => l.errorContext === 'shutdown')).toMatchObject({ ...base, level: 50, offender: 'picky', reason: 'intensity' });
  });

  it('carry pipeline, stage and actorId on the lines of a stage actor', async () => {
    const { logger, lines } = capturedLogger();
    const source = pushSource<number>();
    const loud = defineStage({ name: 'loud', onFailure: 'resume', process: () => {
      throw new Error('always');
    } });
    const pipeline = createPipeline({ name: 'fields', source, stages: [loud], logger });
    await pipeline.start();
    await source.push(1);
    await until(() => lines.some((l) => l.level === 50));
    source.end();
    await pipeline.stop();
    const report = lines.find((l) => l.level === 50);
    expect(report).toMatchObject({ pipeline: 'fields', runId: pipeline.runId, stage: 'loud' });
    expect(report?.actorId).toEqual(expect.stringMatching(/^\S{6,}$/));
  });
});
