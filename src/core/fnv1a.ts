const OFFSET_32 = 0x811c9dc5;
const PRIME_32 = 0x01000193;

/** FNV-1a 32-bit hash of a byte array, as an unsigned integer. */
export function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = OFFSET_32;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ (bytes[i] as number), PRIME_32);
  }
  return h >>> 0;
}

/** FNV-1a 32-bit hash of a string's UTF-8 bytes, as an unsigned integer; encodes on the fly, no allocation. */
export function fnv1a32(text: string): number {
  let h = OFFSET_32;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, PRIME_32);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate encodes as U+FFFD, as TextEncoder does
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), PRIME_32);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), PRIME_32);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), PRIME_32);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), PRIME_32);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), PRIME_32);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), PRIME_32);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), PRIME_32);
  }
  return h >>> 0;
}

/** The 32-bit hash as 8 lowercase hex digits. */
export function fnv1a32Hex(text: string): string {
  return fnv1a32(text).toString(16).padStart(8, '0');
}
