// Damage below the checksum layer of a LevelDB directory. LevelDB opens without paranoid checks
// (classic-level offers no way to ask for them): a log record that fails its CRC is dropped in
// silence, with the rest of its block, and the store then reads as if those writes never
// happened. What is left to know it by: the lines LevelDB writes to its LOG while it recovers, and
// a witness file of our own, STEADFAST, that remembers the last completed checkpoint of each
// pipeline. Also LevelDB's own repair (RepairDB), in a child process. Advice: docs/checkpointing.md.
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { messageOf } from '../core/errors.js';

/** The witness file, beside LevelDB's own files (LevelDB ignores names it does not know). */
export const WITNESS_FILE = 'STEADFAST';
const WITNESS_FORMAT = 'steadfast-witness/1';

/** The last completed checkpoint of a pipeline that a directory is known to have held. */
export interface WitnessEntry {
  version: number;
  checkpointId: string;
  /** Epoch milliseconds the marker was written. */
  at: number;
}

/** The witness file as read: entries by pipeline, or why it could not be read. */
export interface WitnessRead {
  pipelines: Record<string, WitnessEntry>;
  /** Set when a witness file exists but does not parse (it is then rewritten from scratch). */
  problem?: string;
}

// LevelDB 1.20 (db_impl.cc, RecoverLogFile): "<path>: dropping <n> bytes; <status>" for a record it
// skips while replaying its log; a log cut short by a crash is not reported (it is no damage).
const DROPPED = /(\S+): dropping (\d+) bytes; (.+)$/;

/** What LevelDB dropped while it last opened `dir` (the lines of its LOG), in plain words. */
export async function readOpenDamage(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'LOG'), 'utf8').catch(() => '');
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const match = DROPPED.exec(line);
    if (match !== null) found.push(`LevelDB dropped ${match[2]} bytes of ${basename(match[1] as string)} while opening the store (${match[3]})`);
  }
  return found;
}

/** Reads the witness file of `dir`; none is an empty witness. */
export async function readWitness(dir: string): Promise<WitnessRead> {
  let text: string;
  try {
    text = await readFile(join(dir, WITNESS_FILE), 'utf8');
  } catch {
    return { pipelines: {} };
  }
  try {
    const parsed = JSON.parse(text) as { format?: unknown; pipelines?: unknown };
    if (parsed.format !== WITNESS_FORMAT || typeof parsed.pipelines !== 'object' || parsed.pipelines === null) throw new Error(`not a ${WITNESS_FORMAT} file`);
    const pipelines: Record<string, WitnessEntry> = {};
    for (const [name, entry] of Object.entries(parsed.pipelines as Record<string, Partial<WitnessEntry>>)) {
      if (name === '__proto__' || typeof entry?.version !== 'number' || typeof entry.checkpointId !== 'string' || typeof entry.at !== 'number') continue;
      pipelines[name] = { version: entry.version, checkpointId: entry.checkpointId, at: entry.at };
    }
    return { pipelines };
  } catch (error) {
    return { pipelines: {}, problem: `${WITNESS_FILE} cannot be read: ${messageOf(error)}` };
  }
}

/** Replaces the witness file of `dir` (a new file renamed over the old one: never half written). */
export async function writeWitness(dir: string, pipelines: Readonly<Record<string, WitnessEntry>>): Promise<void> {
  const file = join(dir, WITNESS_FILE);
  const next = `${file}.next`;
  await writeFile(next, `${JSON.stringify({ format: WITNESS_FORMAT, pipelines }, null, 2)}\n`);
  await rename(next, file);
}

