import { customAlphabet } from 'nanoid';

// Ids go into logs, metric labels and checkpoint keys, whose separator is "!": keep them alphanumeric.
const alphanumeric = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 12);

/** A new random id for an actor, a pipeline run or a checkpoint (12 alphanumeric characters). */
export function newId(): string {
  return alphanumeric();
}
