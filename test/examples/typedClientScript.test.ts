import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The example script as its README runs it: compiled with examples/typed-client/tsconfig.json,
 * then plain `node main.js` (no ts-node), against a running gateway. It is built into a temporary
 * directory (with the repository's node_modules linked beside it), so a concurrent build of
 * dist/ is never read half-written. Each file is transpiled on its own with the tsconfig's
 * options, in process: what tsc emits for it (isolatedModules), while its type errors are the
 * typecheck step's (pretest), which covers the example with the same options.
 */
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cse-typed-client-'));
  const example = join(root, 'examples', 'typed-client');
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined };
  const config = ts.getParsedCommandLineOfConfigFile(join(example, 'tsconfig.json'), {}, host)!;
  if (!config.options.isolatedModules) throw new Error('examples/typed-client: isolatedModules is off');
  for (const file of config.fileNames) {
    const compilerOptions = { ...config.options, sourceMap: false };
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
    const out = join(dir, 'typed-client', relative(example, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  h = await startHarness(CACHES_OFF);
}, 120_000);
afterAll(async () => {
  await h?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled script with only these settings (and PATH) in its environment. */
async function script(env: Record<string, string>): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'typed-client', 'main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('prints the busiest engine’s jobs, every one, and exits 0', async () => {
  const outcome = await script({ GATEWAY_URL: h.gateway.url, PAGE_SIZE: '40' });

  expect(outcome.stderr).toBe('');
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`Jobs of big-engine (${SEED.engines.big}), newest first:`);
  expect(outcome.stdout.split('\n').filter((line) => /^ {2} *\d+ {2}[A-Z_]+/.test(line))).toHaveLength(350);
  expect(outcome.stdout).toContain('350 of 350 jobs in 9 pages of up to 40 (8 fetchMore calls).');
}, 60_000);

it('exits 1 naming the URL and the reason when the gateway cannot be reached', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/graphql`;
  const outcome = await script({ GATEWAY_URL: url });
  expect(outcome.code).toBe(1);
  expect(outcome.stderr).toBe(`Could not list the jobs via ${url}: fetch failed (ECONNREFUSED)\n`);
}, 60_000);

it('exits 1 with the gateway’s error code when the token is refused', async () => {
  const outcome = await script({ GATEWAY_URL: h.gateway.url, CSE_TOKEN: 'cse-unknown-token-00000000000009' });
  expect(outcome.code).toBe(1);
  expect(outcome.stderr).toMatch(/^Could not list the jobs via .*: the gateway answered with errors: UNAUTHENTICATED: /);
}, 60_000);

it('exits 2 on a bad setting, naming it and the value', async () => {
  const outcome = await script({ GATEWAY_URL: h.gateway.url, PAGE_SIZE: '500' });
  expect(outcome).toEqual({ code: 2, stdout: '', stderr: 'PAGE_SIZE must be an integer from 1 to 100, got "500"\n' });
}, 60_000);
