/**
 * A strict reader of the Mermaid `stateDiagram-v2` forms toMermaid writes, after Mermaid's own
 * lexer (packages/mermaid/src/diagrams/state/parser/stateDiagram.jison): it throws on any other
 * line, and returns the states, blocks and edges with their text decoded as Mermaid shows it.
 */
export interface MermaidState {
  id: string;
  /** The text Mermaid shows (the `state "..." as id` name, else the id). */
  label: string;
  /** The block it is declared in (undefined: the top level). */
  parent: string | undefined;
  composite: boolean;
  /** For a composite: its parts split by `--` (parallel regions), each a list of state ids. */
  sections: string[][];
}

export interface MermaidEdge {
  from: string;
  to: string;
  label: string;
  /** The block the edge is written in (undefined: the top level). */
  block: string | undefined;
}

export interface MermaidChart {
  direction: string | undefined;
  states: Map<string, MermaidState>;
  edges: MermaidEdge[];
}

/** An id as Mermaid's lexer reads one: no `:`, space, `-` or `{`; not a keyword it matches first. */
const ID = /^[^:\s\-{}"[\]]+$/;
const KEYWORD = /^(?:state|note|class|classdef|style|scale|direction|hide|click|end|root)$|^default/i;
/** Transition text: Mermaid's DESCR token ends at `:` `;` or a line break; `#` starts a comment unless it is an entity. */
const LABEL = /^[^:;\n]+$/;

export function parseMermaid(text: string): MermaidChart {
  if (!text.endsWith('\n')) throw new Error('the diagram does not end with a line break');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== 'stateDiagram-v2') throw new Error(`line 1 is not "stateDiagram-v2": ${lines[0]}`);
  const chart: MermaidChart = { direction: undefined, states: new Map(), edges: [] };
  const blocks: string[] = [];
  const labels = new Map<string, string>();
  const fail = (index: number, why: string): never => {
    throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(lines[index])}`);
  };
  const id = (index: number, name: string): string => {
    if (!ID.test(name) || KEYWORD.test(name)) fail(index, `"${name}" is not an id Mermaid reads as one`);
    return name;
  };
  const declare = (index: number, name: string, composite: boolean): void => {
    const parent = blocks.at(-1);
    const known = chart.states.get(name);
    if (known !== undefined && (known.parent !== parent || known.composite || !composite)) fail(index, `"${name}" is declared twice`);
    const state: MermaidState = { id: name, label: labels.get(name) ?? name, parent, composite, sections: [[]] };
    chart.states.set(name, state);
    if (known === undefined && parent !== undefined) chart.states.get(parent)?.sections.at(-1)?.push(name);
  };
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] as string;
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    if (indent !== 2 * (blocks.length + 1) && line.trim() !== '}') fail(index, `indented ${indent}, expected ${2 * (blocks.length + 1)}`);
    const body = line.trim();
    if (/direction\s+(?:tb|bt|rl|lr)/i.test(body) && !/^direction (?:TB|BT|LR|RL)$/.test(body)) fail(index, 'Mermaid reads any line with "direction LR" as a direction');
    if (body.includes('%%')) fail(index, '"%%" starts a comment');
    let match: RegExpExecArray | null;
    if ((match = /^direction (TB|BT|LR|RL)$/.exec(body)) !== null) {
      if (index !== 1) fail(index, 'direction comes first');
      chart.direction = match[1];
    } else if ((match = /^state "([^"]*)" as (\S+)$/.exec(body)) !== null) {
      const name = id(index, match[2] as string);
      if (match[1] === '') fail(index, 'an empty name');
      labels.set(name, decode(index, match[1] as string, fail));
      declare(index, name, false);
    } else if ((match = /^state (\S+) \{$/.exec(body)) !== null) {
      const name = id(index, match[1] as string);
      declare(index, name, true);
      blocks.push(name);
    } else if (body === '}') {
      if (indent !== 2 * blocks.length) fail(index, 'a "}" out of line with its block');
      if (blocks.pop() === undefined) fail(index, 'a "}" closes no block');
    } else if (body === '--') {
      const block = chart.states.get(blocks.at(-1) ?? '');
      if (block === undefined) fail(index, '"--" outside a block');
      if (block?.sections.at(-1)?.length === 0) fail(index, '"--" with nothing before it');
      block?.sections.push([]);
    } else if ((match = /^(\S+) --> (\S+?)(?:: (.+))?$/.exec(body)) !== null) {
      const [from, to] = [match[1] as string, match[2] as string];
      if (from === '[*]' && to === '[*]') fail(index, '[*] --> [*]');
      const label = match[3] ?? '';
      // Mermaid swaps entity codes for placeholders before it lexes, so only the rest must avoid `:` and `;`.
      if (label !== '' && !LABEL.test(label.replace(/#\w+;/g, 'x'))) fail(index, 'a transition label with ":" or ";"');
      chart.edges.push({
        from: from === '[*]' ? from : id(index, from),
        to: to === '[*]' ? to : id(index, to),
        label: decode(index, label, fail),
        block: blocks.at(-1),
      });
    } else if (ID.test(body)) {
      declare(index, id(index, body), false);
    } else {
      fail(index, 'not a form of stateDiagram-v2');
    }
  }
  if (blocks.length > 0) throw new Error(`block "${blocks.at(-1)}" is never closed`);
  for (const block of chart.states.values()) {
    if (block.composite && block.sections.some((section) => section.length === 0)) throw new Error(`"--" with nothing after it in ${block.id}`);
  }
  for (const edge of chart.edges) {
    for (const end of [edge.from, edge.to]) if (end !== '[*]' && !chart.states.has(end)) throw new Error(`edge to undeclared state "${end}"`);
  }
  return chart;
}

const NAMED: Record<string, string> = { quot: '"', lt: '<', gt: '>', amp: '&' };

/** Mermaid's entity codes (`#quot;`, `#59;`) as the characters it shows; any other `#` would start a comment. */
function decode(index: number, text: string, fail: (index: number, why: string) => never): string {
  if (/[<>"%{}]/.test(text)) fail(index, 'a raw character Mermaid would read as markup or syntax');
  const withoutEntities = text.replace(/#(\w+);/g, '');
  if (withoutEntities.includes('#')) fail(index, 'a "#" that is not an entity code');
  return text.replace(/#(\w+);/g, (entity, code: string) => {
    if (/^\d+$/.test(code)) return String.fromCharCode(Number(code));
    return NAMED[code] ?? fail(index, `unknown entity ${entity}`);
  });
}
