import { InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import type { JobListItemFragment } from './gql/graphql';

/**
 * The normalised cache for this schema. Each choice follows from what the gateway promises about
 * identity (schema/schema.graphql, and the federation keys it declares):
 *
 * - `Engine` by `id`: engine ids are unique in a project. Apollo would key it by `id` unprompted
 *   (as `Engine:<id>`); stated so that every key of this schema is in one place, it is stored
 *   as `Engine:{"id":"<id>"}`, the same form as a Job's key.
 * - `Job` by `engineId` and `id`: job ids are unique only within their engine, so two engines
 *   can each have a job `10001`. Keyed by `id` alone they would share one cache entry, and
 *   whichever was written last would show up in both engines' lists. Every Job selection must
 *   therefore include both fields: writing a Job without them fails loudly ("Missing field").
 *   The operations get them from the `JobListItem` fragment; the `satisfies` clause below stops
 *   compiling if that fragment ever loses one.
 * - `Task` not normalised: tasks are only ever reached through their job (there is no query for
 *   a task by id), and the schema promises no identity for them. `jobId` + `id` would not be
 *   one either — job ids repeat across engines, and a Task has no `engineId`. So tasks live
 *   inside their Job's entry, which is keyed correctly, and are replaced with it.
 * - `Engine.jobs` merged Relay-style: `first` and `after` are paging arguments, not part of the
 *   field's identity, so every page of an engine's list lands in one stored connection; edges
 *   are spliced in after the edge whose cursor is `after` (a repeated page replaces what followed
 *   it rather than duplicating it; a page without `after` starts the list afresh). `filter` is
 *   part of the identity: a time-filtered list is a different list, stored beside the full one.
 *   Only `edges` and `pageInfo` accumulate; other connection fields (`totalCount`, and `nodes`
 *   if selected) hold the last page's value.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Engine: {
        keyFields: ['id'],
        fields: {
          jobs: relayStylePagination(['filter']),
        },
      },
      Job: {
        keyFields: ['engineId', 'id'] satisfies Array<keyof JobListItemFragment>,
      },
      Task: {
        keyFields: false,
      },
    },
  });
}
