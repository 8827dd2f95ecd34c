// The one place the CLI writes an error line: `steadfast: <text>`, always one line on the terminal.
import type { CliIo } from './main.js';

// C0 controls, DEL, C1 controls, and the line and paragraph separators: what could break the line
// or drive the terminal (an ESC sequence in a stage name must not repaint the screen).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with control characters escaped (`\n`, `\r`, `\t`, else `\u001b` and the like). */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes `steadfast: <text>` on stderr as one line, whatever `text` holds. */
export function writeError(io: CliIo, text: string): void {
  io.stderr.write(`steadfast: ${oneLine(text)}\n`);
}
