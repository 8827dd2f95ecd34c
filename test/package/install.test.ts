import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The version of a dev dependency installed here, so the app installs the same one (from npm's cache). */
async function installedVersion(pkg: string): Promise<string> {
  return (JSON.parse(await readFile(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a real child process to its end. */
function run(command: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Log lines (pino JSON on stderr) at warn level or above, and any line that is not a log line. */
function warnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .filter((line) => {
      try {
        return (JSON.parse(line) as { level: number }).level >= 40;
      } catch {
        return true;
      }
    });
}

/** The README's "A pipeline in one screen" code block, verbatim. */
async function readmePipeline(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const block = /## A pipeline in one screen\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no "A pipeline in one screen" ts block');
  return block;
}

// The same program in plain JavaScript, as a user of the package without TypeScript writes it.
const MAIN_MJS = `import { createPipeline, defineStage, fromIterable, toArray } from 'steadfast';

const parse = defineStage({ name: 'parse', process: (line) => ({ emit: [JSON.parse(line)] }) });
const enrich = defineStage({
  name: 'enrich',
  initialState: () => ({ seen: 0 }),
  process: (event, state) => ({ state: { seen: state.seen + 1 }, emit: [{ ...event, score: event.value * 2 }] }),
});
const sink = toArray();
const pipeline = createPipeline({
  name: 'orders',
  source: fromIterable(['{"id":"a","value":1}', '{"id":"b","value":2}']),
  stages: [parse, enrich],
  sink,
  onError: (error) => console.error(error.code, error.message),
});
await pipeline.start();
await pipeline.done;
`;

const REPORT = `console.log(JSON.stringify({ items: sink.items, state: pipeline.stageState('enrich') }));\n`;

// `strict` with the declaration files checked too (skipLibCheck off): ours must compile in a strict consumer.
// (exactOptionalPropertyTypes is left out: xstate's own declarations do not compile under it.)
const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noUnusedLocals: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    outDir: 'out',
    types: ['node'],
    skipLibCheck: false,
  },
  files: ['main.ts'],
};

describe('the package as users install it', () => {
  it('packs without removing dist/ meanwhile, installs from the tarball without an install script of its own, and runs the README pipeline in JavaScript and strict TypeScript', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-package-'));
    const stale = join(ROOT, 'dist', `stale-${process.pid}.js`);
    try {
      // npm pack builds (prepack) while dist/ may be in use: its files must be there throughout.
      await mkdir(join(ROOT, 'dist'), { recursive: true });
      await writeFile(stale, 'export {};\n');
      let missing = 0;
      let checks = 0;
      const watch = setInterval(() => {
        checks++;
        if (!existsSync(join(ROOT, 'dist/src/index.js')) || !existsSync(join(ROOT, 'dist/src/cli/main.js'))) missing++;
      }, 2);
      const packed = await run('npm', ['pack', '--pack-destination', dir, '--json'], ROOT).finally(() => clearInterval(watch));
      expect(packed.code, packed.stderr).toBe(0);
      expect(checks).toBeGreaterThan(10);
      expect(missing).toBe(0);
      expect(existsSync(stale)).toBe(false); // a file the build no longer makes is gone after it
      const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
      const paths = files.map((file) => file.path);
      expect(paths).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'bin/steadfast.js', 'src/observability/dashboard.html']));
      expect(paths.filter((path) => path.startsWith('test/') || path.startsWith('dist/stale'))).toEqual([]);

      const app = join(dir, 'app');
      await mkdir(app);
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
      const installed = await run(
        'npm',
        ['install', join(dir, filename), `typescript@${await installedVersion('typescript')}`, `@types/node@${await installedVersion('@types/node')}`, '--no-audit', '--no-fund', '--prefer-offline'],
        app,
      );
      expect(installed.code, installed.stderr).toBe(0);
      // classic-level (LevelDB's binding, a dependency) has an install script, which is the app's to allow; steadfast has none.
      expect(installed.stderr).not.toMatch(/steadfast@[^\n]*\((prepare|install|postinstall|preinstall)/);
      const manifest = JSON.parse(await readFile(join(app, 'node_modules/steadfast/package.json'), 'utf8')) as { scripts?: Record<string, string> };
      expect(Object.keys(manifest.scripts ?? {}).filter((name) => /install|prepare/.test(name))).toEqual([]);

      const expected = { items: [{ id: 'a', value: 1, score: 2 }, { id: 'b', value: 2, score: 4 }], state: { seen: 2 } };

      await writeFile(join(app, 'main.mjs'), MAIN_MJS + REPORT);
      const js = await run(process.execPath, ['main.mjs'], app);
      expect(JSON.parse(js.stdout)).toMatchObject(expected); // the program's own output alone on stdout
      expect(warnings(js.stderr)).toEqual([]); // logs on stderr, none a warning at default settings

      await writeFile(join(app, 'main.ts'), (await readmePipeline()) + REPORT);
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
      const tsc = await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.code).toBe(0);
      const ts = await run(process.execPath, ['out/main.js'], app);
      expect(JSON.parse(ts.stdout)).toMatchObject(expected);
      expect(warnings(ts.stderr)).toEqual([]);

      // The types are checked, not just present: a wrong use does not compile.
      await writeFile(join(app, 'main.ts'), `import { defineStage } from 'steadfast';\ndefineStage({ name: 'x', process: (n: number) => ({ emit: [n] }), onFailure: 'explode' });\n`);
      const wrong = await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stdout).toMatch(/main\.ts\(2,\d+\): error TS\d+:.*"explode"/);

      // The command line works from the installed package.
      const cli = await run(process.execPath, [join(app, 'node_modules/.bin/steadfast'), 'viz', 'stage'], app);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^stateDiagram-v2/);
      expect(await readdir(join(app, 'node_modules/steadfast/dist/src'))).toContain('index.d.ts');
    } finally {
      await rm(stale, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
