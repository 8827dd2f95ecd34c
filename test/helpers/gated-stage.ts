import { defineStage, type Stage } from '../../src/index.js';

/** A stage that holds every event until `open()` is called: a stage that is busy for as long as a test wants. */
export function gatedStage(name: string, mailbox: number): { stage: Stage<number, number, undefined>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const stage = defineStage({
    name,
    mailbox,
    maxBatch: 1,
    process: async (n: number) => {
      await gate;
      return { emit: [n] };
    },
  });
  return { stage, open };
}
