// How values become stored bytes and back. Pure: no I/O.
import { deserialize, serialize } from 'node:v8';
import { SteadfastError, messageOf } from '../core/errors.js';
import { fromJsonText } from './json-revive.js';
import { toJsonText, type JsonEncodeOptions } from './json-tags.js';
import type { CodecName } from './types.js';

/** Turns a value into bytes and back; `encode` throws CHECKPOINT_ENCODE_FAILED for a value it cannot represent. */
export interface Codec {
  readonly name: CodecName;
  /** `options` are the json codec's: the v8 codec keeps everything it can encode and throws on the rest. */
  encode(value: unknown, options?: JsonEncodeOptions): Uint8Array;
  /** Throws on bytes that are not a value of this codec. */
  decode(bytes: Uint8Array): unknown;
}

/** The codec names, for option checks and envelope headers. */
export const CODEC_NAMES: readonly CodecName[] = ['json', 'v8'];

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/**
 * JSON as UTF-8 (the default). Plain data is plain JSON; Maps, Sets, dates, BigInts, NaN,
 * ±Infinity and `undefined` array items are kept in a tagged form (docs/checkpoint-store.md).
 * Functions and symbols are left out, class instances lose their prototype, and each such loss is
 * reported to `options.onLoss`; a circular reference fails the encode unless `options.placeholders`.
 * Decoding drops every `__proto__` key; plain JSON from any writer decodes as JSON.parse reads it.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value, options) {
    let text: string;
    try {
      text = toJsonText(value, options);
    } catch (error) {
      throw encodeFailed('json', messageOf(error), error);
    }
    return textEncoder.encode(text);
  },
  decode(bytes) {
    return fromJsonText(textDecoder.decode(bytes));
  },
};

/**
 * node:v8 structured serialisation: keeps BigInts, Maps, Sets, dates, typed arrays and cycles.
 * For trusted data only: deserialising bytes from an untrusted source is unsafe, so the CLI
 * decodes it only with `--trust`.
 */
export const v8Codec: Codec = {
  name: 'v8',
  encode(value) {
    try {
      return serialize(value);
    } catch (error) {
      throw encodeFailed('v8', messageOf(error), error);
    }
  },
  decode(bytes) {
    return deserialize(bytes);
  },
};

/** The codec of a name. */
export function codecOf(name: CodecName): Codec {
  return name === 'v8' ? v8Codec : jsonCodec;
}

/** True when `name` is a codec name. */
export function isCodecName(name: unknown): name is CodecName {
  return (CODEC_NAMES as readonly unknown[]).includes(name);
}

function encodeFailed(codec: CodecName, reason: string, cause?: unknown): SteadfastError {
  return new SteadfastError('CHECKPOINT_ENCODE_FAILED', `the ${codec} codec cannot encode the value: ${reason}`, { cause });
}
