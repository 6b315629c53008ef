/**
 * Guards on the top level of upstream bodies: only what the gateway cannot work without, returning
 * the input itself; the mapping layer reads nested fields defensively.
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
 * A list answer: `{ total, data: [...] }`, or an array holding one (an older API page's variant).
 * A missing `total` counts `data`; one past GraphQL's Int is no real count.
 * @throws {UpstreamBodyError} for any other shape, or a `total` that is not a count
 */
export function asListBody(x: unknown): CseListBody<unknown> {
  const body = Array.isArray(x) && x.length === 1 ? (x[0] as unknown) : x;
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new UpstreamBodyError('The upstream list body has no `data` array.');
  }
  const total = body.total;
  if (total === undefined || total === null) {
    return { total: body.data.length, data: body.data as unknown[] };
  }
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0 || total > MAX_TOTAL) {
    throw new UpstreamBodyError('The upstream list body has a `total` that is not a count.');
  }
  return body as unknown as CseListBody<unknown>;
}

/** An engine: an object whose `id` is a non-empty string. @throws {UpstreamBodyError} otherwise */
export function asEngine(x: unknown): CseEngine {
  if (isObject(x) && typeof x.id === 'string' && x.id !== '') return x as unknown as CseEngine;
  throw new UpstreamBodyError('The upstream engine has no id.');
}

function isIntegerId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  return typeof id === 'string' && /^\d+$/.test(id);
}

/** A job: an object whose `id` is a non-negative integer or a digit string. @throws {UpstreamBodyError} otherwise */
export function asJob(x: unknown): CseJob {
  if (isObject(x) && isIntegerId(x.id)) return x as unknown as CseJob;
  throw new UpstreamBodyError('The upstream job has no integer id.');
}
