import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { createSupervisor, supervisorChild } from '../../src/supervision/supervisor.js';
import { FakeChildren } from '../supervision/fake-children.js';

/** How many times `key` is written as a JSON key in `line` (JSON.parse would hide a duplicate). */
function keyCount(line: string, key: string): number {
  return line.split(`"${key}":`).length - 1;
}

/** A pino logger keeping each raw line. */
function rawLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, destination), lines };
}

describe('the supervisor key of a log line', () => {
  it('is written once by a standalone supervisor with its default logger (captured from a child process)', async () => {
    const module = fileURLToPath(new URL('../../src/supervision/supervisor.ts', import.meta.url));
    const script = `
      const { createSupervisor } = await import(${JSON.stringify(module)});
      let crash;
      const sup = createSupervisor({ name: 'solo', backoff: { minMs: 0, maxMs: 0, factor: 1, jitter: 0 },
        children: [{ id: 'w', start: (ctx) => { crash = () => ctx.exited('error', new Error('boom')); return { stop() {}, kill() {} }; } }] });
      await sup.start();
      crash();
      await new Promise((resolve) => setImmediate(resolve));
      await sup.stop();`;
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (error, _stdout, err) => (error ? reject(error) : resolve(err)));
    });
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('child w crashed');
    for (const line of lines) expect(keyCount(line, 'supervisor'), line).toBe(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ supervisor: 'solo' });
  });

  it('is written once with a logger of the application, and a nested supervisor adds its id as `child`', async () => {
    const { logger, lines } = rawLogger();
    const clock = new SimulatedClock();
    const kids = new FakeChildren();
    const root = createSupervisor({
      name: 'root',
      clock,
      logger,
      children: [supervisorChild({ name: 'inner', clock, children: [kids.spec('w')] })],
    });
    await root.start();
    kids.live.get('w')!.crash();
    await clock.advance(10_000);
    await root.stop();
    const crashed = lines.filter((line) => line.includes('"msg":"child w crashed"'));
    expect(crashed).toHaveLength(1);
    for (const line of lines) expect(keyCount(line, 'supervisor'), line).toBe(1);
    expect(JSON.parse(crashed[0] as string)).toMatchObject({ supervisor: 'root', child: 'inner', offender: 'w' });
  });
});
