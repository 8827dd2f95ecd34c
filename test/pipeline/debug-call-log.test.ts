import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray, type PipelineMode } from '../../src/index.js';

type Line = { level: number; msg: string; stage?: string; events?: number; ok?: boolean; failed?: number; ms?: number };

function capturedLogger(level: pino.LevelWithSilent): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { logger: pino({ level }, destination), lines };
}

const double = defineStage({
  name: 'double',
  process: (n: number) => {
    if (n === 2) throw new Error('two');
    return { emit: [n * 2] };
  },
});

async function run(mode: PipelineMode, level: pino.LevelWithSilent): Promise<Line[]> {
  const { logger, lines } = capturedLogger(level);
  const pipeline = createPipeline({ name: 'dbg', mode, source: fromIterable([1, 2, 3]), stages: [double], sink: toArray(), logger, onError: () => {} });
  await pipeline.start();
  await pipeline.done;
  return lines.filter((line) => line.level === 20 && line.stage === 'double');
}

describe('debug mode logs each call', () => {
  it('writes one debug line per call in mode debug (one event per call), failures included', async () => {
    const calls = await run('debug', 'debug');
    expect(calls.map(({ msg, events, ok, failed }) => ({ msg, events, ok, failed }))).toEqual([
      { msg: 'stage double called with 1 event', events: 1, ok: true, failed: 0 },
      { msg: 'stage double called with 1 event (1 failed)', events: 1, ok: true, failed: 1 },
      { msg: 'stage double called with 1 event', events: 1, ok: true, failed: 0 },
    ]);
    for (const call of calls) expect(call.ms).toBeGreaterThanOrEqual(0);
  });

  it('writes them in any mode whose logger is at debug, and none when it is at info', async () => {
    const standard = await run('standard', 'debug');
    expect(standard.reduce((sum, line) => sum + (line.events ?? 0), 0)).toBe(3);
    expect(await run('debug', 'info')).toEqual([]);
    expect(await run('standard', 'info')).toEqual([]);
  });

  it('is on with the default logger of mode debug (a real process, its stderr)', async () => {
    const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const script = `
      const { createPipeline, defineStage, fromIterable, toArray } = await import(${JSON.stringify(index)});
      const id = defineStage({ name: 'id', process: (n) => ({ emit: [n] }) });
      const pipeline = createPipeline({ name: 'dbg', mode: 'debug', source: fromIterable([1, 2]), stages: [id], sink: toArray() });
      await pipeline.start();
      await pipeline.done;`;
    const env = { ...process.env };
    delete env.STEADFAST_LOG_LEVEL;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000, env }, (error, _stdout, err) => (error ? reject(error) : resolve(err)));
    });
    const lines = stderr.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line);
    expect(lines.filter((line) => line.level === 20 && line.stage === 'id').map((line) => line.msg)).toEqual(['stage id called with 1 event', 'stage id called with 1 event']);
  });
});
