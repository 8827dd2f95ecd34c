import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/cli/error-line.js';
import { cli } from './capture-io.js';

describe('the CLI error line', () => {
  it('escapes control characters, DEL, C1 and the Unicode line separators, and nothing else', () => {
    expect(oneLine('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(oneLine('\u001b[2J\u0000\u007f\u0085\u2028\u2029')).toBe('\\u001b[2J\\u0000\\u007f\\u0085\\u2028\\u2029');
    expect(oneLine('C:\\path é 日本 "quoted"')).toBe('C:\\path é 日本 "quoted"');
  });

  it.each([
    [['run', 'no\nsuch.mjs'], /^steadfast: module not found: .*no\\nsuch\.mjs\n$/],
    [['checkpoints', 'show', '/nowhere\n\u001b[31mred'], /^steadfast: no checkpoint store at \/nowhere\\n\\u001b\[31mred\n$/],
    [['unknown\ncommand'], /^steadfast: unknown command "unknown\\ncommand"; see `steadfast --help`\n$/],
    [['checkpoints', 'list', '/x', '--colour\nred'], /^steadfast: unknown option "--colour\\nred"; see `steadfast checkpoints --help`\n$/],
    [['viz', 'no\rsuch'], /^steadfast: unknown machine "no\\rsuch" .*; see `steadfast viz --help`\n$/],
  ])('prints %j as one line', async (argv, expected) => {
    const result = await cli(...argv);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });
});
