import { describe, expect, it } from 'vitest';
import { formatLogLine, prettyDestination } from '../../src/cli/pretty-log.js';

const at = new Date(2026, 0, 2, 3, 4, 5, 67).getTime(); // local time, as the formatter shows it

describe('the terminal log formatter', () => {
  it('writes time, level, [pipeline/stage], the message and the other fields as key=value', () => {
    const line = JSON.stringify({ level: 40, time: at, pipeline: 'orders', runId: 'r1', stage: 'enrich', actorId: 'a1', msg: 'slow call', ms: 12.5, tags: ['x'], note: 'two words' });
    expect(formatLogLine(line)).toBe('03:04:05.067 WARN  [orders/enrich] slow call actorId=a1 ms=12.5 tags=["x"] note="two words"');
  });

  it('shows an error by its message, and its stack under the line at error level', () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)\ncaused by: Error: root\n    at g (b.js:2:2)' };
    expect(formatLogLine(JSON.stringify({ level: 40, time: at, supervisor: 'p', msg: 'child w crashed', err }))).toBe('03:04:05.067 WARN  child w crashed supervisor=p err=boom');
    expect(formatLogLine(JSON.stringify({ level: 50, time: at, pipeline: 'p', msg: 'failed', err })).split('\n')).toEqual([
      '03:04:05.067 ERROR [p] failed err=boom',
      '    at f (a.js:1:1)',
      '    caused by: Error: root',
      '    at g (b.js:2:2)',
    ]);
  });

  it('keeps a message on one line and colours the level only when asked', () => {
    expect(formatLogLine(JSON.stringify({ level: 30, time: at, msg: 'a\nb\u001b[2J' }))).toBe('03:04:05.067 INFO  a\\nb\\u001b[2J');
    expect(formatLogLine(JSON.stringify({ level: 30, time: at, msg: 'm' }), { color: true })).toBe('03:04:05.067 \u001b[32mINFO \u001b[0m m');
  });

  it('passes through a line that is not a JSON object', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });

  it('as a pino destination: one line per record, the status line cleared before each', () => {
    const out: string[] = [];
    let cleared = 0;
    const destination = prettyDestination({ write: (text: string) => out.push(text) }, { before: () => cleared++ });
    destination.write(`${JSON.stringify({ level: 30, time: at, msg: 'one' })}\n${JSON.stringify({ level: 30, time: at, msg: 'two' })}\n`);
    expect(out).toEqual(['03:04:05.067 INFO  one\n', '03:04:05.067 INFO  two\n']);
    expect(cleared).toBe(2);
  });
});
