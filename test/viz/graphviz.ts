import { instance } from '@viz-js/viz';

/** Graphviz's version, as `dot -V` would print it: Graphviz compiled to WebAssembly (`@viz-js/viz`), no system `dot` needed. */
export const graphvizVersion: string = (await instance()).graphvizVersion;

// The WebAssembly build has no font files, so it estimates text widths and says so for non-ASCII
// characters; Debian's dot measures them with its fonts. A note about the renderer, not about our DOT.
const FONTLESS = /^no value for width of non-ASCII character \d+\. Falling back to width of space character$/;

/**
 * Renders `text` as `dot -T<format>` would: status 0 with the output, or 1 with Graphviz's error
 * messages (like dot's stderr) when the DOT is invalid; warnings are in `stderr` even on success.
 * A fresh Graphviz per call, as `dot` is a fresh process: Graphviz warns about some things once per process.
 */
export async function runDot(text: string, format: 'svg' | 'json'): Promise<{ status: number; stdout: string; stderr: string }> {
  const result = (await instance()).render(text, { format });
  const stderr = result.errors
    .filter((error) => !FONTLESS.test(error.message.trim().replace(/^Warning: /, '')))
    .map((error) => `${error.level ?? 'error'}: ${error.message.trim()}\n`)
    .join('');
  return result.status === 'success' ? { status: 0, stdout: result.output, stderr } : { status: 1, stdout: '', stderr };
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

// Graphviz 16's -Tjson writes a drawn text's backslashes doubled (2.43 wrote them once); its SVG draws
// them once, as 2.43 does. The text drawn is what the checks compare, so undo the doubling.
function unescapeDrawn(text: string): string {
  return text.replaceAll('\\\\', '\\');
}

/** The graph as Graphviz itself read and laid it out (`dot -Tjson`); throws if Graphviz fails or warns. */
export async function dotGraph(text: string): Promise<DotGraph> {
  const result = await runDot(text, 'json');
  if (result.status !== 0 || result.stderr !== '') throw new Error(`dot -Tjson failed (${result.status}): ${result.stderr}`);
  const json = JSON.parse(result.stdout) as { name: string; objects?: JsonObject[]; edges?: JsonEdge[] };
  const objects = json.objects ?? [];
  const drawn = (object: { _ldraw_?: JsonDraw[] }): string[] =>
    (object._ldraw_ ?? []).filter((draw) => draw.op === 'T').map((draw) => unescapeDrawn(draw.text ?? ''));
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
