import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObjectType, Kind, parse, print, type DocumentNode, type GraphQLSchema } from 'graphql';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { collect, liveClient } from '../support/liveClient';
import { readerSnippets, type Snippet } from '../support/markdownSnippets';

/**
 * Every code block of README.md and docs/ that a reader can run is run here, as the Markdown has
 * it, against the gateway on the simulator: GraphQL operations are sent to it, TypeScript and
 * JavaScript run in a Node.js process of their own, shell blocks run in bash. A block that cannot
 * run here says why in a `<!-- snippet: not run: … -->` line above it; SDL excerpts are checked
 * against the schema. Addresses the docs use (`localhost:4000`, `gateway.example.com`) are pointed
 * at the test's gateway, and a `<!-- snippet: globals a b -->` line names the variables a fragment
 * of an app leaves to its surroundings, which the test then defines.
 */
const root = join(__dirname, '..', '..');
const snippets = readerSnippets(root);
const OUTPUT_TIMEOUT_MS = 15_000;

/** The engine the docs' examples watch: the simulator's single-job-engine. */
const DOC_ENGINE = 'a0000000-0000-4000-8000-000000000002';

/** What a snippet's `globals` may name, as the test defines them. */
const GLOBALS: Record<string, string> = {
  token: `const token = ${JSON.stringify(DEMO_TOKEN)};`,
  projectId: `const projectId = ${JSON.stringify(DEMO_PROJECT_ID)};`,
  engineId: `const engineId = '${DOC_ENGINE}';`,
  id: `const id = '10001';`,
  render: `const render = (value) => console.log(JSON.stringify(value));`,
  WatchJob: `const WatchJob = (await import('@apollo/client')).gql\`subscription WatchJob($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { engineId id status } }\`;`,
};

interface Directive {
  readonly notRun?: string;
  readonly globals: readonly string[];
  /** Run as in a browser: a global WebSocket (Node.js 20 has one behind a flag). */
  readonly browser: boolean;
}

function directiveOf(snippet: Snippet): Directive {
  const text = snippet.directive ?? '';
  const notRun = /^not run:\s*(.*)$/.exec(text)?.[1];
  if (notRun !== undefined) return { notRun, globals: [], browser: false };
  const words = text.split(/\s+/).filter(Boolean);
  const globalsAt = words.indexOf('globals');
  return { globals: globalsAt === -1 ? [] : words.slice(globalsAt + 1), browser: words.includes('browser') };
}

const name = (snippet: Snippet) => `${snippet.file}:${snippet.line} (${snippet.language || 'text'})`;
const code = snippets.filter((snippet) => snippet.language !== '');
const run = code.filter((snippet) => directiveOf(snippet).notRun === undefined);

let simulator: Simulator;
let harness: GatewayHarness;
const schema: GraphQLSchema = buildGatewaySchema();

beforeAll(async () => {
  // Live, as npm start runs it, at a pace that shows a change within a test's patience.
  simulator = await startSimulator({ live: { tickMs: 300 } });
  harness = await startGatewayOn(simulator, { SUBSCRIPTION_POLL_MS: '500' });
});

afterAll(async () => {
  await harness?.close();
  await simulator?.close();
});

/** The docs' addresses, pointed at the test's gateway (and `localhost:4010` at its simulator). */
function localised(text: string): string {
  const url = new URL(harness.gateway.url);
  const simulatorHost = new URL(simulator.url).host;
  const origin = url.origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  return text
    .replace(/https:\/\/gateway\.example\.com/g, origin)
    .replace(/wss:\/\/gateway\.example\.com/g, wsOrigin)
    .replace(/localhost:4000/g, url.host)
    .replace(/localhost:4010/g, simulatorHost);
}

it('finds the blocks of README.md and docs/', () => {
  expect(code.length).toBeGreaterThan(10);
  expect(code.some((snippet) => snippet.file === 'README.md' && snippet.language === 'ts')).toBe(true);
});

it.each(code.filter((snippet) => directiveOf(snippet).notRun !== undefined).map((snippet) => [name(snippet), snippet] as const))(
  '%s is not run, and says why',
  (_name, snippet) => {
    expect(directiveOf(snippet).notRun!.length).toBeGreaterThan(10);
    if (snippet.language === 'yaml') expect(parseAllDocuments(snippet.code).flatMap((document) => document.errors)).toEqual([]);
  },
);

it('runs every block of a language it knows, and the others say why they are not run', () => {
  const unknown = run.filter((snippet) => !['graphql', 'ts', 'js', 'sh'].includes(snippet.language)).map(name);
  expect(unknown).toEqual([]);
});

