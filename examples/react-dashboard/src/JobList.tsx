import { NetworkStatus } from '@apollo/client';
import { useQuery, useSubscription } from '@apollo/client/react';
import { useState } from 'react';
import { shownErrors } from './errors';
import { ErrorBanner } from './ErrorBanner';
import { EngineJobEvents, EngineJobsPage } from './operations';

export const JOBS_PER_PAGE = 10;

/**
 * An engine's jobs, newest first, a page at a time: "Load more" asks for the page after the last
 * cursor with `fetchMore`, and the cache's Relay-style merge appends it to the list.
 */
export function JobList({ engineId, selected, onSelect }: { engineId: string; selected?: string; onSelect(jobId: string): void }) {
  const { data, error, fetchMore, refetch, networkStatus } = useQuery(EngineJobsPage, {
    variables: { engineId, first: JOBS_PER_PAGE },
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  // Changed jobs need nothing here: the cache updates their rows. New ones are counted until a refresh shows them.
  const [created, setCreated] = useState(0);
  useSubscription(EngineJobEvents, {
    variables: { engineId },
    onData: ({ data: event }) => {
      if (event.data?.engineJobEvents.kind === 'CREATED') setCreated((count) => count + 1);
    },
  });
  const connection = data?.engine?.jobs;
  const edges = connection?.edges ?? [];
  const busy = networkStatus === NetworkStatus.fetchMore || networkStatus === NetworkStatus.refetch;
  return (
    <section className="jobs">
      <h2>
        Jobs of {data?.engine?.name ?? engineId}{' '}
        {connection && <small data-testid="jobs-count">({edges.length} of {connection.totalCount})</small>}
        <button
          className="small"
          onClick={() => {
            setCreated(0);
            void refetch();
          }}
          disabled={busy}
        >
          Refresh
        </button>
        {created > 0 && (
          <span className="new" data-testid="new-jobs">
            {created === 1 ? '1 new job' : `${created} new jobs`}
          </span>
        )}
      </h2>
      <ErrorBanner errors={shownErrors(error)} partial={connection !== undefined} />
      {networkStatus === NetworkStatus.loading && <p>Loading…</p>}
      {data?.engine === null && <p>This engine no longer exists.</p>}
      <table>
        <tbody data-testid="jobs">
          {edges.map(({ node: job }) => (
            <tr key={job.id} className={job.id === selected ? 'selected' : ''} onClick={() => onSelect(job.id)} data-testid="job">
              <td>#{job.id}</td>
              <td>{job.type}</td>
              <td className={`status ${job.status}`}>{job.status}</td>
              <td>{job.startTime === null ? '' : new Date(job.startTime).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {connection?.pageInfo.hasNextPage && (
        <button onClick={() => void fetchMore({ variables: { after: connection.pageInfo.endCursor } })} disabled={busy} data-testid="load-more">
          {busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
