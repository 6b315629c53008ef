import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { snippetsOf } from '../support/markdownSnippets';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

/**
 * docs/federation.md's supergraph recipe, run as the Markdown has it: it composes this subgraph
 * (read from `_service { sdl }`) with a subgraph of deployments, routes with @apollo/gateway and
 * queries across both. A reference to a missing engine is `null`, without an error; declared
 * non-null (`Engine!`), the router answers `{"data": null}` with nothing in `errors`, as the doc warns.
 */

const root = join(__dirname, '..', '..');
const DOC = 'docs/federation.md';
const recipe = snippetsOf(DOC, readFileSync(join(root, DOC), 'utf8')).find(
  (snippet) => snippet.language === 'ts' && snippet.directive?.includes('supergraphRecipe.test.ts') === true,
);

/** The recipe's `rows`: the simulator's single-job engine, and one that does not exist. */
const ENGINE = 'a0000000-0000-4000-8000-000000000002';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
});
afterAll(() => h?.close());

/** Runs the recipe's code (transpiled as a reader's tooling would) and returns what it printed. */
async function runRecipe(code: string, name: string): Promise<any> {
  const program = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  // Beside node_modules, so that the recipe's imports resolve as they would in a reader's project.
  const dir = join(root, 'node_modules', '.cache', 'doc-snippets');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `supergraph-recipe-${name}.mjs`);
  writeFileSync(path, program);
  const child = spawn(process.execPath, [path], {
    cwd: root,
    // @apollo/gateway's OpenTelemetry GCP detector asks a metadata server; not here (it warns when a proxy answers).
    env: { ...process.env, CSE_SUBGRAPH_URL: h.gateway.url, CSE_TOKEN: DEMO_TOKEN, METADATA_SERVER_DETECTION: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  expect({ exitCode, stderr: stderr.split('\n').filter((line) => line.trim() !== '' && !/ExperimentalWarning|--trace-warnings/.test(line)) }).toEqual({ exitCode: 0, stderr: [] });
  // Its last line; Apollo Server logs a line of its own first ("Enabling inline tracing …").
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

it('is in docs/federation.md', () => {
  expect(recipe).toBeDefined();
  expect(recipe!.code).toContain('type Deployment { id: ID! engine: Engine }');
});

it('queries across both subgraphs through the router; the missing engine is null, without an error', async () => {
  h.simulator.resetCalls();
  const printed = await runRecipe(recipe!.code, 'nullable');
  // Two references, under the list threshold: one details call each (one finds nothing).
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(2);
  expect(printed.errors).toBeUndefined();
  const [web, retired] = printed.data.deployments;
  const engine = (await h.gql(`{ engine(id: "${ENGINE}") { id name status latestJob { status } } }`)).body.data.engine;
  expect(web).toEqual({ id: 'web', engine });
  expect(retired).toEqual({ id: 'retired', engine: null });
}, 40_000);

it('declared Engine!, the same missing engine makes the router answer {"data": null} with nothing in errors (what the doc warns of)', async () => {
  const nonNull = recipe!.code.replace('type Deployment { id: ID! engine: Engine }', 'type Deployment { id: ID! engine: Engine! }');
  expect(nonNull).not.toBe(recipe!.code);
  const printed = await runRecipe(nonNull, 'non-null');
  expect(printed.data).toBeNull();
  expect(printed.errors).toBeUndefined();
  // All it says is in an extension that clients do not read as an error.
  expect(printed.extensions.valueCompletion.map((note: { path: unknown[] }) => note.path.slice(0, 3))).toEqual([['deployments', 1, 'engine']]);
}, 40_000);
