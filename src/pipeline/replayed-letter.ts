// A dead letter put back into the stage it failed in: marked, so that the stage's runner lets it
// wait for its breaker to let calls through instead of sending it straight back to the dead letters.

/** A replayed dead letter in a mailbox; the runner hands the stage `event` itself. */
export class ReplayedLetter {
  constructor(readonly event: unknown) {}
}

/** The event a mailbox value stands for, and whether it is a replayed dead letter. */
export function unwrapLetter(value: unknown): { event: unknown; replayed: boolean } {
  return value instanceof ReplayedLetter ? { event: value.event, replayed: true } : { event: value, replayed: false };
}
