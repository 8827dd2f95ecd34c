/**
 * A DOT quoted string: `"` and `\` escaped (so Graphviz's `\N`, `\l`, ... escapes never appear by
 * accident), line breaks as `\n`.
 */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, '\\n')}"`;
}
