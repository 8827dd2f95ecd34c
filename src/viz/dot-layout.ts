import { dotString } from './dot-text.js';
import { isWithin, statesBelow, type ChartState, type ChartTransition, type Statechart } from './statechart.js';

const INDENT = '  ';

/** An edge between two DOT nodes, before it is written. */
export interface DotEdge {
  tail: string;
  head: string;
  label: string;
  /** Attributes other than the label, already written (`ltail="..."`, `style=dashed`). */
  attributes: string[];
}

/**
 * Where each state of a chart is drawn in DOT. An atomic, final or history state is a node named
 * by its XState id. A compound or parallel state is a cluster; edges into it end at its border
 * (`lhead`) and start at a dot inside it where it starts. A cluster with transitions that stay
 * inside it (the machine's own `RESET` to `closed`, its own targetless ones) shows its name as a
 * node, its handle, which those transitions start from, since Graphviz cannot start an edge at a
 * cluster's border nor loop one on it.
 */
export class DotLayout {
  private readonly starts = new Map<string, string>();
  private readonly handles = new Map<string, string>();

  constructor(
    private readonly chart: Statechart,
    /** The machine's root is drawn as a cluster; otherwise its states are at the top level. */
    readonly withRoot: boolean,
  ) {
    const taken = new Set(chart.states.keys());
    const fresh = (name: string): string => {
      let unique = name;
      while (taken.has(unique)) unique = `${unique}'`;
      taken.add(unique);
      return unique;
    };
    for (const state of statesBelow(chart.root)) {
      if (state.kind === 'compound') this.starts.set(state.id, fresh(`${state.id}:initial`));
      if (this.isCluster(state) && this.hasInnerTransitions(state)) this.handles.set(state.id, fresh(`${state.id}:self`));
    }
  }

  /** The lines drawing `state` (and everything below it) at `depth`. */
  declaration(state: ChartState, depth: number): string[] {
    const pad = INDENT.repeat(depth);
    if (!this.isCluster(state)) return [`${pad}${dotString(state.id)} [${nodeAttributes(state).join(', ')}];`];
    const handle = this.handles.get(state.id);
    return [
      `${pad}subgraph ${dotString(clusterName(state))} {`,
      ...(handle === undefined ? [`${pad}${INDENT}label=${dotString(state.key)};`] : []),
      `${pad}${INDENT}style=${state.parent?.kind === 'parallel' ? '"rounded,dashed"' : 'rounded'};`,
      ...(handle === undefined ? [] : [`${pad}${INDENT}${dotString(handle)} [label=${dotString(state.key)}, shape=plaintext];`]),
      ...this.body(state, depth + 1),
      `${pad}}`,
    ];
  }

  /** Inside a cluster (or the graph): its start dot and the edge to its initial state, then its children. */
  body(state: ChartState, depth: number): string[] {
    const pad = INDENT.repeat(depth);
    const lines: string[] = [];
    const start = this.starts.get(state.id);
    if (start !== undefined) {
      lines.push(`${pad}${dotString(start)} [shape=point, width=0.15, label=""];`);
      for (const initial of state.initial) lines.push(`${pad}${dotString(start)} -> ${dotString(this.entry(this.state(initial)))};`);
    }
    for (const child of state.children) lines.push(...this.declaration(child, depth));
    return lines;
  }

  /** One edge per target; `lhead` / `ltail` clip it at a cluster's border unless it stays inside that cluster. */
  edges(transition: ChartTransition, label: string): DotEdge[] {
    const source = this.state(transition.source);
    const targets = transition.targets.length > 0 ? transition.targets.map((id) => this.state(id)) : [source];
    return targets.map((target) => {
      const attributes: string[] = [];
      if (this.isCluster(source) && !isWithin(target, source)) attributes.push(`ltail=${dotString(clusterName(source))}`);
      if (this.isCluster(target) && !isWithin(source, target)) attributes.push(`lhead=${dotString(clusterName(target))}`);
      if (transition.targets.length === 0) attributes.push('style=dashed');
      const tail = this.handles.get(source.id) ?? this.entry(source);
      const head = target === source ? tail : this.entry(target);
      return { tail, head, label, attributes };
    });
  }

  private isCluster(state: ChartState): boolean {
    if (state === this.chart.root && !this.withRoot) return false;
    return (state.kind === 'compound' || state.kind === 'parallel') && state.children.length > 0;
  }

  private hasInnerTransitions(state: ChartState): boolean {
    return this.chart.transitions.some(
      (transition) =>
        transition.source === state.id &&
        (transition.targets.length === 0 || transition.targets.some((target) => isWithin(this.state(target), state))),
    );
  }

  /** The node an edge into `state` ends at: itself, or its start dot (a parallel state's first region's). */
  private entry(state: ChartState): string {
    const start = this.starts.get(state.id);
    if (start !== undefined) return start;
    const first = state.children[0];
    return state.kind === 'parallel' && first !== undefined ? this.entry(first) : state.id;
  }

  private state(id: string): ChartState {
    return this.chart.states.get(id) as ChartState;
  }
}

function clusterName(state: ChartState): string {
  return `cluster_${state.id}`;
}

function nodeAttributes(state: ChartState): string[] {
  if (state.kind === 'history') return [`label=${dotString(state.history === 'deep' ? 'H*' : 'H')}`, 'shape=circle'];
  const attributes = [`label=${dotString(state.key)}`];
  if (state.kind === 'final') attributes.push('peripheries=2');
  return attributes;
}
