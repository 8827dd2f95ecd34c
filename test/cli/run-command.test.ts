import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { RunHost, StopSignal } from '../../src/cli/run-host.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { httpGet } from '../observability/http.js';
import { captureIo, cli } from './capture-io.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A process for `run` to live in: signals sent by the test, exits recorded instead of made. */
function fakeHost(env: Record<string, string> = {}) {
  const handlers = new Set<(signal: StopSignal) => void>();
  const exits: number[] = [];
  const released: number[] = [];
  const host: RunHost = {
    env,
    cwd: () => process.cwd(),
    onSignal: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exit: (code) => exits.push(code),
    release: (code) => released.push(code),
  };
  return { host, handlers, exits, released, signal: (signal: StopSignal) => [...handlers].forEach((h) => h(signal)) };
}

async function runIn(argv: string[], env: Record<string, string> = {}) {
  const io = captureIo();
  const fake = fakeHost(env);
  const code = await run(argv, io, fake.host);
  return { code, stdout: io.out.join(''), stderr: io.err.join(''), ...fake };
}

/** Starts `run` and waits until it printed `marker` on stdout; the test then signals it. */
async function started(argv: string[], marker: RegExp, io = captureIo(), env: Record<string, string> = {}) {
  const fake = fakeHost(env);
  const exit = run(argv, io, fake.host);
  await vi.waitFor(() => expect(io.out.join('')).toMatch(marker), { timeout: 10_000, interval: 10 });
  return { ...fake, io, exit };
}

afterEach(() => {
  delete process.env.FIXTURE_EVENTS;
});

describe('steadfast run: usage', () => {
  it.each([
    [[], 'run needs a module: steadfast run <module>'],
    [['a.mjs', 'b.mjs'], 'unexpected argument "b.mjs"'],
    [['a.mjs', '--colour'], 'unknown option "--colour"'],
    [['a.mjs', '--http'], 'option "--http" needs a value'],
    [['a.mjs', '--http', 'nope:xx'], 'option "--http" needs a port in [0, 65535] (0 picks a free one), got "nope:xx"'],
    [['a.mjs', '--interval', '5'], 'option "--interval" must be 0 or at least 100 (ms), got "5"'],
    [['a.mjs', '--interval', 'soon'], 'option "--interval" must be an integer >= 0, got "soon"'],
  ])('exits 2 with one line for %j', async (argv, problem) => {
    const result = await runIn(argv);
    expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `steadfast: ${problem}; see \`steadfast run --help\`\n`]);
  });

  it('exits 2 with one line naming the variable for a bad STEADFAST_* value, before loading anything', async () => {
    const metrics = await runIn(['missing.mjs'], { STEADFAST_METRICS: 'maybe' });
    expect([metrics.code, metrics.stderr]).toEqual([2, 'steadfast: STEADFAST_METRICS must be on or off, got "maybe"\n']);
    const breaker = await runIn(['missing.mjs'], { STEADFAST_BREAKER_TIMEOUT_MS: '0' });
    expect([breaker.code, breaker.stderr]).toEqual([2, 'steadfast: STEADFAST_BREAKER_TIMEOUT_MS must be an integer in [1, 2147483647] (milliseconds a breaker stays open), got "0"\n']);
    const http = await runIn(['missing.mjs'], { STEADFAST_HTTP: 'somewhere' });
    expect([http.code, http.stderr]).toEqual([2, 'steadfast: STEADFAST_HTTP needs a port in [0, 65535] (0 picks a free one), got "somewhere"; see `steadfast run --help`\n']);
  });

  it('has its own help, and is listed in the CLI’s', async () => {
    const help = await runIn(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: steadfast run <module> \[--http host:port\]/);
    expect(help.stdout).toContain('STEADFAST_BREAKER_THRESHOLD');
    expect((await cli('--help')).stdout).toContain('run <module>');
  });
});