// LevelDB 1.20 (repair.cc): what RepairDB writes to the LOG it starts.
const REPAIR_LINE = /(Log #\d+: .*|Table #\d+: .*|Archiving .*)$/;
// "Table #5: 12 entries Corruption: bad entry in block" (a table RepairDB found damaged and copies),
// "Table #5: 0 entries OK" (nothing it can index) or "Table #5: unparsable key …": tables it may abort on.
const DAMAGED_TABLE = /^Table #(\d+): (0 entries|\d+ entries (?!OK$)|unparsable key)/;
const UNPARSABLE_KEY = /^Table #(\d+): unparsable key/;
/** Tables put aside, at most, when RepairDB keeps aborting on them. */
const MAX_TABLES_SET_ASIDE = 8;
const REPAIR_TIMEOUT_MS = 10 * 60_000;
// Run in a child process: RepairDB copies a damaged table through a table builder that asserts its
// keys come in order, and a flipped bit in a key makes it abort the whole process.
const REPAIR_SCRIPT = `require(process.argv[1]).Level.repair(process.argv[2]).then(() => process.exit(0), (e) => { process.stderr.write(String(e && e.message)); process.exit(1); });`;

/**
 * Runs LevelDB's repair (RepairDB) on `dir`, which nobody may have open: it rebuilds the manifest
 * from the table and log files, keeping every entry it can still read. When it aborts on a damaged
 * table, that table is moved to `lost/` (with its entries) and the repair runs again. Resolves
 * with what it reported (tables and entries kept, what it dropped).
 */
export async function repairLevel(dir: string): Promise<string[]> {
  const report: string[] = [];
  for (let attempt = 0; attempt <= MAX_TABLES_SET_ASIDE; attempt++) {
    const outcome = await repairInChild(dir);
    const lines = await repairLog(dir);
    report.push(...lines);
    if (outcome === undefined) {
      // RepairDB keeps a table whose keys it cannot parse as it is, and every scan over such a key
      // then fails ("corrupted internal key"): such a table has to go too.
      const unparsable = lines.map((line) => UNPARSABLE_KEY.exec(line)?.[1]).find((n) => n !== undefined);
      const file = unparsable === undefined ? undefined : await tableFile(dir, Number(unparsable));
      if (file === undefined) return report;
      await setAside(dir, file);
      report.push(`Table #${unparsable}: it holds keys LevelDB cannot parse; moved to lost/${file}, with its entries`);
      continue;
    }
    const table = lines.map((line) => DAMAGED_TABLE.exec(line)?.[1]).filter((n) => n !== undefined).at(-1);
    const file = table === undefined ? undefined : await tableFile(dir, Number(table));
    if (file === undefined) throw new Error(`LevelDB's repair failed: ${outcome}`);
    await setAside(dir, file);
    report.push(`Table #${table}: LevelDB's repair aborted on it (${outcome}); moved to lost/${file}, with its entries`);
  }
  throw new Error(`LevelDB's repair failed: it aborted on ${MAX_TABLES_SET_ASIDE + 1} damaged tables in a row`);
}

/** Runs RepairDB in a child process; resolves with why it failed, or undefined when it succeeded. */
function repairInChild(dir: string): Promise<string | undefined> {
  const level = createRequire(import.meta.url).resolve('level');
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', REPAIR_SCRIPT, level, dir], { timeout: REPAIR_TIMEOUT_MS, env: {} }, (error, _stdout, stderr) => {
      if (error === null) return resolve(undefined);
      const said = stderr.trim().split('\n').at(-1) ?? '';
      const how = error.signal !== null && error.signal !== undefined ? `it was killed by ${error.signal}` : `it exited with code ${String(error.code)}`;
      resolve(said === '' ? how : `${how}: ${said}`);
    });
  });
}

async function repairLog(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'LOG'), 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    const match = REPAIR_LINE.exec(line);
    return match === null ? [] : [(match[1] as string).trim()];
  });
}

/** Moves a table out of LevelDB's sight, where RepairDB puts what it archives (`lost/`). */
async function setAside(dir: string, file: string): Promise<void> {
  await mkdir(join(dir, 'lost'), { recursive: true });
  await rename(join(dir, file), join(dir, 'lost', file));
}

/** The file of table `number`: `000005.ldb`, or the older `.sst` name. */
async function tableFile(dir: string, number: number): Promise<string | undefined> {
  const names = await readdir(dir);
  const base = String(number).padStart(6, '0');
  return names.find((name) => name === `${base}.ldb` || name === `${base}.sst`);
}
