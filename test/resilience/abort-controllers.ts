/** Replaces the global AbortController with a subclass that counts constructions; `restore` puts the original back. */
export function countAbortControllers(): { readonly made: number; restore(): void } {
  const Original = globalThis.AbortController;
  const counter = {
    made: 0,
    restore: () => {
      globalThis.AbortController = Original;
    },
  };
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      counter.made++;
    }
  };
  return counter;
}
