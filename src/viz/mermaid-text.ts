/**
 * Characters a Mermaid label may not hold as they are, as Mermaid entity codes (decoded when it
 * renders): `:` and `;` end a transition label, `#` and `%` start comments, `"` ends a state's
 * quoted name, `{` `}` open and close blocks, `<` `>` `&` would be read as HTML.
 */
const ENTITIES: Record<string, string> = {
  '#': '#35;',
  ';': '#59;',
  ':': '#58;',
  '%': '#37;',
  '"': '#quot;',
  '<': '#lt;',
  '>': '#gt;',
  '&': '#amp;',
  '{': '#123;',
  '}': '#125;',
  '\\': '#92;',
};

/** Mermaid reads any line holding `direction` + a direction as a direction statement. */
const DIRECTION_WORDS = /\b(d)(irection\s+(?:tb|bt|rl|lr))/gi;

/** A state name or transition label as Mermaid text: one line, special characters as entity codes. */
export function mermaidText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[#;:%"<>&{}\\]/g, (char) => ENTITIES[char] ?? char)
    .replace(DIRECTION_WORDS, (_, d: string, rest: string) => `#${d.charCodeAt(0)};${rest}`);
}
