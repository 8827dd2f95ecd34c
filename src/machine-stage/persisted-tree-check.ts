import { MachineRestoreError } from './machine-errors.js';
import { PERSISTED_ACTOR_TREE_FORMAT, describePath, type PersistedActorTree } from './persisted-actor-tree.js';

/** Throws MACHINE_RESTORE_FAILED unless `value` has the shape of a {@link PersistedActorTree} whose children all name their logic by key. */
export function checkPersistedTree(value: unknown): asserts value is PersistedActorTree {
  const tree = value as Partial<PersistedActorTree> | null;
  if (typeof tree !== 'object' || tree === null) throw bad(`must be an object, got ${typeof value}`);
  if (tree.format !== PERSISTED_ACTOR_TREE_FORMAT) throw bad(`has format ${JSON.stringify(tree.format)}, expected ${PERSISTED_ACTOR_TREE_FORMAT}`);
  if (typeof tree.root !== 'object' || tree.root === null) throw bad('has no root snapshot');
  if (!Array.isArray(tree.delayed) || !Array.isArray(tree.invocations)) throw bad('lacks its delayed events or invocations');
  if (!Number.isSafeInteger(tree.invocationSeq) || (tree.invocationSeq as number) < 0) throw bad(`has invocationSeq ${JSON.stringify(tree.invocationSeq)}, expected an integer >= 0`);
  for (const delayed of tree.delayed) {
    if (typeof delayed?.id !== 'string' || typeof delayed.event?.type !== 'string' || !Array.isArray(delayed.source) || !Array.isArray(delayed.target)) throw bad('has a malformed delayed event');
    if (![delayed.delay, delayed.deadline, delayed.remaining].every(Number.isFinite)) throw bad(`has delayed event "${delayed.event.type}" without finite delay, deadline and remaining`);
  }
  checkSources(tree.root, []);
}

function checkSources(snapshot: unknown, path: string[]): void {
  const children = (snapshot as { children?: unknown }).children;
  if (children === undefined || children === null || typeof children !== 'object') return;
  for (const [id, child] of Object.entries(children as Record<string, { src?: unknown; snapshot?: unknown }>)) {
    const at = [...path, id];
    if (typeof child?.src !== 'string') {
      throw new MachineRestoreError(describePath(at), `actor ${describePath(at)} cannot be restored: its logic was inline (no key in setup({ actors })), so the persisted data does not say what it runs`);
    }
    if (typeof child.snapshot === 'object' && child.snapshot !== null) checkSources(child.snapshot, at);
  }
}

function bad(what: string): MachineRestoreError {
  return new MachineRestoreError('root', `the persisted actor tree ${what}`);
}
