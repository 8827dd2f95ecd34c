import { ConfigError } from '../core/errors.js';
import { fnv1a32 } from '../core/fnv1a.js';
import { fn, knownKeys, record } from '../core/validate.js';
import { isStage, type AnyStage } from '../stage.js';
import type { InputDef, NodeDef } from './graph.js';

/** An experimental stage taking a share of a node's events; its failures fall back to the node's own stage. */
export interface VariantSpec {
  stage: AnyStage;
  /** Share of the events, in (0, 1]; the shares of a node's variants add up to at most 1. */
  share: number;
  /** Sticky assignment: events with the same key always go to the same side (by FNV-1a of the key). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  by?: (event: any) => unknown;
}

/** A checked variant. */
export interface VariantDef {
  stage: AnyStage;
  share: number;
  by: ((event: unknown) => unknown) | undefined;
}

/** Checks a node's `variants`; a mistake is a CONFIG_INVALID naming the field and the value. */
export function compileVariants(field: string, value: unknown, main: AnyStage): VariantDef[] {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(field, value, 'must be a non-empty array of { stage, share }');
  let total = 0;
  const names = new Set<string>([main.name]);
  return value.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    const spec = record(at, item);
    knownKeys(at, spec, ['stage', 'share', 'by']);
    if (!isStage(spec.stage)) throw new ConfigError(`${at}.stage`, spec.stage, 'must be a stage made by defineStage()');
    if (names.has(spec.stage.name)) throw new ConfigError(`${at}.stage`, spec.stage.name, "must have a name of its own (not the main stage's, nor another variant's)");
    names.add(spec.stage.name);
    const share = spec.share;
    if (typeof share !== 'number' || !(share > 0) || share > 1) throw new ConfigError(`${at}.share`, share, 'must be a number in (0, 1]');
    total += share;
    if (total > 1 + 1e-9) throw new ConfigError(`${at}.share`, share, `makes the shares add up to ${total}, more than 1`);
    return { stage: spec.stage, share, by: spec.by === undefined ? undefined : fn<(event: unknown) => unknown>(`${at}.by`, spec.by) };
  });
}

/** The node name of a variant: `<node>:<variant stage>`. */
export function variantNodeName(node: string, variant: VariantDef): string {
  return `${node}:${variant.stage.name}`;
}

/**
 * Decides which side each event goes to: -1 for the main stage, i for variant i. Every producer
 * routing to a node with variants evaluates one predicate per side for each event, in a row, so
 * the decision is made on the first of those calls and reused by the others.
 */
export class VariantChooser {
  private calls = 0;
  private decision = -1;
  private count = 0;
  private readonly sides: number;

  constructor(private readonly variants: readonly VariantDef[]) {
    this.sides = variants.length + 1;
  }

  /** The side of the event now being routed. */
  side(event: unknown): number {
    if (this.calls++ % this.sides === 0) this.decision = this.decide(event);
    return this.decision;
  }

  private decide(event: unknown): number {
    let cumulative = 0;
    for (let i = 0; i < this.variants.length; i++) {
      const variant = this.variants[i] as VariantDef;
      // Sticky by key, or a low-discrepancy spread (golden-ratio steps) that follows the shares closely.
      const u = variant.by === undefined ? (this.count * 0.6180339887498949) % 1 : (fnv1a32(String(variant.by(event))) % 10_000) / 10_000;
      cumulative += variant.share;
      if (u < cumulative) {
        this.count++;
        return i;
      }
    }
    this.count++;
    return -1;
  }
}

/**
 * Expands the nodes that have variants: each variant becomes a node `<node>:<stage>` reading the
 * same inputs as the node, and every input edge gets its share (the main node the rest); every node
 * reading the main node also reads its variants, so that their outputs go the same way; a
 * variant's failed events are sent back to the main node (`fallbackTo`).
 */
export function expandVariants(nodes: Map<string, NodeDef>, variantsOf: Map<string, VariantDef[]>): void {
  for (const [name, variants] of variantsOf) {
    const main = nodes.get(name);
    if (main === undefined || main.kind !== 'stage') continue;
    const chooser = new VariantChooser(variants);
    const mainInputs = main.inputs;
    main.inputs = mainInputs.map((input) => onSide(input, chooser, -1));
    variants.forEach((variant, i) => {
      const nodeName = variantNodeName(name, variant);
      if (nodes.has(nodeName)) throw new ConfigError(`graph.${name}.variants[${i}].stage`, variant.stage.name, `makes a node named "${nodeName}", which the graph already has`);
      nodes.set(nodeName, {
        kind: 'stage',
        name: nodeName,
        stage: variant.stage,
        replicas: 1,
        partition: { kind: 'roundRobin' },
        inputs: mainInputs.map((input) => onSide(input, chooser, i)),
        fallbackTo: name,
      });
    });
    for (const reader of nodes.values()) {
      const fromMain = reader.inputs.find((input) => input.from === name);
      if (fromMain === undefined) continue;
      for (const variant of variants) reader.inputs.push({ from: variantNodeName(name, variant), when: fromMain.when });
    }
  }
}

/** The input restricted to the events of one side (the chooser is asked first, so that it sees every event). */
function onSide(input: InputDef, chooser: VariantChooser, side: number): InputDef {
  const when = input.when;
  return { from: input.from, when: when === undefined ? (e) => chooser.side(e) === side : (e) => chooser.side(e) === side && when(e) };
}
