import { describe, expect, it } from 'vitest';
import { parseExposition, valueOf } from './exposition.js';

// The parser is what the metrics tests rely on; these show that it rejects what Prometheus rejects.
describe('the strict exposition parser of the tests', () => {
  const head = '# HELP m_total A counter.\n# TYPE m_total counter\n';

  it('reads escaped label values back to the original string', () => {
    const families = parseExposition(`${head}m_total{a="q\\"x\\ny\\\\z",b=""} 3\n`);
    expect(valueOf(families, 'm_total', { a: 'q"x\ny\\z', b: '' })).toBe(3);
  });

  it.each([
    ['an unescaped quote', `${head}m_total{a="x"y"} 1`],
    ['an unknown escape', `${head}m_total{a="x\\t"} 1`],
    ['an unterminated value', `${head}m_total{a="x} 1`],
    ['a bad label name', `${head}m_total{1a="x"} 1`],
    ['a repeated series', `${head}m_total{a="x"} 1\nm_total{a="x"} 2`],
    ['a sample without TYPE', 'other 1'],
    ['a bad value', `${head}m_total 1,5`],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1'],
    ['a histogram whose buckets shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1'],
  ])('rejects %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
