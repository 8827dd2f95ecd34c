// A structural diff of two JSON values (plain objects, arrays, strings, numbers, booleans, null),
// and its application: what `steadfast checkpoints diff` shows between two stage states. Pure.

/** Where a change is: object keys and array indices from the root (`[]` is the whole value). */
export type JsonPath = ReadonlyArray<string | number>;

/** One difference: a member only in `b`, only in `a`, or in both with another value. */
export type JsonChange =
  | { kind: 'added'; path: JsonPath; value: unknown }
  | { kind: 'removed'; path: JsonPath; value: unknown }
  | { kind: 'changed'; path: JsonPath; from: unknown; to: unknown };

/**
 * The changes that turn `a` into `b`: objects are compared key by key (keys of `a` in their
 * order, then keys only in `b`), arrays index by index (elements past the shorter end are added
 * or removed, removals last index first), anything else as a whole (`Object.is`). Empty when the
 * two are structurally equal; `applyJsonDiff(a, diffJson(a, b))` is structurally equal to `b`.
 */
export function diffJson(a: unknown, b: unknown): JsonChange[] {
  const changes: JsonChange[] = [];
  walk(a, b, [], changes);
  return changes;
}

function walk(a: unknown, b: unknown, path: Array<string | number>, out: JsonChange[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const shared = Math.min(a.length, b.length);
    for (let i = 0; i < shared; i++) walk(a[i], b[i], [...path, i], out);
    for (let i = shared; i < b.length; i++) out.push({ kind: 'added', path: [...path, i], value: b[i] });
    for (let i = a.length - 1; i >= shared; i--) out.push({ kind: 'removed', path: [...path, i], value: a[i] });
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of Object.keys(a)) {
      if (Object.hasOwn(b, key)) walk(a[key], b[key], [...path, key], out);
      else out.push({ kind: 'removed', path: [...path, key], value: a[key] });
    }
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(a, key)) out.push({ kind: 'added', path: [...path, key], value: b[key] });
    }
    return;
  }
  if (!Object.is(a, b)) out.push({ kind: 'changed', path, from: a, to: b });
}

/** `a` with `changes` applied, as a new value (`a` is left as it is); the inverse of {@link diffJson}. */
export function applyJsonDiff(a: unknown, changes: readonly JsonChange[]): unknown {
  let root = copy(a);
  for (const change of changes) {
    if (change.path.length === 0) {
      root = change.kind === 'removed' ? undefined : copy(change.kind === 'added' ? change.value : change.to);
      continue;
    }
    const parent = containerAt(root, change.path.slice(0, -1));
    const last = change.path[change.path.length - 1] as string | number;
    if (change.kind === 'removed') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last];
    } else {
      setMember(parent, last, copy(change.kind === 'added' ? change.value : change.to));
    }
  }
  return root;
}

/** How a path reads in text: `count.items[3]["a b"]`, `(root)` for the whole value. */
export function formatJsonPath(path: JsonPath): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) text += text === '' ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}

function containerAt(root: unknown, path: JsonPath): object {
  let node: unknown = root;
  for (const part of path) node = (node as Record<string | number, unknown>)[part];
  if (typeof node !== 'object' || node === null) throw new TypeError(`no object or array at ${formatJsonPath(path)}`);
  return node;
}

function setMember(target: object, key: string | number, value: unknown): void {
  // defineProperty, not assignment: a "__proto__" key must stay a plain member
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (isRecord(value)) {
    const out = {};
    for (const key of Object.keys(value)) setMember(out, key, copy(value[key]));
    return out;
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
