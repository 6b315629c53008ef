import { InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import type { JobListItemFragment } from './gql/graphql';

/**
 * The cache policies of examples/typed-client/cache.ts, whose comment says why each: `Job` keyed
 * by `engineId` and `id` (job ids repeat across engines), `Task` kept inside its job, and
 * `Engine.jobs` merged Relay-style so `fetchMore` pages accumulate into one list.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Engine: { keyFields: ['id'], fields: { jobs: relayStylePagination(['filter']) } },
      Job: { keyFields: ['engineId', 'id'] satisfies Array<keyof JobListItemFragment> },
      Task: { keyFields: false },
    },
  });
}
