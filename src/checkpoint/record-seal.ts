// A record on its way into a store: encoded by its codec and sealed in an envelope (its checksum),
// and the receipt of its write.
import { CheckpointStoreError, isSteadfastError, messageOf } from '../core/errors.js';
import { codecOf } from './codec.js';
import { firstOfEachKind } from './dead-letter-codec.js';
import { seal, storedChecksum } from './envelope.js';
import type { CodecLoss } from './json-tags.js';
import type { CodecName, WriteReceipt } from './types.js';

/**
 * Encodes `value` (to be stored under `key` in the store at `location`) and seals it; what the codec
 * could not keep is added to `losses`. Fails with CHECKPOINT_ENCODE_FAILED.
 */
export function sealRecord(location: string, codec: CodecName, value: unknown, key: string, losses?: CodecLoss[]): Uint8Array {
  let encoded: Uint8Array;
  try {
    encoded = codecOf(codec).encode(value, losses === undefined ? undefined : { onLoss: firstOfEachKind(losses) });
  } catch (error) {
    const cause = isSteadfastError(error) ? (error.cause ?? error) : error;
    throw new CheckpointStoreError('CHECKPOINT_ENCODE_FAILED', location, `cannot encode the value for ${key}: ${messageOf(error)}`, cause);
  }
  return seal(codec, encoded);
}

/** The receipt of a sealed record written under `key`, with what its codec lost, if anything. */
export function receiptOf(key: string, sealed: Uint8Array, losses: CodecLoss[] = []): WriteReceipt {
  const receipt: WriteReceipt = { key, bytes: sealed.length, checksum: storedChecksum(sealed) as string };
  if (losses.length > 0) receipt.losses = losses;
  return receipt;
}
