// The stored form of every value: an ASCII header `<16 hex fnv1a64> <codec>\n`, then the payload.
// The checksum covers every byte after the first 17: the codec name, the newline and the payload,
// so that a flipped bit anywhere but in the checksum digits themselves is caught. Pure: no I/O.
import { messageOf } from '../core/errors.js';
import { fnv1a64Bytes } from '../core/fnv1a.js';
import { codecOf, isCodecName } from './codec.js';
import type { CodecName } from './types.js';

/** Bytes before the codec name: 16 hex digits and a space. */
export const CHECKSUM_SPAN = 17;
/** The reason given for a v8 payload that the reader was not allowed to decode. */
export const V8_NOT_TRUSTED = 'v8 payload not decoded: its source is not trusted';

const SPACE = 0x20;
const NEWLINE = 0x0a;
// The longest codec name we could ever write, with room to spare; bounds the newline search.
const MAX_CODEC_NAME = 16;
const HEX = /^[0-9a-f]{16}$/;
const latin1 = new TextDecoder('latin1');

/** A value checked but not decoded. */
export type Unsealed =
  | { ok: true; codec: CodecName; checksum: string; payload: Uint8Array }
  | { ok: false; reason: string };

/** A value checked and decoded. */
export type Opened =
  | { ok: true; codec: CodecName; checksum: string; value: unknown }
  | { ok: false; reason: string };

/** What a reader accepts. */
export interface OpenOptions {
  /** Decode v8 payloads (default true); false for data from a source that is not trusted. */
  decodeV8?: boolean;
  /** The only codec this kind of value may use (`done!`/`meta!` values are always json). */
  codec?: CodecName;
}

/** Prefixes an encoded payload with its checksum and codec name. */
export function seal(codec: CodecName, payload: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(CHECKSUM_SPAN + codec.length + 1 + payload.length);
  for (let i = 0; i < codec.length; i++) sealed[CHECKSUM_SPAN + i] = codec.charCodeAt(i);
  sealed[CHECKSUM_SPAN + codec.length] = NEWLINE;
  sealed.set(payload, CHECKSUM_SPAN + codec.length + 1);
  const checksum = fnv1a64Bytes(sealed.subarray(CHECKSUM_SPAN));
  for (let i = 0; i < 16; i++) sealed[i] = checksum.charCodeAt(i);
  sealed[16] = SPACE;
  return sealed;
}

/** The checksum stored in a sealed value's header, `undefined` when the header is malformed. */
export function storedChecksum(bytes: Uint8Array): string | undefined {
  if (bytes.length < CHECKSUM_SPAN || bytes[16] !== SPACE) return undefined;
  const digits = latin1.decode(bytes.subarray(0, 16));
  return HEX.test(digits) ? digits : undefined;
}

/** Checks a sealed value's header and checksum, without decoding the payload. */
export function unseal(bytes: Uint8Array): Unsealed {
  const expected = storedChecksum(bytes);
  if (expected === undefined) return { ok: false, reason: 'bad header: expected 16 lowercase hex digits and a space' };
  // The checksum first: a flipped bit in the codec name or the newline is damage, not a format.
  const actual = fnv1a64Bytes(bytes.subarray(CHECKSUM_SPAN));
  if (actual !== expected) return { ok: false, reason: `checksum mismatch: expected ${expected}, actual ${actual}` };
  const end = bytes.subarray(CHECKSUM_SPAN, CHECKSUM_SPAN + MAX_CODEC_NAME + 1).indexOf(NEWLINE);
  if (end < 1) return { ok: false, reason: 'bad header: no codec name ended by a newline' };
  const codec = latin1.decode(bytes.subarray(CHECKSUM_SPAN, CHECKSUM_SPAN + end));
  if (!isCodecName(codec)) return { ok: false, reason: `unknown codec ${JSON.stringify(codec)}` };
  return { ok: true, codec, checksum: actual, payload: bytes.subarray(CHECKSUM_SPAN + end + 1) };
}

/** Checks and decodes a sealed value; never throws. */
export function open(bytes: Uint8Array, options: OpenOptions = {}): Opened {
  const unsealed = unseal(bytes);
  if (!unsealed.ok) return unsealed;
  const { codec, checksum, payload } = unsealed;
  if (options.codec !== undefined && codec !== options.codec) {
    return { ok: false, reason: `unexpected codec "${codec}": this value is always ${options.codec}` };
  }
  if (codec === 'v8' && options.decodeV8 === false) return { ok: false, reason: V8_NOT_TRUSTED };
  try {
    return { ok: true, codec, checksum, value: codecOf(codec).decode(payload) };
  } catch (error) {
    return { ok: false, reason: `${codec} decode failed: ${messageOf(error)}` };
  }
}
