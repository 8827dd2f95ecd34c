import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable } from '../../src/index.js';
import { chooseLevel, createLogger, isLogLevel } from '../../src/logging/logger.js';

describe('log level', () => {
  const saved = process.env.STEADFAST_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.STEADFAST_LOG_LEVEL;
    else process.env.STEADFAST_LOG_LEVEL = saved;
  });

  it('takes the level the code asked for over STEADFAST_LOG_LEVEL and the mode', () => {
    process.env.STEADFAST_LOG_LEVEL = 'debug';
    expect(chooseLevel('silent', 'info')).toBe('silent');
  });

  it('takes STEADFAST_LOG_LEVEL over the mode default, and ignores a value that is not a level', () => {
    process.env.STEADFAST_LOG_LEVEL = 'debug';
    expect(chooseLevel(undefined, 'info')).toBe('debug');
    process.env.STEADFAST_LOG_LEVEL = 'loud';
    expect(chooseLevel(undefined, 'warn')).toBe('warn');
    delete process.env.STEADFAST_LOG_LEVEL;
    expect(chooseLevel(undefined, 'warn')).toBe('warn');
  });

  it('knows the pino levels and silent', () => {
    expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
    expect(isLogLevel(3)).toBe(false);
  });

  it('binds the pipeline fields to every line', () => {
    const logger = createLogger('info', { pipeline: 'p', runId: 'r1' });
    expect(logger.level).toBe('info');
    expect(logger.bindings()).toEqual({ pipeline: 'p', runId: 'r1' });
    expect(logger.child({ stage: 's', actorId: 'a' }).bindings()).toEqual({ pipeline: 'p', runId: 'r1', stage: 's', actorId: 'a' });
  });
});

describe('pipeline logs', () => {
  it('binds pipeline, runId, stage and actorId on stage log lines and reports failures at error level', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const talk = defineStage({
      name: 'talk',
      process: (n: number, _s: undefined, ctx) => {
        if (n === 2) throw new Error('two');
        ctx.log.info({ n }, 'saw');
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'logs', source: fromIterable([1, 2]), stages: [talk], logger });
    await pipeline.run();
    const saw = lines.find((l) => l.msg === 'saw');
    expect(saw).toMatchObject({ pipeline: 'logs', runId: pipeline.runId, stage: 'talk', n: 1, level: 30 });
    expect(typeof saw?.actorId).toBe('string');
    const failure = lines.find((l) => l.level === 50);
    expect(failure).toMatchObject({ pipeline: 'logs', stage: 'talk', actorId: saw?.actorId });
    expect((failure?.err as { code: string }).code).toBe('STAGE_CALL_FAILED');
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['pipeline started', 'pipeline finished']));
  });
});
