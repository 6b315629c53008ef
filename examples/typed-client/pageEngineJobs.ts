import { NetworkStatus, type ApolloClient } from '@apollo/client';
import { filter, firstValueFrom } from 'rxjs';
import type { EngineJobsPageQueryVariables, JobFilter, JobListItemFragment } from './gql/graphql';
import { EngineJobsPage } from './operations';

export interface PageEngineJobsOptions {
  /** Jobs per request (`first`): 1 to the gateway's `CSE_MAX_PAGE_SIZE` (100 by default). */
  readonly pageSize: number;
  /** Only the jobs that started in this range; the cache keeps each filter's list apart. */
  readonly filter?: JobFilter;
  /** Called after each page has arrived, with how many jobs the cache holds for the list so far. */
  readonly onPage?: (page: { readonly number: number; readonly jobs: number; readonly totalCount: number }) => void;
}

export interface EngineJobs {
  /** Every job of the list, in the gateway's order (newest first), as the cache merged the pages. */
  readonly jobs: readonly JobListItemFragment[];
  /** The gateway's `totalCount` on the last page. */
  readonly totalCount: number;
  /** Requests made: the first page, then one `fetchMore` per further page. */
  readonly pages: number;
  readonly fetchMoreCalls: number;
}

/**
 * Walks one engine's jobs from the newest: the first page through a watched query, every
 * further page with `fetchMore({ variables: { after: endCursor } })` while `hasNextPage`, as a
 * "load more" button would. The pages are not concatenated here: the cache's
 * `relayStylePagination` policy merges them into the one stored list, which is what a UI
 * watching the query would render and what this returns.
 *
 * Resolves `null` when the engine does not exist (or the caller's project cannot see it).
 * Rejects with Apollo's error (`CombinedGraphQLErrors` carries each `extensions.code`) when a
 * page fails; the jobs of the pages before it stay in the cache.
 */
export async function pageEngineJobs(client: ApolloClient, engineId: string, options: PageEngineJobsOptions): Promise<EngineJobs | null> {
  const { pageSize, onPage } = options;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageEngineJobs: pageSize must be a positive integer, got ${String(pageSize)}`);
  }
  // `filter` is part of the list's cache key: left out unless given, so the unfiltered list is
  // the same stored field whichever operation reads it.
  const variables: EngineJobsPageQueryVariables = { engineId, first: pageSize };
  if (options.filter !== undefined) variables.filter = options.filter;
  const query = client.watchQuery({
    query: EngineJobsPage,
    variables,
    // A walk starts from the newest job on the network, not from a list cached earlier. Its
    // first page has no `after`, so it replaces the stored list instead of extending it: walking
    // twice never doubles the jobs.
    fetchPolicy: 'network-only',
  });
  // A watched query runs only while something observes it, like a mounted component's query.
  // This subscription starts the first request and keeps the query alive for the walk.
  const subscription = query.subscribe({});
  try {
    const first = await firstValueFrom(query.pipe(filter((result) => result.networkStatus !== NetworkStatus.loading)));
    if (first.error !== undefined) throw first.error;
    if (first.dataState !== 'complete') throw new Error(`pageEngineJobs: the first page of engine ${engineId} arrived incomplete`);
    if (first.data.engine === null) return null;

    let page = first.data.engine.jobs;
    let pages = 1;
    const stored = () => readStoredList(client, variables);
    onPage?.({ number: pages, jobs: stored().edges.length, totalCount: page.totalCount });
    while (page.pageInfo.hasNextPage) {
      const after = page.pageInfo.endCursor;
      // The gateway sends an endCursor whenever the page has items, and hasNextPage is never
      // true after an empty page; anything else would loop forever, so it is refused.
      if (after === null || page.edges.length === 0) {
        throw new Error(`pageEngineJobs: engine ${engineId} page ${pages} says hasNextPage but has no end cursor`);
      }
      // `variables` are merged into the query's own: engineId, first and filter stay.
      const more = await query.fetchMore({ variables: { after } });
      pages += 1;
      // The engine can be deleted between two pages.
      if (more.data.engine === null) throw new Error(`pageEngineJobs: engine ${engineId} disappeared while paging`);
      page = more.data.engine.jobs;
      onPage?.({ number: pages, jobs: stored().edges.length, totalCount: page.totalCount });
    }

    const list = stored();
    return { jobs: list.edges.map((edge) => edge.node), totalCount: list.totalCount, pages, fetchMoreCalls: pages - 1 };
  } finally {
    subscription.unsubscribe();
  }
}

/** The list as the cache holds it now: every page merged (the paging arguments are not part of its key). */
function readStoredList(client: ApolloClient, variables: EngineJobsPageQueryVariables) {
  const data = client.readQuery({ query: EngineJobsPage, variables });
  if (data?.engine == null) throw new Error(`pageEngineJobs: the cache lost the job list of engine ${variables.engineId}`);
  return data.engine.jobs;
}
