// How a dead letter becomes stored bytes whatever its event holds: what the codec cannot encode is
// replaced by a described placeholder, so that a letter is never lost for its content. Pure.
import { messageOf } from '../core/errors.js';
import { jsonCodec, v8Codec } from './codec.js';
import { seal } from './envelope.js';
import type { CodecLoss } from './json-tags.js';
import type { CodecName, DeadLetter } from './types.js';

/** A loss callback that keeps the first loss of each kind in `losses`. */
export function firstOfEachKind(losses: CodecLoss[]): (loss: CodecLoss) => void {
  return (loss) => {
    if (!losses.some((known) => known.kind === loss.kind)) losses.push(loss);
  };
}

/**
 * Seals a checked dead letter; never throws. With the v8 codec it is v8 when v8 can encode it,
 * else json (the envelope names the codec of each value). With json, functions, symbols and
 * circular references become `{ "$unencodable": kind, "path": … }`; an event that cannot be read
 * at all (a throwing getter or toJSON) becomes `{ "$unencodable": "event", "path": "event", "reason": … }`.
 * What was replaced is added to `losses`, the first of each kind.
 */
export function sealDeadLetter(codec: CodecName, letter: DeadLetter, losses: CodecLoss[]): Uint8Array {
  if (codec === 'v8') {
    try {
      return seal('v8', v8Codec.encode(letter));
    } catch {
      // Below: json with placeholders, which reports what it replaced.
    }
  }
  const onLoss = firstOfEachKind(losses);
  try {
    return seal('json', jsonCodec.encode(letter, { placeholders: true, onLoss }));
  } catch (error) {
    const reason = messageOf(error);
    onLoss({ kind: 'event', path: 'event', detail: `the event cannot be read (${reason}): replaced by a placeholder` });
    return seal('json', jsonCodec.encode({ ...letter, event: { $unencodable: 'event', path: 'event', reason } }));
  }
}
