/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on anything
 * a Prometheus server would reject (bad names, bad escapes, samples before their TYPE, a series
 * twice, histogram buckets out of order or disagreeing with `_count`).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail('bad metric name');
      const family = families.get(name) ?? { name, type: 'untyped', help: undefined, samples: [] };
      if (kind === 'HELP') {
        if (family.help !== undefined) fail('second HELP');
        family.help = unescape(rest, false, fail);
      } else {
        if (!TYPES.has(rest)) fail('unknown type');
        if (families.has(name) && families.get(name)?.type !== 'untyped') fail('second TYPE');
        if (family.samples.length > 0) fail('TYPE after samples');
        family.type = rest;
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, fail);
    const family = families.get(familyName(sample.name, families)) ?? fail('sample without a TYPE');
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) fail('series repeated');
    seen.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyName(sample: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (families.get(base)?.type === 'histogram') return base;
    }
  }
  return sample;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) fail('no metric name');
  const name = line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) fail('bad metric name');
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) fail('label without "="');
      const label = line.slice(i, eq);
      if (!LABEL_NAME.test(label)) fail(`bad label name ${label}`);
      if (label in labels) fail(`label ${label} twice`);
      if (line[eq + 1] !== '"') fail('label value not quoted');
      let j = eq + 2;
      let raw = '';
      for (;;) {
        const c = line[j];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          raw += c + (line[j + 1] ?? '');
          j += 2;
        } else {
          raw += c;
          j++;
        }
      }
      labels[label] = unescape(raw, true, fail);
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail('expected "," or "}" after a label');
    }
    i++;
  }
  if (line[i] !== ' ') fail('no space before the value');
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2) fail('too many fields');
  const value = parseValue(parts[0] as string, fail);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail('bad timestamp');
  return { name, labels, value };
}

function parseValue(text: string, fail: (why: string) => never): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`bad value ${text}`);
  return Number(text);
}

/** Label values escape `\\`, `\"` and `\n`; HELP text escapes `\\` and `\n`. Anything else is an error. */
function unescape(raw: string, quoteAllowed: boolean, fail: (why: string) => never): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quoteAllowed) out += '"';
    else fail(`bad escape \\${next ?? ''}`);
  }
  return out;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name === `${family.name}_count`) entry.count = s.value;
    else if (s.name === `${family.name}_sum`) entry.sum = s.value;
    else throw new Error(`${family.name}: unexpected sample ${s.name}`);
  }
  for (const [key, entry] of series) {
    const last = entry.buckets.at(-1);
    if (last === undefined || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < entry.buckets.length; i++) {
      const [le0, n0] = entry.buckets[i - 1] as [number, number];
      const [le1, n1] = entry.buckets[i] as [number, number];
      if (!(le1 > le0) || n1 < n0) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (entry.count !== last[1] || entry.sum === undefined) throw new Error(`${family.name}${key}: _count or _sum missing or wrong`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (throws if none or several). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${matches.length} samples`);
  return (matches[0] as Sample).value;
}

/** Every sample of `name` (any labels). */
export function samplesOf(families: Map<string, Family>, name: string): Sample[] {
  return [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === name);
}
