import { describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { compareUtf8 } from '../../src/checkpoint/memory-store.js';
import fc from 'fast-check';
import { describeStoreConformance } from './store-conformance.js';

describeStoreConformance('memory', async (options = {}) => createCheckpointStore({ kind: 'memory', ...options }));

describe('memory checkpoint store', () => {
  it('is located at "memory" and of kind memory', () => {
    const store = createCheckpointStore();
    expect(store.kind).toBe('memory');
    expect(store.location).toBe('memory');
  });
});

describe('compareUtf8', () => {
  it('orders strings as their UTF-8 bytes, as LevelDB does', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', '~', '\u007f', 'é', '\uffff', '\ue000', '𝄞', '😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 6 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts a character above U+FFFF after U+FFFF, unlike UTF-16 order', () => {
    expect('𝄞' < '\uffff').toBe(true);
    expect(compareUtf8('𝄞', '\uffff')).toBeGreaterThan(0);
  });
});
