import { ConfigError } from './errors.js';
import { fnv1a32 } from './fnv1a.js';

/**
 * The partition of `key` among `partitions`: FNV-1a 32 of the key's UTF-8 bytes, modulo the count.
 * Stable across processes and releases, so that one key's events always land in one partition.
 */
export function partitionOf(key: string, partitions: number): number {
  if (typeof key !== 'string') throw new ConfigError('key', key, 'must be a string');
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 65_536) throw new ConfigError('partitions', partitions, 'must be an integer in [1, 65536]');
  return fnv1a32(key) % partitions;
}
