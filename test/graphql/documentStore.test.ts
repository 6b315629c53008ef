import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { refusalOf } from '../../src/errors/refusedText';
import { DocumentStore, weigh } from '../../src/graphql/documentStore';

/**
 * Admission validates a document and puts it in the store for Apollo to find by its hash. Over
 * HTTP every document validated is handed to Apollo's next `get`; one admitted is kept from its second
 * sight, over either transport (most are sent once).
 */
/** What admission's parser counts of it: the store charges 280 bytes a node, plus the text (no strings here). */
const WEIGHT = { nodes: 11, stringChars: 0 };
const charged = (text: DocumentNode) => WEIGHT.nodes * 280 + (text.loc?.end ?? 0);
/** Parsed, and weighed as admission weighs what it parses. */
const weighed = (text: string) => {
  const parsed = parse(text);
  weigh(parsed, WEIGHT);
  return parsed;
};
const document = weighed('{ engines(first: 1) { totalCount } }');

it('hands a document to the next get only, and keeps an admitted one from its second sight', async () => {
  const store = new DocumentStore(1 << 20);
  store.handOff('h1', document);
  store.keep('h1', document);
  expect(store.byHash('h1')).toBe(document);
  await expect(store.get('apq-prefix:h1')).resolves.toBe(document);
  await expect(store.get('h1')).resolves.toBeUndefined();
  expect(store.byHash('h1')).toBeUndefined();
  store.handOff('h1', document);
  store.keep('h1', document);
  await expect(store.get('h1')).resolves.toBe(document);
  await expect(store.get('h1')).resolves.toBe(document);
});

it("hands a refused text's stand-in, holding its refusal, to the next get only, and never to admission", async () => {
  const store = new DocumentStore(1 << 20);
  const refusal = [new GraphQLError('Cannot query field "nope" on type "Query".')];
  store.handOffRefusal('r1', refusal, '{ nope }');
  expect(store.byHash('r1')).toBeUndefined();
  const standIn = await store.get('schema:r1');
  expect(standIn).toMatchObject({ kind: 'Document', definitions: [] });
  expect(refusalOf(standIn)).toBe(refusal);
  expect(refusalOf(document)).toBeUndefined();
  await expect(store.get('schema:r1')).resolves.toBeUndefined();
});

it('keeps what no get follows (WebSocket) from its second sight too, and nothing Apollo parsed itself', async () => {
  const store = new DocumentStore(1 << 20);
  store.keep('ws', document);
  expect(store.byHash('ws')).toBeUndefined();
  store.keep('ws', document);
  expect(store.byHash('ws')).toBe(document);
  await expect(store.delete('schema:ws')).resolves.toBe(true);
  expect(store.byHash('ws')).toBeUndefined();
  // Apollo sets what it parsed once its hand-off was dropped: admission may have refused it.
  await store.set('schema:apollo', document);
  await expect(store.get('schema:apollo')).resolves.toBeUndefined();
});

it("reads Apollo's key after its schema hash only: persisted query ids may hold colons", async () => {
  const store = new DocumentStore(1 << 20);
  const other = weighed('{ engines(first: 2) { totalCount } }');
  for (const [id, each] of [['EngineName:v1', document], ['Engines:v1', other]] as const) {
    store.keep(id, each);
    store.keep(id, each);
  }
  await expect(store.get('schemahash:EngineName:v1')).resolves.toBe(document);
  await expect(store.get('schemahash:Engines:v1')).resolves.toBe(other);
  await expect(store.get('schemahash:v1')).resolves.toBeUndefined();
});

it('drops hand-offs never taken, oldest first, past a bound', async () => {
  const store = new DocumentStore(1 << 20);
  for (let i = 0; i < 1000; i += 1) store.handOff(`h${i}`, document);
  expect(store.byHash('h0')).toBeUndefined();
  expect(store.byHash('h999')).toBe(document);
  await expect(store.delete('h999')).resolves.toBe(true);
  expect(store.byHash('h999')).toBeUndefined();
});

it('keeps documents within DOCUMENT_CACHE_MAX_BYTES, least recently used dropped first', async () => {
  // Its nodes and its text, not its comment's characters many times over: about 20 of these fit in 64 KiB.
  const store = new DocumentStore(64 * 1024);
  const big = weighed(`{ engines(first: 1) { totalCount } } # ${'x'.repeat(100)}`);
  for (let i = 0; i < 200; i += 1) {
    store.keep(`h${i}`, big);
    store.keep(`h${i}`, big);
  }
  const kept = Array.from({ length: 200 }, (_, i) => store.byHash(`h${i}`) !== undefined);
  expect(kept.filter(Boolean).length).toBe(Math.floor((64 * 1024) / charged(big)));
  expect(kept.lastIndexOf(false)).toBe(kept.indexOf(true) - 1);
  expect(kept[199]).toBe(true);
});

it('holds hand-offs never taken within a quarter of DOCUMENT_CACHE_MAX_BYTES, however large the documents', () => {
  const store = new DocumentStore(64 * 1024);
  const big = weighed(`{ engines(first: 1) { totalCount } } # ${'x'.repeat(1000)}`);
  // Validated, then refused before Apollo's get: nothing takes them.
  for (let i = 0; i < 100; i += 1) store.handOff(`h${i}`, big);
  const held = Array.from({ length: 100 }, (_, i) => store.byHash(`h${i}`) !== undefined).filter(Boolean).length;
  expect(held).toBe(Math.floor((64 * 1024) / 4 / charged(big)));
  expect(store.byHash('h99')).toBe(big);
});
