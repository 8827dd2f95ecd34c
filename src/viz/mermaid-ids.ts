import type { ChartState } from './statechart.js';

/**
 * Words Mermaid's state diagram lexer reads as keywords where an id would be (`state`, `note`,
 * ..., anything starting with `default`), ids it uses itself (`root`, `<parent>_start`,
 * `<parent>_end`), and names that are unsafe as object keys.
 */
const KEYWORDS = /^(?:state|note|class|classdef|style|scale|direction|hide|click|end|root|statediagram|constructor|prototype|__proto__|hasownproperty|tostring|valueof)$|^(?:default|acctitle|accdescr)/i;
const START_OR_END = /_(?:start|end)$/i;

/**
 * Mermaid ids for `states`, in their order: the key when it is a plain identifier (letters,
 * digits, `_`) and unused; else the key with other characters as `_`; when that is taken, the
 * keys of its parents before it (`writing_accepting`), then a number. Ids stay stable as long as
 * the machine does.
 */
export function mermaidIds(states: Iterable<ChartState>): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const state of states) {
    const id = candidates(state).find((candidate) => !used.has(candidate.toLowerCase())) ?? numbered(state, used);
    used.add(id.toLowerCase());
    ids.set(state.id, id);
  }
  return ids;
}

/** `accepting`, `writing_accepting`, `checkpoint_writing_accepting`, ... */
function candidates(state: ChartState): string[] {
  const result: string[] = [];
  let path = '';
  for (let at: ChartState | undefined = state; at !== undefined; at = at.parent) {
    path = path === '' ? at.key : `${at.key}_${path}`;
    result.push(safe(path));
  }
  return result;
}

function numbered(state: ChartState, used: ReadonlySet<string>): string {
  const base = candidates(state).at(-1) as string;
  let n = 2;
  while (used.has(safe(`${base}_${n}`).toLowerCase())) n += 1;
  return safe(`${base}_${n}`);
}

function safe(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]/g, '_') || '_';
  if (START_OR_END.test(id)) id = `${id}_`;
  return KEYWORDS.test(id) ? `s_${id}` : id;
}
