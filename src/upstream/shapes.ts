/**
 * Cheap guards on the top level of upstream bodies. They check only what the gateway cannot
 * work without (the list envelope, an object with an id) and return the input itself, not a
 * copy: nested fields are read defensively by the mapping layer instead.
 */
import type { CseEngine, CseJob, CseListBody } from './types';
import { UpstreamBodyError } from './parseJson';

type Obj = Record<string, unknown>;

/** The largest GraphQL `Int`. */
const MAX_TOTAL = 2_147_483_647;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A list answer: `{ total, data: [...] }`.
 *
 * Also accepts the variant an older copy of the API page describes, an array holding one such
 * object. A missing (or null) `total` counts `data`.
 *
 * @throws {UpstreamBodyError} for any other shape, or a `total` that is not a non-negative integer
 */
export function asListBody(x: unknown): CseListBody<unknown> {
  const body = Array.isArray(x) && x.length === 1 ? (x[0] as unknown) : x;
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new UpstreamBodyError('The upstream list body has no `data` array.');
  }
  const total = body.total;
  if (total === undefined || total === null) {
    // Mutating would be cheaper, but the guard promises not to touch the body.
    return { total: body.data.length, data: body.data as unknown[] };
  }
  // GraphQL's Int (`totalCount: Int!`) ends at 2^31 - 1; a larger total cannot be answered, and
  // is no real count of engines or jobs anyway.
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0 || total > MAX_TOTAL) {
    throw new UpstreamBodyError('The upstream list body has a `total` that is not a count.');
  }
  return body as unknown as CseListBody<unknown>;
}

/**
 * An engine: an object whose `id` is a non-empty string.
 *
 * @throws {UpstreamBodyError} otherwise
 */
export function asEngine(x: unknown): CseEngine {
  if (isObject(x) && typeof x.id === 'string' && x.id !== '') return x as unknown as CseEngine;
  throw new UpstreamBodyError('The upstream engine has no id.');
}

function isIntegerId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  return typeof id === 'string' && /^\d+$/.test(id);
}

/**
 * A job: an object whose `id` is a non-negative integer, or a digit string (what the body
 * parser makes of an integer beyond 2^53).
 *
 * @throws {UpstreamBodyError} otherwise
 */
export function asJob(x: unknown): CseJob {
  if (isObject(x) && isIntegerId(x.id)) return x as unknown as CseJob;
  throw new UpstreamBodyError('The upstream job has no integer id.');
}
