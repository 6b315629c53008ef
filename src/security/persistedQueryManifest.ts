import { readFileSync } from 'node:fs';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { ConfigError } from '../config/loadConfig';

/** One operation of Apollo's persisted query list manifest. */
export interface PersistedOperation {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly body: string;
}

export interface PersistedQueryManifest {
  readonly operations: readonly PersistedOperation[];
}

const VARIABLE = 'PERSISTED_QUERIES_MANIFEST';
const TYPES = new Set(['query', 'mutation', 'subscription']);

/**
 * Reads and checks a manifest in Apollo's persisted-query-list format
 * (`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{id,name,type,body}]}`,
 * what `@apollo/generate-persisted-query-manifest` writes). Every body must parse and validate
 * against the gateway's schema: a list that cannot be served stops start-up, like bad config.
 *
 * @throws ConfigError naming PERSISTED_QUERIES_MANIFEST, the path and what is wrong.
 */
export function loadPersistedQueryManifest(path: string, schema: GraphQLSchema): PersistedQueryManifest {
  const fail = (problem: string): never => {
    throw new ConfigError(VARIABLE, path, `an Apollo persisted query manifest (${problem})`);
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('the file is not JSON');
  }
  if (!isObject(json)) return fail('expected a JSON object');
  if (json.format !== 'apollo-persisted-query-manifest') return fail('"format" must be "apollo-persisted-query-manifest"');
  if (json.version !== 1) return fail('"version" must be 1');
  if (!Array.isArray(json.operations)) return fail('"operations" must be an array');
  const ids = new Set<string>();
  const operations = json.operations.map((entry: unknown, index): PersistedOperation => {
    const at = `operations[${index}]`;
    if (!isObject(entry)) return fail(`${at} must be an object`);
    const { id, name, type, body } = entry;
    if (typeof id !== 'string' || id === '') return fail(`${at}.id must be a non-empty string`);
    if (ids.has(id)) return fail(`${at}.id "${id}" appears twice`);
    ids.add(id);
    if (typeof name !== 'string') return fail(`${at}.name must be a string`);
    if (typeof type !== 'string' || !TYPES.has(type)) return fail(`${at}.type must be query, mutation or subscription`);
    if (typeof body !== 'string' || body.trim() === '') return fail(`${at}.body must be a GraphQL document`);
    let errors: readonly { message: string }[];
    try {
      errors = validate(schema, parse(body));
    } catch (error) {
      return fail(`${at}.body does not parse: ${(error as Error).message}`);
    }
    if (errors.length > 0) return fail(`${at}.body is not valid against the schema: ${errors[0]!.message}`);
    return { id, name, type: type as PersistedOperation['type'], body };
  });
  return { operations };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
