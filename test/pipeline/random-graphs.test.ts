import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray, type GraphSpec, type StageNodeSpec } from '../../src/index.js';

/** A node of a random DAG: which earlier nodes it reads, how many copies it emits, its mailbox. */
interface NodePlan {
  inputs: number[];
  fanout: number; // 0: filter half the events away, 1: map, 2: emit two copies
  mailbox: number;
  maxBatch: number;
  async: boolean;
  replicas: number;
}

const nodePlan = (index: number): fc.Arbitrary<NodePlan> =>
  fc.record({
    inputs: index === 0 ? fc.constant<number[]>([-1]) : fc.uniqueArray(fc.integer({ min: -1, max: index - 1 }), { minLength: 1, maxLength: 3 }),
    fanout: fc.integer({ min: 0, max: 2 }),
    mailbox: fc.integer({ min: 1, max: 64 }),
    maxBatch: fc.integer({ min: 1, max: 64 }),
    async: fc.boolean(),
    replicas: fc.integer({ min: 1, max: 3 }),
  });

const plans: fc.Arbitrary<NodePlan[]> = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodePlan(i))));

/** What node `i` emits for a value: the same rule the stages below follow. */
function outputs(plan: NodePlan, i: number, value: string): string[] {
  const tagged = `${value}>${i}`;
  if (plan.fanout === 0) return hash(value) % 2 === 0 ? [tagged] : [];
  if (plan.fanout === 1) return [tagged];
  return [tagged, `${tagged}'`];
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}

/** The multiset of values the sink must receive, computed without the runtime. */
function expected(nodes: NodePlan[], input: string[]): string[] {
  const produced: string[][] = [];
  nodes.forEach((plan, i) => {
    const incoming = plan.inputs.flatMap((from) => (from === -1 ? input : (produced[from] as string[])));
    produced.push(incoming.flatMap((value) => outputs(plan, i, value)));
  });
  const read = new Set(nodes.flatMap((n) => n.inputs));
  return nodes.flatMap((_, i) => (read.has(i) ? [] : (produced[i] as string[]))).sort();
}

describe('random graphs', () => {
  it('deliver exactly the expected outputs and finish, whatever the shape, mailboxes and batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(plans, fc.integer({ min: 0, max: 300 }), async (nodes, count) => {
        const input = Array.from({ length: count }, (_, i) => `e${i}`);
        const graph: GraphSpec = {};
        nodes.forEach((plan, i) => {
          const stage = defineStage({
            name: `n${i}`,
            mailbox: plan.mailbox,
            maxBatch: Math.min(plan.maxBatch, plan.mailbox),
            process: plan.async
              ? async (value: string) => {
                  await Promise.resolve();
                  return { state: undefined, emit: outputs(plan, i, value) };
                }
              : (value: string) => ({ state: undefined, emit: outputs(plan, i, value) }),
          });
          const spec: StageNodeSpec = { stage, from: plan.inputs.map((from) => (from === -1 ? 'source' : `n${from}`)), replicas: plan.replicas };
          graph[`n${i}`] = spec;
        });
        const sink = toArray<string>();
        const pipeline = createPipeline({ name: 'random', source: fromIterable(input), graph, sink, logLevel: 'silent' });
        const stats = await pipeline.run();
        expect([...sink.items].sort()).toEqual(expected(nodes, input));
        expect(stats.buffered.now).toBe(0);
        expect(stats.errors).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
