import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, toArray, type SteadfastError } from '../../src/index.js';
import { messageWithCauses } from '../../src/core/errors.js';
import { serializeError } from '../../src/logging/logger.js';

/** The messages of an error and of each cause under it. */
function chain(error: unknown): string[] {
  const out: string[] = [];
  for (let at = error; at instanceof Error; at = at.cause) out.push(at.message);
  return out;
}

function failingAt3() {
  return (n: number) => {
    if (n === 3) throw new Error('always');
    return { emit: [n] };
  };
}

describe('error messages state each cause once', () => {
  it('with retry and deadLetter: onError gets the failure once, the chain stays in cause', async () => {
    const errors: SteadfastError[] = [];
    const bad = defineStage({ name: 'bad', retry: { maxAttempts: 2, backoff: 'constant', baseMs: 0 }, degraded: 'deadLetter', process: failingAt3() });
    const pipeline = createPipeline({ name: 'p', source: fromIterable([0, 1, 2, 3, 4]), stages: [bad], sink: toArray(), onError: (error) => errors.push(error), logLevel: 'silent' });
    await pipeline.start();
    await pipeline.done;
    expect(errors.map((error) => `${error.code}: ${error.message}`)).toEqual(['DEAD_LETTER: stage "bad" failed at offset 3: gave up after 2 attempts: always (the event was sent to the dead letters)']);
    expect(chain(errors[0])).toEqual([
      'stage "bad" failed at offset 3: gave up after 2 attempts: always (the event was sent to the dead letters)',
      'stage "bad" failed at offset 3: gave up after 2 attempts: always',
      'gave up after 2 attempts: always',
      'always',
    ]);
    expect(isSteadfastError(errors[0]?.cause, 'STAGE_CALL_FAILED')).toBe(true);
    expect(messageWithCauses(errors[0])).toBe(errors[0]?.message);
  });

  it('with retry and onError: the stage failure says the retries and the reason once', async () => {
    const errors: SteadfastError[] = [];
    const bad = defineStage({ name: 'bad', retry: { maxAttempts: 3, backoff: 'constant', baseMs: 0 }, process: failingAt3() });
    const pipeline = createPipeline({ name: 'p', source: fromIterable([0, 1, 2, 3, 4]), stages: [bad], sink: toArray(), onError: (error) => errors.push(error), logLevel: 'silent' });
    await pipeline.start();
    await pipeline.done;
    expect(errors.map((error) => error.message)).toEqual(['stage "bad" failed at offset 3: gave up after 3 attempts: always']);
  });

  it('appends a cause the message does not already hold, once, and survives a cycle', () => {
    const root = new Error('disk full');
    expect(messageWithCauses(new Error('write failed', { cause: root }))).toBe('write failed: disk full');
    expect(messageWithCauses(new Error('write failed: disk full', { cause: root }))).toBe('write failed: disk full');
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(messageWithCauses(a)).toBe('a: b');
    expect((serializeError(new Error('x: y', { cause: new Error('y') })) as { message: string; stack: string }).message).toBe('x: y');
    // Not an Error (a worker's wire form, say): left as pino's serializer leaves it.
    expect(serializeError({ message: 'plain', code: 7 })).toMatchObject({ message: 'plain', code: 7 });
  });

  it('logs a crash with the failure once (pino alone would write "…: always: gave up after 2 attempts: always: always")', async () => {
    const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const script = `
      const { createPipeline, defineStage, fromIterable, toArray } = await import(${JSON.stringify(index)});
      const bad = defineStage({ name: 'bad', onFailure: 'restart', retry: { maxAttempts: 2, backoff: 'constant', baseMs: 0 },
        process: (n) => { if (n === 3) throw new Error('always'); return { emit: [n] }; } });
      const pipeline = createPipeline({ name: 'p', source: fromIterable([0, 1, 2, 3, 4]), stages: [bad], sink: toArray(), logLevel: 'warn' });
      await pipeline.start();
      await pipeline.done;`;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (error, _stdout, err) => (error ? reject(error) : resolve(err)));
    });
    const lines = stderr.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { msg: string; err?: { message: string; stack: string } });
    const crashed = lines.find((line) => line.msg === 'child bad crashed');
    expect(crashed?.err?.message).toBe('stage "bad" failed at offset 3: gave up after 2 attempts: always');
    expect(crashed?.err?.stack).toMatch(/caused by: RetryExhaustedError: gave up after 2 attempts: always[\s\S]*caused by: Error: always/);
  });
});
