import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/loadConfig';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { loadPersistedQueryManifest, MANIFEST_MAX_BYTES } from '../../src/security/persistedQueries';

const schema = buildGatewaySchema();
const dir = mkdtempSync(join(tmpdir(), 'pq-manifest-'));
const write = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const manifest = (operations: unknown[]) => ({ format: 'apollo-persisted-query-manifest', version: 1, operations });
const op = { id: 'a1', name: 'One', type: 'query', body: 'query One { engine(id: "e") { id } }' };

describe('loadPersistedQueryManifest', () => {
  it('reads a valid manifest', () => {
    expect(loadPersistedQueryManifest(write('ok.json', manifest([op])), schema)).toEqual([op]);
  });

  it.each([
    ['a missing file', null, /cannot read the file: ENOENT/],
    ['not JSON', '{', /not JSON/],
    ['another format', { format: 'other', version: 1, operations: [] }, /"format"/],
    ['another version', { format: 'apollo-persisted-query-manifest', version: 2, operations: [] }, /"version"/],
    ['no operations array', { format: 'apollo-persisted-query-manifest', version: 1 }, /"operations"/],
    ['an operation without id', manifest([{ ...op, id: '' }]), /operations\[0\]\.id/],
    ['a repeated id', manifest([op, { ...op, name: 'Two' }]), /appears twice/],
    ['a bad type', manifest([{ ...op, type: 'fetch' }]), /operations\[0\]\.type/],
    ['a body that does not parse', manifest([{ ...op, body: 'query {' }]), /does not parse/],
    ['a body that does not validate', manifest([{ ...op, body: '{ nope }' }]), /not valid against the schema/],
    ['a directory', 'directory', /not a regular file/],
    ['a file past the bound (64 MiB)', 'huge', /larger than 64 MiB/],
  ])('refuses %s, naming PERSISTED_QUERIES_MANIFEST and the path', (name, content, problem) => {
    const path = content === null ? join(dir, 'missing.json') : write(`${name.replace(/\W/g, '_')}.json`, content);
    if (content === 'directory') {
      rmSync(path);
      mkdirSync(path);
    }
    // Sparse: its size is past the bound, its blocks are not.
    if (content === 'huge') truncateSync(path, MANIFEST_MAX_BYTES + 1);
    expect(() => loadPersistedQueryManifest(path, schema)).toThrow(ConfigError);
    expect(() => loadPersistedQueryManifest(path, schema)).toThrow(/PERSISTED_QUERIES_MANIFEST/);
    expect(() => loadPersistedQueryManifest(path, schema)).toThrow(problem);
    expect(() => loadPersistedQueryManifest(path, schema)).toThrow(path);
  });
});
