import { abortedBy, listen, unlisten, type StopSource } from './signals.js';

/** A call whose caller may stop waiting for it (see {@link stoppable}). */
export interface Abandonable {
  abandoned: boolean;
}

/**
 * Runs a call the caller can abandon: when `source` aborts first, the caller gets an AbortedError at
 * once and the call is marked abandoned, so the breaker counts its late outcome for nothing (an
 * aborted call says nothing about the dependency). The listener goes when the call settles.
 */
export function stoppable<T>(source: StopSource, run: (call: Abandonable) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const call: Abandonable = { abandoned: false };
    const onAbort = (): void => {
      call.abandoned = true;
      reject(abortedBy(source));
    };
    listen(source, onAbort);
    run(call).then(
      (value) => {
        unlisten(source, onAbort);
        resolve(value);
      },
      (error: unknown) => {
        unlisten(source, onAbort);
        reject(error);
      },
    );
  });
}