describe('steadfast run: modules', () => {
  it('exits 1 with one line for a module that does not exist or is not a file, with the resolved path', async () => {
    const missing = await runIn(['no/such/module.mjs']);
    expect([missing.code, missing.stderr]).toEqual([1, `steadfast: module not found: ${join(process.cwd(), 'no/such/module.mjs')}\n`]);
    const dir = await runIn([relative(process.cwd(), fixture(''))]);
    expect([dir.code, dir.stderr]).toEqual([1, `steadfast: module is not a file: ${fixture('').replace(/\/$/, '')}\n`]);
  });

  it('exits 1 with the first line of the error of a module that throws, and the stack with --verbose', async () => {
    const quiet = await runIn([fixture('throws-on-import.mjs')]);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe(`steadfast: cannot load module "${fixture('throws-on-import.mjs')}": cannot reach the config server\n`);
    const verbose = await runIn([fixture('throws-on-import.mjs'), '--verbose']);
    expect(verbose.stderr.split('\n').length).toBeGreaterThan(3);
    expect(verbose.stderr).toContain('at a second line that must not be printed');
  });

  it('exits 1 for a module with no pipeline, naming what it exports', async () => {
    const result = await runIn([fixture('not-a-pipeline.mjs')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `steadfast: the default export of "${fixture('not-a-pipeline.mjs')}" is not a pipeline (made by createPipeline()), nor a function or promise giving one; got an object\n`,
    );
    const none = await runIn([fixture('ticket.machine.ts')]);
    expect(none.stderr).toMatch(/^steadfast: module ".*ticket\.machine\.ts" exports no pipeline: give it a default export or an export named "pipeline" \(exports: [^)]+\)\n$/);
  });

  it('exits 1 with one line when the pipeline factory throws', async () => {
    const result = await runIn([fixture('broken-factory.ts')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^steadfast: the default export of ".*broken-factory\.ts" failed to make the pipeline: pipeline\.name must be .*\n$/);
  });

  it('runs a pipeline given as a promise or by a factory to its end, and exits 0 with a final status line', async () => {
    const promised = await runIn([fixture('promised-pipeline.ts'), '--interval', '0']);
    expect([promised.code, promised.stderr]).toEqual([0, '']);
    expect(promised.stdout).toMatch(/^\S+ promised stopped \| 3 events \| read [0-9.,]+\/s · done [0-9.,]+\/s \| keep stopped, sink stopped \| restarts 0\n$/);
    expect(promised.released).toEqual([0]);
    process.env.FIXTURE_EVENTS = '20';
    const made = await runIn([fixture('ticker-pipeline.ts'), '--interval', '0']);
    expect(made.code).toBe(0);
    expect(made.stdout).toContain('typed stopped | 20 events');
    expect(made.handlers.size).toBe(0); // signal handlers restored
  });

  it('resolves a relative module path from the working directory', async () => {
    process.env.FIXTURE_EVENTS = '3';
    const path = relative(process.cwd(), fixture('ticker-pipeline.ts'));
    expect(path.startsWith('/')).toBe(false);
    expect((await runIn([path, '--interval', '0'])).code).toBe(0);
  });

  it('exits 1 for a pipeline that has already stopped (a module exports one instance: it runs once per process)', async () => {
    await runIn([fixture('promised-pipeline.ts'), '--interval', '0']);
    const again = await runIn([fixture('promised-pipeline.ts')]);
    expect([again.code, again.stderr]).toEqual([1, 'steadfast: pipeline "promised" has already stopped; a pipeline runs once: export it unstarted, or a function making one\n']);
  });
});

describe('steadfast run: signals, status and --http', () => {
  it('stops gracefully on the first signal and exits 0, writing plain status lines meanwhile, leaving nothing open', async () => {
    const before = activeResources();
    const run = await started([fixture('ticker-pipeline.ts'), '--interval', '100'], /typed running \| [1-9]\d* events/);
    run.signal('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.exits).toEqual([]);
    expect(run.io.err.join('')).toBe('steadfast: SIGTERM: stopping "typed" (draining, final checkpoint); send it again to exit at once\n');
    const lines = run.io.out.join('').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z typed (running|stopped) \| \d+ events \| read [\d.,]+\/s · done [\d.,]+\/s \| double \w+, sink \w+ \| restarts 0$/);
    expect(lines.at(-1)).toContain('typed stopped');
    expect([run.handlers.size, run.released]).toEqual([0, [0]]);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the source's last sleep
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('exits at once with code 130 on a second signal', async () => {
    const run = await started([fixture('ticker-pipeline.ts'), '--interval', '100'], /typed running/);
    run.signal('SIGINT');
    run.signal('SIGINT');
    expect(run.exits).toEqual([130]);
    expect(run.io.err.join('')).toContain('steadfast: SIGINT again: exiting at once, without finishing the stop (exit 130)\n');
    await run.exit; // the fake host does not end the process: the stop finishes
  });

  it('redraws one live status line on a terminal', async () => {
    const io = captureIo();
    Object.assign(io.stdout, { isTTY: true, columns: 200 });
    const run = await started([fixture('ticker-pipeline.ts')], /typed running/, io);
    run.signal('SIGTERM');
    expect(await run.exit).toBe(0);
    const out = io.out.join('');
    expect(out.startsWith('\r\x1b[2Ktyped running')).toBe(true);
    expect(out.split('\n')).toHaveLength(2); // one line drawn over and over, ended by the final status
    const final = out.slice(out.lastIndexOf('\r'));
    expect(final).toMatch(/^\r.\[2Ktyped stopped \| \d+ events .*\n$/);
  });

  it('serves /health while running with --http, without /metrics when STEADFAST_METRICS=off, and closes it at the end', async () => {
    const run = await started([fixture('ticker-pipeline.ts'), '--http', '127.0.0.1:0'], /serving http:\/\/127\.0\.0\.1:\d+ /, captureIo(), { STEADFAST_METRICS: 'off' });
    const url = /serving (http:\/\/127\.0\.0\.1:\d+) \(dashboard \/, \/health, \/tree, \/inspect\)\n/.exec(run.io.out.join(''))?.[1] as string;
    await vi.waitFor(async () => expect(JSON.parse((await httpGet(url, '/health')).body).state).toBe('running'), { timeout: 5_000 });
    expect((await httpGet(url, '/metrics')).status).toBe(404);
    expect((await httpGet(url, '/inspect?actor=double')).status).toBe(200);
    run.signal('SIGTERM');
    expect(await run.exit).toBe(0);
    await expect(httpGet(url, '/health')).rejects.toThrow();
  });

  it('exits 1 with one line when --http cannot listen, without starting the pipeline', async () => {
    const first = await started([fixture('ticker-pipeline.ts'), '--http', '127.0.0.1:0', '--interval', '0'], /serving http:/);
    const port = /:(\d+) /.exec(first.io.out.join(''))?.[1] as string;
    const second = await runIn([fixture('ticker-pipeline.ts'), '--http', `127.0.0.1:${port}`]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^steadfast: --http: serve could not listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\n$`));
    expect(second.stdout).toBe('');
    first.signal('SIGTERM');
    expect(await first.exit).toBe(0);
  });
});
