/**
 * The generated regions of a Markdown page: the lines between `<!-- diagram:<machine> -->` and
 * `<!-- /diagram:<machine> -->` hold a ```mermaid block drawn from that machine, and nothing else.
 */
const OPEN = /^<!-- diagram:([A-Za-z0-9_-]+) -->$/;
const CLOSE = /^<!-- \/diagram:([A-Za-z0-9_-]+) -->$/;

/** A page with every region rewritten, and the machines its regions name, in order. */
export interface RenderedPage {
  text: string;
  machines: string[];
}

/** Rewrites every region of `markdown` with `render(machine)` (Mermaid text); throws on a region left open or a stray close. */
export function renderRegions(markdown: string, render: (machine: string) => string, file = 'markdown'): RenderedPage {
  const lines = markdown.split('\n');
  const out: string[] = [];
  const machines: string[] = [];
  let open: { machine: string; line: number } | undefined;
  lines.forEach((line, index) => {
    const opening = OPEN.exec(line.trim());
    const closing = CLOSE.exec(line.trim());
    if (open === undefined) {
      if (closing !== null) throw new Error(`${file}:${index + 1}: "${line.trim()}" closes no region`);
      out.push(line);
      if (opening !== null) open = { machine: opening[1] as string, line: index + 1 };
      return;
    }
    if (opening !== null) throw new Error(`${file}:${index + 1}: a region opens inside the region of line ${open.line}`);
    if (closing === null) return; // the old diagram: replaced below
    if (closing[1] !== open.machine) throw new Error(`${file}:${index + 1}: "${line.trim()}" closes the region of "${open.machine}" (line ${open.line})`);
    out.push('```mermaid', ...render(open.machine).replace(/\n$/, '').split('\n'), '```', line);
    machines.push(open.machine);
    open = undefined;
  });
  if (open !== undefined) throw new Error(`${file}:${open.line}: the region of "${open.machine}" is never closed`);
  return { text: out.join('\n'), machines };
}
