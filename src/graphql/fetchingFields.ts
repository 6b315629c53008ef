import type { Resolvers } from './generated/resolvers-types';

/**
 * The fields that fetch from the upstream, declared once: what each costs the upstream and how
 * long its value may be reused. The upstream-cost estimate (security/estimateUpstreamCalls) and
 * the cache hints (plugins/cacheHints) both read this table, and nothing else; a resolver that
 * reaches a loader or the upstream without an entry here fails `test/graphql/fetchingFields.test.ts`.
 * The subgraph SDL carries the table too, as the cost directives of Federation 2.9 (`@cost`,
 * `@listSize`) that a router's demand control reads: written from here by
 * federation/costDirectives, never by hand, so the router and the gateway count alike.
 */

/** `Type.field` for every field of the resolver maps (codegen), checked at compile time. */
export type FieldCoordinate = {
  [T in keyof Resolvers & string]: `${T}.${Exclude<keyof NonNullable<Resolvers[T]>, '__resolveReference' | '__isTypeOf'> & string}`;
}[keyof Resolvers & string];

/** What one run of the field costs the upstream (its selection set counted on top). */
export type UpstreamCost =
  /** One call (engine or job details). `freeUnderItsEngine`: none when the job was reached through its own engine, whose loader holds it. */
  | { readonly calls: 'one'; readonly freeUnderItsEngine?: true }
  /**
   * One list call; its `nodes`/`edges` hold a page of items: the value of the first slicing
   * argument given, or the default page size (cost-directive `@listSize(slicingArguments:)`).
   */
  | { readonly calls: 'page'; readonly slicingArguments: readonly ['first', 'last'] }
  /** Federation `_entities`: what its batching makes of the representations (see engineReferenceBudget). */
  | { readonly calls: 'entities' };

/** Which TTL bounds the freshness of a field's value. */
export type Freshness =
  | 'list'
  | 'engine'
  /** A job: `CACHE_TERMINAL_JOB_TTL_MS` when the job resolved is done for good, `CACHE_JOB_TTL_MS` otherwise. */
  | 'job'
  /** Unknown sources count as the freshest kind there is, never the most durable. */
  | 'shortest';

export interface FetchingField {
  readonly cost: UpstreamCost;
  /** The objects under it were reached through their own engine (its loader holds the engine). */
  readonly loadsEngine: boolean;
  readonly freshness: Freshness;
}

const ONE: UpstreamCost = { calls: 'one' };
const PAGE: UpstreamCost = { calls: 'page', slicingArguments: ['first', 'last'] };

/** `_entities` is added by @apollo/subgraph: not in the codegen maps, declared by name. */
export type EntitiesCoordinate = 'Query._entities';

export const FETCHING_FIELDS: Readonly<Partial<Record<FieldCoordinate | EntitiesCoordinate, FetchingField>>> = {
  'Query.engine': { cost: ONE, loadsEngine: false, freshness: 'engine' },
  'Query.engines': { cost: PAGE, loadsEngine: false, freshness: 'list' },
  'Query.job': { cost: ONE, loadsEngine: false, freshness: 'job' },
  'Query._entities': { cost: { calls: 'entities' }, loadsEngine: false, freshness: 'shortest' },
  'Engine.latestJob': { cost: ONE, loadsEngine: true, freshness: 'job' },
  'Engine.jobs': { cost: PAGE, loadsEngine: true, freshness: 'list' },
  'Job.engine': { cost: { calls: 'one', freeUnderItsEngine: true }, loadsEngine: false, freshness: 'engine' },
};

/** The declaration of `Type.field`, or `undefined` for a field that does not fetch. */
export function fetchingField(parentType: string, fieldName: string): FetchingField | undefined {
  return FETCHING_FIELDS[`${parentType}.${fieldName}` as FieldCoordinate];
}
