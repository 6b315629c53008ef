import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isObjectType } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { resolvers } from '../../src/graphql/resolvers';
import { property, propertyOf } from '../../src/graphql/resolvers/property';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The promise of codegen.yml: every field of every type has a resolver in the maps, so a schema
 * field whose upstream model lacks it fails `npm test` at the type check, not as a `null` in
 * production. And the one performance trick it needs: plain property reads are taken off the
 * built schema again, for graphql's default resolver (and graphql-jit's direct reads).
 */
describe('resolver maps', () => {
  it('fail the type check when the schema gains a field the upstream model lacks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cse-resolvers-'));
    try {
      // A copy of the project's sources and schema, with one new Job field, regenerated.
      for (const part of ['src', 'schema', 'codegen.yml', 'tsconfig.json']) cpSync(join(root, part), join(dir, part), { recursive: true });
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const schemaFile = join(dir, 'schema', 'schema.graphql');
      const sdl = readFileSync(schemaFile, 'utf8').replace('type Job @key(fields: "engineId id") {', 'type Job @key(fields: "engineId id") {\n  "A field the upstream does not send."\n  retries: Int');
      writeFileSync(schemaFile, sdl);
      await run(join(root, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.yml'], { cwd: dir });
      const tsc = join(root, 'node_modules', '.bin', 'tsc');
      const checked = await run(tsc, ['-p', 'tsconfig.json', '--noEmit'], { cwd: dir }).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
      expect(checked).toMatch(/src\/graphql\/resolvers\/Job\.ts.*missing the following properties from type 'JobResolvers': retries|Property 'retries' is missing/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('has a resolver for every field of every object type of the schema', () => {
    const schema = buildGatewaySchema();
    const map = resolvers as unknown as Record<string, Record<string, unknown>>;
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('_') || type.name.startsWith('__')) continue;
      for (const name of Object.keys(type.getFields())) {
        if (type.name === 'Query' && name.startsWith('_')) continue; // added by @apollo/subgraph
        expect({ field: `${type.name}.${name}`, declared: map[type.name]?.[name] !== undefined }).toEqual({ field: `${type.name}.${name}`, declared: true });
      }
    }
  });

  it('leaves a plain property read to the default resolver, and keeps every real translation', () => {
    const schema = buildGatewaySchema();
    const engine = schema.getType('Engine');
    if (!isObjectType(engine)) throw new Error('no Engine type');
    const fields = engine.getFields();
    // `flavor` reads `engine.flavor`: the default resolver does exactly that.
    expect(fields.flavor!.resolve).toBeUndefined();
    // `name` falls back to the id, `createTime` converts epoch ms: real resolvers stay.
    expect(fields.name!.resolve).toEqual(expect.any(Function));
    expect(fields.createTime!.resolve).toEqual(expect.any(Function));
    // Nothing marked as a property read is left on the schema: the guard against a read of
    // another property being taken for its field's own.
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type)) continue;
      for (const field of Object.values(type.getFields())) expect(propertyOf(field.resolve)).toBeUndefined();
    }
  });

  it('answers null for a missing property, as the default resolver does', () => {
    const read = property<{ a?: string | null; b: number }>();
    expect(read('a')({ b: 1 })).toBeNull();
    expect(read('b')({ b: 1 })).toBe(1);
    expect(propertyOf(read('a'))).toBe('a');
    expect(propertyOf(() => 1)).toBeUndefined();
  });
});
