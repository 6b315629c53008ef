import { graphql } from './gql';

/**
 * The operations of the example, written with the `graphql()` function codegen generates from
 * them (`npm run codegen:examples`): each returns a typed document, so `client.query`,
 * `watchQuery` and `fetchMore` know the result and variable types without annotations. The text
 * must match what codegen saw exactly; a changed operation needs a new `codegen:examples` run,
 * and test/examples/codegen.test.ts fails until it has been done.
 */

/**
 * What a job list shows of a job. Every selection of a Job in this client spreads it, so every
 * Job written to the cache carries `engineId` and `id`, the fields it is keyed by (see cache.ts).
 */
export const JobListItem = graphql(`
  fragment JobListItem on Job {
    engineId
    id
    type
    status
    startTime
    durationMs
  }
`);

/**
 * The engines a picker offers, with how many jobs each has. `jobs(first: 0)` asks only for the
 * count; it costs one upstream list call per engine, which the gateway's upstream-cost limit
 * (`MAX_UPSTREAM_CALLS`, 50) allows for a page of 20.
 */
export const EngineOverview = graphql(`
  query EngineOverview($first: Int!) {
    engines(first: $first) {
      totalCount
      nodes {
        id
        name
        status
        jobs(first: 0) {
          totalCount
        }
      }
    }
  }
`);

/**
 * One page of an engine's jobs, newest first. Only `edges` are selected for the list: the cache
 * accumulates `edges` across pages (relayStylePagination), while any other connection field
 * (`nodes` included) would hold the last page's value only. Selecting only the engine's `id`
 * keeps each page at one upstream call: the job list alone answers it.
 */
export const EngineJobsPage = graphql(`
  query EngineJobsPage($engineId: ID!, $first: Int!, $after: String, $filter: JobFilter) {
    engine(id: $engineId) {
      id
      jobs(first: $first, after: $after, filter: $filter) {
        totalCount
        edges {
          cursor
          node {
            ...JobListItem
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/**
 * What this client shows of a task. Tasks live inside their job in the cache (cache.ts): every
 * selection of a job's tasks spreads this one, so a pushed job (WatchJob) replaces them with
 * objects as complete as JobDetails reads.
 */
export const JobTask = graphql(`
  fragment JobTask on Task {
    id
    jobId
    name
    type
    status
    order
    startTime
    endTime
    timedOut
    output
  }
`);

/** One job with its tasks (one upstream job-details call). */
export const JobDetails = graphql(`
  query JobDetails($engineId: ID!, $id: ID!) {
    job(engineId: $engineId, id: $id) {
      ...JobListItem
      tasks {
        ...JobTask
      }
    }
  }
`);

/**
 * A job's progress, pushed over WebSocket (see client.ts): its state at once, then each change;
 * the subscription completes after a terminal state. Each result is written to the cache under
 * the job's key, so a list or a details view that shows the job updates itself (its tasks through
 * JobTask, as JobDetails reads them).
 */
export const WatchJob = graphql(`
  subscription WatchJob($engineId: ID!, $id: ID!) {
    jobUpdated(engineId: $engineId, id: $id) {
      ...JobListItem
      tasks {
        ...JobTask
      }
    }
  }
`);
