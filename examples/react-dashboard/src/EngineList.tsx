import { useQuery } from '@apollo/client/react';
import { shownErrors } from './errors';
import { ErrorBanner } from './ErrorBanner';
import { EngineOverview } from './operations';

/** Engines per page the picker offers; 50 is past the gateway's upstream-call budget on purpose (see EngineOverview). */
export const ENGINE_PAGE_SIZES = [10, 20, 50] as const;

export function EngineList({ pageSize, selected, onSelect }: { pageSize: number; selected?: string; onSelect(engineId: string): void }) {
  // errorPolicy 'all': an engine whose latest job failed to load still lists, beside the error.
  const { data, error, loading } = useQuery(EngineOverview, { variables: { first: pageSize }, errorPolicy: 'all' });
  const errors = shownErrors(error);
  // With errorPolicy 'all', `data` is null when an error nulled the whole answer (a refused token).
  const overview = data?.engines;
  const engines = overview?.nodes ?? [];
  const failedAt = new Set(errors.map((entry) => entry.path));
  return (
    <section className="engines">
      <h2>Engines {overview && <small>({engines.length} of {overview.totalCount})</small>}</h2>
      <ErrorBanner errors={errors} partial={overview !== undefined} />
      {loading && overview === undefined && <p>Loading…</p>}
      <ul data-testid="engines">
        {engines.map((engine, index) => (
          <li key={engine.id}>
            <button className={engine.id === selected ? 'selected' : ''} onClick={() => onSelect(engine.id)} data-testid="engine">
              <span className="name">{engine.name}</span> <span className={`status ${engine.status}`}>{engine.status}</span>
              <span className="latest">
                {failedAt.has(`engines.nodes.${index}.latestJob`) ? (
                  <em data-testid="latest-job-unavailable">latest job unavailable</em>
                ) : engine.latestJob ? (
                  `latest #${engine.latestJob.id} ${engine.latestJob.status}`
                ) : (
                  'no jobs'
                )}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
