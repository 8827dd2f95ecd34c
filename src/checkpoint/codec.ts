// How values become stored bytes and back. Pure: no I/O.
import { deserialize, serialize } from 'node:v8';
import { SteadfastError, messageOf } from '../core/errors.js';
import type { CodecName } from './types.js';

/** Turns a value into bytes and back; `encode` throws CHECKPOINT_ENCODE_FAILED for a value it cannot represent. */
export interface Codec {
  readonly name: CodecName;
  encode(value: unknown): Uint8Array;
  /** Throws on bytes that are not a value of this codec. */
  decode(bytes: Uint8Array): unknown;
}

/** The codec names, for option checks and envelope headers. */
export const CODEC_NAMES: readonly CodecName[] = ['json', 'v8'];

// Keys that would reach an object's prototype if a decoded value met `Object.assign` or a deep merge.
const POISONED = new Set(['__proto__', 'constructor', 'prototype']);
// A poisoned key appears in JSON text literally or hidden behind a \u escape; without either, no reviver is needed.
const MAY_HOLD_POISON = /__proto__|constructor|prototype|\\u/;
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/**
 * JSON as UTF-8 (the default). JSON's own rules apply: `undefined` members and functions are left
 * out, non-finite numbers become `null`, dates become strings. BigInts and cycles cannot be
 * encoded. Decoding drops every `__proto__`, `constructor` and `prototype` key.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw encodeFailed('json', messageOf(error), error);
    }
    if (text === undefined) throw encodeFailed('json', `${typeof value} has no JSON form`);
    return textEncoder.encode(text);
  },
  decode(bytes) {
    const text = textDecoder.decode(bytes);
    return MAY_HOLD_POISON.test(text) ? JSON.parse(text, dropPoisoned) : JSON.parse(text);
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

function dropPoisoned(key: string, value: unknown): unknown {
  return POISONED.has(key) ? undefined : value;
}

function encodeFailed(codec: CodecName, reason: string, cause?: unknown): SteadfastError {
  return new SteadfastError('CHECKPOINT_ENCODE_FAILED', `the ${codec} codec cannot encode the value: ${reason}`, { cause });
}
