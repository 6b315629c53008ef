import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type * as ConfigModule from '../src/config/loadConfig';
import type * as SchemaModule from '../src/graphql/buildSchema';
import type * as StoreModule from '../src/graphql/documentStore';
import type * as AdmissionModule from '../src/security/admission';
import type * as PersistedModule from '../src/security/persistedQueries';

// The gateway's build, which finds the schema files: `npm run build`'s (dist/bench/bench → dist/), or another.
const dist = process.argv[3] ?? join(__dirname, '..', '..');
const built = <T>(module: string): T => require(join(dist, module)) as T;
const { loadConfig } = built<typeof ConfigModule>('config/loadConfig');
const { buildGatewaySchema } = built<typeof SchemaModule>('graphql/buildSchema');
const { DocumentStore } = built<typeof StoreModule>('graphql/documentStore');
const { createAdmission } = built<typeof AdmissionModule>('security/admission');
const { sha256 } = built<typeof PersistedModule>('security/persistedQueries');

/**
 * What the document store charges a kept document against the heap it really holds: documents of a few
 * shapes, each copy made distinct by a comment, admitted twice (kept) through the real admission and store.
 *   node dist/bench/bench/documentBytes.js [copies] [the gateway's dist/]
 */

const SHAPES: Record<string, string> = {
  page: 'query Page($id: ID!) { engine(id: $id) { jobs(first: 20) { edges { cursor node { id type status startTime tasks { id name status } } } pageInfo { hasNextPage endCursor } totalCount } } }',
  dashboard: '{ engines(first: 7) { nodes { id name status latestJob { id status } jobs(first: 5) { nodes { id status type } } } } }',
  aliases: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: engines(first: 1) { totalCount }`).join(' ')} }`,
  comment: `{ engines(first: 1) { totalCount } } # ${'x'.repeat(4000)}`,
  // A text V8 holds at two bytes a character, and a block string whose value is a string of its own.
  wide: `query W($x: ID = ${'"'.repeat(3)}${'\u0100'.repeat(15).concat('\n').repeat(250)}${'"'.repeat(3)}) { engine(id: $x) { id } }`,
  escaped: `query E($x: ID = "${'\\n'.repeat(2000)}") { engine(id: $x) { id } }`,
};

const gc = (globalThis as { gc?: () => void }).gc;
const copies = Number(process.argv[2] ?? 5000);
const schema = buildGatewaySchema();
const config = loadConfig({});

// Each shape in a process of its own: one shape's garbage is never counted against, or for, another's.
const shape = process.argv[4];
if (shape !== undefined) weigh(shape, SHAPES[shape]!);
else {
  console.log('| Shape | Characters | Heap per document | Charged per document | Charged / heap |');
  console.log('|---|---:|---:|---:|---:|');
  for (const name of Object.keys(SHAPES)) {
    const args = ['--expose-gc', __filename, String(copies), dist, name];
    process.stdout.write(execFileSync(process.execPath, args, { encoding: 'utf8' }));
  }
}

function weigh(name: string, text: string): void {
  const store = new DocumentStore(4 * 1024 ** 3);
  const admission = createAdmission(config, schema, store);
  // One copy first: the shape's validation, kept by admission, is not a document's.
  admission.admit({ query: text }, 'websocket');
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let copy = 0; copy < copies; copy += 1) {
    // Its text is the document's too (its source).
    const query = `${text} # ${copy}`;
    for (let sight = 0; sight < 2; sight += 1) {
      const verdict = admission.admit({ query, variables: { id: 'a0000000-0000-4000-8000-000000000001' } }, 'http');
      if (Array.isArray(verdict)) throw new Error(`${name} refused: ${String(verdict[0])}`);
      // As Apollo does next: takes the hand-off.
      void store.get(`schema:${sha256(query)}`);
    }
  }
  gc!();
  gc!();
  const heap = (process.memoryUsage().heapUsed - before) / copies;
  const charged = store.stats.bytes / copies;
  if (store.stats.entries !== copies) throw new Error(`${name}: ${store.stats.entries} kept of ${copies}`);
  const row = [name, text.length, Math.round(heap), Math.round(charged), (charged / heap).toFixed(2)];
  console.log(`| ${row.join(' | ')} |`);
}