describe.each(run.filter((snippet) => snippet.language === 'graphql').map((snippet) => [name(snippet), snippet] as const))('%s', (_name, snippet) => {
  const document = parse(snippet.code);
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);

  if (operations.length > 0) {
    it('is answered by the gateway without errors', async () => {
      const subscription = operations.some((operation) => operation.operation === 'subscription');
      if (subscription) {
        const client = liveClient(harness.gateway.url);
        try {
          const events = collect(client, snippet.code);
          const [first] = await events.next(1);
          expect(first?.errors).toBeUndefined();
        } finally {
          await client.dispose();
        }
      } else {
        const response = await harness.gql(snippet.code);
        expect(response.body.errors).toBeUndefined();
        expect(response.status).toBe(200);
      }
    });
  } else {
    it('agrees with the schema for every type of ours it names', () => {
      expect(typeMismatches(document)).toEqual([]);
    });
  }
});

describe.each(run.filter((snippet) => snippet.language === 'ts' || snippet.language === 'js').map((snippet) => [name(snippet), snippet] as const))(
  '%s',
  (_name, snippet) => {
    it('runs against the gateway and prints what it received', async () => {
      const { globals, browser } = directiveOf(snippet);
      const prelude = globals.map((global) => {
        const definition = GLOBALS[global];
        if (definition === undefined) throw new Error(`${name(snippet)}: the test defines no global "${global}"`);
        return definition;
      });
      const program = ts.transpileModule(localised(snippet.code), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
      // Beside node_modules, so that the snippet's imports resolve as they would in a reader's project.
      const dir = join(root, 'node_modules', '.cache', 'doc-snippets');
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${snippet.file.replace(/[^\w]/g, '_')}-${snippet.line}.mjs`);
      writeFileSync(path, hoistImports(program, prelude));
      // A job that moves while the snippet watches (live mode steps it every tick).
      simulator.startJob(DOC_ENGINE);
      const { firstLine, stderr } = await firstOutputLine(path, browser ? ['--experimental-websocket'] : []);
      expect(stderr).toBe('');
      expect(firstLine).toMatch(/\S/);
      expect(firstLine).not.toMatch(/^(undefined|null)$/);
    });
  },
);

describe.each(run.filter((snippet) => snippet.language === 'sh').map((snippet) => [name(snippet), snippet] as const))('%s', (_name, snippet) => {
  it('runs in bash and exits 0', async () => {
    const { code: exitCode, stderr } = await bash(localised(snippet.code));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
  });
});

/** Imports first, then the test's definitions, then the rest: the snippet's own order otherwise. */
function hoistImports(program: string, prelude: readonly string[]): string {
  const lines = program.split('\n');
  const imports = lines.filter((line) => /^import\s/.test(line));
  const rest = lines.filter((line) => !/^import\s/.test(line));
  return [...imports, ...prelude, ...rest].join('\n');
}

/** Runs a module until it prints a line or exits; the process is ended either way. */
function firstOutputLine(path: string, flags: string[]): Promise<{ firstLine: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const finish = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      const meaningful = stderr
        .split('\n')
        .filter((line) => line.trim() !== '' && !/ExperimentalWarning|--trace-warnings/.test(line))
        .join('\n');
      resolve({ firstLine: stdout.split('\n')[0] ?? '', stderr: meaningful });
    };
    const timer = setTimeout(() => reject(new Error(`no output within ${OUTPUT_TIMEOUT_MS} ms; stderr: ${stderr}`)), OUTPUT_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
      if (stdout.includes('\n')) finish();
    });
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('exit', finish);
  });
}

function bash(script: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('exit', (exitCode) => resolve({ code: exitCode, stderr }));
  });
}

/** For each object type of the excerpt that the schema has: its fields exist there, with the same types. */
function typeMismatches(document: DocumentNode): string[] {
  const mismatches: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const ours = schema.getType(definition.name.value);
    if (ours === undefined || ours === null) continue;
    if (!isObjectType(ours)) {
      mismatches.push(`${definition.name.value} is not an object type in the schema`);
      continue;
    }
    for (const field of definition.fields ?? []) {
      const actual = ours.getFields()[field.name.value];
      const written = print(field.type);
      if (actual === undefined) mismatches.push(`${definition.name.value}.${field.name.value} is not in the schema`);
      else if (String(actual.type) !== written) mismatches.push(`${definition.name.value}.${field.name.value}: ${written} here, ${String(actual.type)} in the schema`);
    }
  }
  return mismatches;
}
