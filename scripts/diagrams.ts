// `npm run diagrams`: redraws the statecharts in docs/*.md from the machines themselves;
// `npm run diagrams -- --check` changes nothing and fails if a page is out of date (test/viz/docs-diagrams.test.ts).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtinMachine, builtinMachines } from '../src/viz/builtin-machines.js';
import { toMermaid } from '../src/viz/to-mermaid.js';
import { renderRegions } from './diagram-regions.js';

/** The docs folder of this repository. */
export const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));

/** What a run found: the pages whose diagrams changed (or would, in check mode) and every region's machine. */
export interface DiagramsReport {
  stale: string[];
  regions: { file: string; machine: string }[];
}

/** Redraws every region in the Markdown files of `docsDir`; with `check`, writes nothing. */
export async function updateDiagrams(options: { docsDir?: string; check: boolean }): Promise<DiagramsReport> {
  const docsDir = options.docsDir ?? DOCS_DIR;
  const files = (await readdir(docsDir)).filter((name) => name.endsWith('.md')).sort();
  const report: DiagramsReport = { stale: [], regions: [] };
  for (const file of files) {
    const path = join(docsDir, file);
    const before = await readFile(path, 'utf8');
    const page = renderRegions(before, (machine) => diagramOf(machine, file), file);
    report.regions.push(...page.machines.map((machine) => ({ file, machine })));
    if (page.text === before) continue;
    report.stale.push(file);
    if (!options.check) await writeFile(path, page.text);
  }
  return report;
}

function diagramOf(machine: string, file: string): string {
  const builtin = builtinMachine(machine);
  if (builtin === undefined) {
    throw new Error(`${file}: no built-in machine "${machine}" (built-in: ${builtinMachines.map((b) => b.name).join(', ')})`);
  }
  return toMermaid(builtin.machine);
}

async function run(args: readonly string[]): Promise<number> {
  const check = args.includes('--check');
  const report = await updateDiagrams({ check });
  if (check && report.stale.length > 0) {
    console.error(`out-of-date diagrams in docs/: ${report.stale.join(', ')}; run \`npm run diagrams\``);
    return 1;
  }
  console.log(
    report.stale.length === 0
      ? `${report.regions.length} diagrams in docs/ are up to date`
      : `redrew the diagrams of docs/${report.stale.join(', docs/')}`,
  );
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await run(process.argv.slice(2));
}
