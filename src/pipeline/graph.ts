import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, name, record } from '../core/validate.js';
import { isSink, type Sink } from '../sinks/sink.js';
import { toFunction, type SinkFunction } from '../sinks/to-function.js';
import { isStage, type AnyStage, type Stage } from '../stage.js';
import { compileVariants, expandVariants, type VariantDef, type VariantSpec } from './variants.js';

/** The name `from` uses for the pipeline's source. */
export const SOURCE = 'source';
/** The node name of the pipeline-level `sink`. */
export const SINK = 'sink';

/** An input of a graph node: another node (or `'source'`), optionally only the events `when` accepts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InputSpec = string | { node: string; when?: (event: any) => boolean };

/** How events are spread over a node's replicas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PartitionSpec = 'roundRobin' | { by: (event: any) => unknown };

/** A graph node running a stage. */
export interface StageNodeSpec {
  stage: AnyStage;
  /** Inputs: one or several (fan-in). Several nodes reading the same input each get every event (fan-out). */
  from: InputSpec | readonly InputSpec[];
  /** Instances of the stage, each with its own state (default 1). */
  replicas?: number;
  /** With replicas: `{ by: event => key }` keeps each key on one replica (order per key kept), or `'roundRobin'` (default). */
  partition?: PartitionSpec;
  /** Experimental stages taking a share of this node's events; an event a variant fails on goes to `stage` instead. */
  variants?: readonly VariantSpec[];
}

/** A graph node writing to a sink; nothing reads from it. */
export interface SinkNodeSpec {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  sink: Sink<any> | SinkFunction<any>;
  from: InputSpec | readonly InputSpec[];
}

/** A pipeline as a DAG: node name → node. Names follow stage-name rules; `source` is reserved. */
export type GraphSpec = Record<string, StageNodeSpec | SinkNodeSpec>;

/** One input edge after validation. */
export interface InputDef {
  from: string;
  when: ((event: unknown) => boolean) | undefined;
}

/** A validated node of the graph. */
export type NodeDef =
  | {
      kind: 'stage';
      name: string;
      stage: Stage;
      replicas: number;
      partition: PartitionDef;
      inputs: InputDef[];
      /** For a variant node: the node its failed events go back to. */
      fallbackTo?: string;
    }
  | { kind: 'sink'; name: string; sink: Sink; replicas: 1; partition: PartitionDef; inputs: InputDef[] };

export type PartitionDef = { kind: 'roundRobin' } | { kind: 'key'; by: (event: unknown) => unknown };

/** Nodes in topological order (every node after all its inputs). */
export type CompiledGraph = NodeDef[];

/** Turns `stages: [a, b, c]` into the equivalent graph: source → a → b → c. */
export function chainToGraph(stages: unknown): GraphSpec {
  if (!Array.isArray(stages) || stages.length === 0) throw new ConfigError('stages', stages, 'must be a non-empty array of stages');
  const graph: GraphSpec = {};
  let previous = SOURCE;
  stages.forEach((stage: unknown, i) => {
    if (!isStage(stage)) throw new ConfigError(`stages[${i}]`, stage, 'must be a stage made by defineStage()');
    if (stage.name in graph || stage.name === SOURCE) {
      throw new ConfigError(`stages[${i}].name`, stage.name, 'must be unique in the chain (use `graph` to run a stage twice)');
    }
    graph[stage.name] = { stage, from: previous };
    previous = stage.name;
  });
  return graph;
}

/**
 * Validates a graph and orders it; the pipeline-level `sink`, when given, becomes a node named
 * `sink` reading every node that no other node reads (the leaves).
 */
export function compileGraph(spec: unknown, pipelineSink: Sink | undefined): CompiledGraph {
  const graph = record('graph', spec);
  const names = Object.keys(graph);
  if (names.length === 0) throw new ConfigError('graph', spec, 'must have at least one node');
  const nodes = new Map<string, NodeDef>();
  const variants = new Map<string, VariantDef[]>();
  for (const key of names) {
    const node = compileNode(key, graph[key]);
    nodes.set(key, node);
    const given = (graph[key] as { variants?: unknown }).variants;
    if (given !== undefined && node.kind === 'stage') variants.set(key, compileVariants(`graph.${key}.variants`, given, node.stage));
  }
  for (const node of nodes.values()) {
    for (const input of node.inputs) {
      const field = `graph.${node.name}.from`;
      if (input.from === SOURCE) continue;
      const from = nodes.get(input.from);
      if (from === undefined) throw new ConfigError(field, input.from, `must name "${SOURCE}" or a node of the graph (${names.join(', ')})`);
      if (from.kind === 'sink') throw new ConfigError(field, input.from, 'names a sink node; nothing can read from a sink');
      if (input.from === node.name) throw new ConfigError(field, input.from, 'names the node itself; the graph must be acyclic');
    }
  }
  expandVariants(nodes, variants);
  if (pipelineSink !== undefined) {
    if (nodes.has(SINK)) throw new ConfigError(`graph.${SINK}`, SINK, 'clashes with the pipeline-level `sink`; rename the node');
    const read = new Set<string>();
    for (const node of nodes.values()) for (const input of node.inputs) read.add(input.from);
    const leaves = [...nodes.values()].filter((n) => n.kind === 'stage' && !read.has(n.name));
    if (leaves.length === 0) {
      throw new ConfigError('sink', pipelineSink.name, 'would receive nothing: every stage node already feeds another node');
    }
    nodes.set(SINK, {
      kind: 'sink',
      name: SINK,
      sink: pipelineSink,
      replicas: 1,
      partition: { kind: 'roundRobin' },
      inputs: leaves.map((leaf) => ({ from: leaf.name, when: undefined })),
    });
  }
  return topologicalOrder(nodes);
}

