import { spawnSync } from 'node:child_process';

/** Graphviz's `dot` as the judge of DOT text: installed by .ci/run (Debian's graphviz). Without it the DOT checks fail. */
export const graphvizMissing = spawnSync('dot', ['-V']).status !== 0;

/** Runs `dot -T<format>` on `text`; its exit status, output and warnings. */
export function runDot(text: string, format: 'svg' | 'json'): { status: number | null; stdout: string; stderr: string } {
  if (graphvizMissing) throw new Error('Graphviz `dot` is not installed: apt-get install graphviz');
  const result = spawnSync('dot', [`-T${format}`], { input: text, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface DotNode {
  name: string;
  /** The text Graphviz draws, one entry per line. */
  lines: string[];
  /** Its innermost cluster's name, if any. */
  cluster: string | undefined;
}

export interface DotCluster {
  name: string;
  lines: string[];
  /** The innermost cluster around it. */
  parent: string | undefined;
}

export interface DotGraphEdge {
  tail: string;
  head: string;
  lines: string[];
  style: string | undefined;
}

export interface DotGraph {
  name: string;
  nodes: Map<string, DotNode>;
  clusters: Map<string, DotCluster>;
  edges: DotGraphEdge[];
}

interface JsonDraw {
  op: string;
  text?: string;
}
interface JsonObject {
  _gvid: number;
  name: string;
  nodes?: number[];
  subgraphs?: number[];
  _ldraw_?: JsonDraw[];
}
interface JsonEdge {
  tail: number;
  head: number;
  style?: string;
  _ldraw_?: JsonDraw[];
}

/** The graph as Graphviz itself read and laid it out (`dot -Tjson`); throws if dot fails or warns. */
export function dotGraph(text: string): DotGraph {
  const result = runDot(text, 'json');
  if (result.status !== 0 || result.stderr !== '') throw new Error(`dot -Tjson failed (${result.status}): ${result.stderr}`);
  const json = JSON.parse(result.stdout) as { name: string; objects?: JsonObject[]; edges?: JsonEdge[] };
  const objects = json.objects ?? [];
  const drawn = (object: { _ldraw_?: JsonDraw[] }): string[] =>
    (object._ldraw_ ?? []).filter((draw) => draw.op === 'T').map((draw) => draw.text ?? '');
  const clusterObjects = objects.filter((object) => object.nodes !== undefined);
  // The innermost cluster holding a node is the one holding the fewest nodes.
  const innermost = (holds: (cluster: JsonObject) => boolean): string | undefined =>
    clusterObjects
      .filter(holds)
      .sort((a, b) => (a.nodes?.length ?? 0) - (b.nodes?.length ?? 0))[0]?.name;
  const graph: DotGraph = { name: json.name, nodes: new Map(), clusters: new Map(), edges: [] };
  for (const cluster of clusterObjects) {
    const parent = innermost((other) => other !== cluster && (other.subgraphs ?? []).includes(cluster._gvid));
    graph.clusters.set(cluster.name, { name: cluster.name, lines: drawn(cluster), parent });
  }
  for (const object of objects) {
    if (object.nodes !== undefined) continue;
    graph.nodes.set(object.name, { name: object.name, lines: drawn(object), cluster: innermost((cluster) => (cluster.nodes ?? []).includes(object._gvid)) });
  }
  const nameOf = (gvid: number): string => objects.find((object) => object._gvid === gvid && object.nodes === undefined)?.name ?? `#${gvid}`;
  for (const edge of json.edges ?? []) {
    graph.edges.push({ tail: nameOf(edge.tail), head: nameOf(edge.head), lines: drawn(edge), style: edge.style });
  }
  return graph;
}
