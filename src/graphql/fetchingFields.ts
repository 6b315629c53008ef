import type { Resolvers } from './generated/resolvers-types';
import type { Freshness } from '../cache/freshness';

// The fields that fetch from the upstream, declared once: read by the cost estimate, the cache hints
// and the SDL's cost directives. A resolver that fetches without an entry fails fetchingFields.test.ts.

/** `Type.field` of the resolver maps, checked at compile time. */
type FieldCoordinate = {
  [T in keyof Resolvers & string]: `${T}.${Exclude<keyof NonNullable<Resolvers[T]>, '__resolveReference' | '__isTypeOf'> & string}`;
}[keyof Resolvers & string];

/** What one run of the field costs the upstream (its selection set counted on top). */
type UpstreamCost =
  /** `freeUnderItsEngine`: a job reached through its own engine, whose loader holds it. */
  | { readonly calls: 'one'; readonly freeUnderItsEngine?: true }
  /** A page of the first slicing argument given, or the default page size. */
  | { readonly calls: 'page'; readonly slicingArguments: readonly ['first', 'last'] }
  /** See engineReferenceBudget. */
  | { readonly calls: 'entities' };

export interface FetchingField {
  readonly cost: UpstreamCost;
  /** The objects under it were reached through their own engine. */
  readonly loadsEngine: boolean;
  readonly freshness: Freshness;
}

const ONE: UpstreamCost = { calls: 'one' };
const PAGE: UpstreamCost = { calls: 'page', slicingArguments: ['first', 'last'] };

/** `Query._entities` is @apollo/subgraph's: not in the codegen maps. */
export const FETCHING_FIELDS: Readonly<Partial<Record<FieldCoordinate | 'Query._entities', FetchingField>>> = {
  'Query.engine': { cost: ONE, loadsEngine: false, freshness: 'engine' },
  'Query.engines': { cost: PAGE, loadsEngine: false, freshness: 'list' },
  'Query.job': { cost: ONE, loadsEngine: false, freshness: 'job' },
  'Query._entities': { cost: { calls: 'entities' }, loadsEngine: false, freshness: 'shortest' },
  'Engine.latestJob': { cost: ONE, loadsEngine: true, freshness: 'job' },
  'Engine.jobs': { cost: PAGE, loadsEngine: true, freshness: 'list' },
  'Job.engine': { cost: { calls: 'one', freeUnderItsEngine: true }, loadsEngine: false, freshness: 'engine' },
};

export function fetchingField(parentType: string, fieldName: string): FetchingField | undefined {
  return FETCHING_FIELDS[`${parentType}.${fieldName}` as FieldCoordinate];
}