const NODE_KEYS = ['stage', 'sink', 'from', 'replicas', 'partition', 'variants'] as const;

function compileNode(key: string, value: unknown): NodeDef {
  const nodeName = name('graph node name', key);
  if (nodeName === SOURCE) throw new ConfigError(`graph.${SOURCE}`, value, `uses the reserved name "${SOURCE}"`);
  const field = `graph.${nodeName}`;
  const spec = record(field, value);
  knownKeys(field, spec, NODE_KEYS);
  const inputs = compileInputs(`${field}.from`, spec.from);
  if ((spec.stage === undefined) === (spec.sink === undefined)) {
    throw new ConfigError(field, value, 'must have exactly one of `stage` and `sink`');
  }
  if (spec.sink !== undefined) {
    if (spec.replicas !== undefined || spec.partition !== undefined || spec.variants !== undefined) {
      throw new ConfigError(`${field}.replicas`, spec.replicas ?? spec.partition ?? spec.variants, 'is for stage nodes only (replicas, partition, variants)');
    }
    return { kind: 'sink', name: nodeName, sink: toSink(`${field}.sink`, spec.sink), replicas: 1, partition: { kind: 'roundRobin' }, inputs };
  }
  if (!isStage(spec.stage)) throw new ConfigError(`${field}.stage`, spec.stage, 'must be a stage made by defineStage()');
  const replicas = spec.replicas === undefined ? 1 : integerIn(`${field}.replicas`, spec.replicas, 1, 1024);
  return { kind: 'stage', name: nodeName, stage: spec.stage, replicas, partition: compilePartition(`${field}.partition`, spec.partition), inputs };
}

function compileInputs(field: string, value: unknown): InputDef[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new ConfigError(field, value, 'must name at least one input');
  const seen = new Set<string>();
  return list.map((item: unknown, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    let input: InputDef;
    if (typeof item === 'string') input = { from: item, when: undefined };
    else {
      const spec = record(at, item);
      knownKeys(at, spec, ['node', 'when']);
      if (typeof spec.node !== 'string') throw new ConfigError(`${at}.node`, spec.node, 'must be a node name or "source"');
      input = { from: spec.node, when: spec.when === undefined ? undefined : fn<(event: unknown) => boolean>(`${at}.when`, spec.when) };
    }
    if (seen.has(input.from)) throw new ConfigError(at, input.from, 'is listed twice; combine the conditions into one `when`');
    seen.add(input.from);
    return input;
  });
}

function compilePartition(field: string, value: unknown): PartitionDef {
  if (value === undefined || value === 'roundRobin') return { kind: 'roundRobin' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const spec = value as Record<string, unknown>;
    knownKeys(field, spec, ['by']);
    return { kind: 'key', by: fn<(event: unknown) => unknown>(`${field}.by`, spec.by) };
  }
  throw new ConfigError(field, value, "must be 'roundRobin' or { by: (event) => key }");
}

/** A sink object, or a plain function wrapped as one. */
export function toSink(field: string, value: unknown): Sink {
  if (typeof value === 'function') return toFunction(value as SinkFunction<unknown>);
  if (!isSink(value)) throw new ConfigError(field, value, 'must be a sink (toArray(), toNdjson(), toFunction()) or a function');
  return value;
}

function topologicalOrder(nodes: Map<string, NodeDef>): CompiledGraph {
  const order: NodeDef[] = [];
  const mark = new Map<string, 'visiting' | 'done'>();
  const visit = (node: NodeDef, path: string[]): void => {
    const state = mark.get(node.name);
    if (state === 'done') return;
    if (state === 'visiting') {
      // The walk follows inputs upstream; report the cycle in the direction events flow.
      const cycle = [...path.slice(path.indexOf(node.name)), node.name].reverse();
      throw new ConfigError(`graph.${node.name}.from`, cycle.join(' -> '), 'closes a cycle; the graph must be acyclic');
    }
    mark.set(node.name, 'visiting');
    for (const input of node.inputs) {
      const from = nodes.get(input.from);
      if (from !== undefined) visit(from, [...path, node.name]);
    }
    mark.set(node.name, 'done');
    order.push(node);
  };
  for (const node of nodes.values()) visit(node, []);
  return order;
}
