import DataLoader from 'dataloader';
import type { PageCall } from '../pagination/pages';
import type { ListPage } from '../pagination/resolveConnection';
import type { CseApi, JobTimeFilter } from '../upstream/CseApi';
import type { CseEngine, CseJob } from '../upstream/types';

interface JobKey {
  readonly engineId: string;
  readonly jobId: string;
}

interface JobPageKey {
  readonly engineId: string;
  readonly filter: JobTimeFilter;
  readonly call: PageCall;
}

export type Loaders = ReturnType<typeof createLoaders>;

const pageKey = (call: PageCall) => `${call.index}:${call.size}`;
const jobKey = (key: JobKey) => `${key.engineId}/${key.jobId}`;
const jobPageKey = (key: JobPageKey) =>
  `${key.engineId}|${key.filter.from ?? ''}|${key.filter.to ?? ''}|${pageKey(key.call)}`;

export type BatchObserver = (loader: 'enginePage' | 'engine' | 'jobPage' | 'job', size: number) => void;

/** DataLoader's contract: one result per key, in key order, an Error (never undefined) on failure. */
export function settleEach<K, V>(keys: readonly K[], load: (key: K) => Promise<V>): Promise<Array<V | Error>> {
  return Promise.all(keys.map((key) => load(key).catch((error: unknown) => toError(error))));
}

export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One operation's, never shared across callers: objects of a list page reused when asked for by id. */
export function createLoaders(api: CseApi, observeBatch?: BatchObserver) {
  function observed<K, V>(loader: Parameters<BatchObserver>[0], batch: DataLoader.BatchLoadFn<K, V>) {
    return (keys: readonly K[]) => {
      observeBatch?.(loader, keys.length);
      return batch(keys);
    };
  }
  const listedJobs = new Map<string, CseJob>();
  // Job-list calls in flight per engine: a job asked for by id waits for them, since the page
  // likely holds it (an engine's `latestJob` heads its newest-first list).
  const listsInFlight = new Map<string, Set<Promise<unknown>>>();

  const enginePage = new DataLoader<PageCall, ListPage<CseEngine>, string>(
    observed('enginePage', (calls) => settleEach(calls, async (call) => {
      const page = await api.listEngines(call);
      for (const engine of page.data) engineLoader.prime(engine.id, engine);
      return page;
    })),
    { cacheKeyFn: pageKey },
  );

  const engineLoader = new DataLoader<string, CseEngine | null>(
    observed('engine', (ids) => settleEach(ids, (id) => api.getEngine(id))),
  );

  const jobPage = new DataLoader<JobPageKey, ListPage<CseJob> | null, string>(
    observed('jobPage', (keys) => settleEach(keys, async (key) => {
      const page = await api.listJobs(key.engineId, key.filter, key.call);
      for (const job of page?.data ?? []) {
        listedJobs.set(jobKey({ engineId: key.engineId, jobId: String(job.id) }), job);
      }
      return page;
    })),
    { cacheKeyFn: jobPageKey },
  );

  const job = new DataLoader<JobKey, CseJob | null, string>(
    observed('job', async (keys) => {
      const engines = new Set(keys.map((key) => key.engineId));
      const waits = [...engines].flatMap((engineId) => [...(listsInFlight.get(engineId) ?? [])]);
      if (waits.length > 0) await Promise.allSettled(waits);
      return settleEach(keys, async (key) => listedJobs.get(jobKey(key)) ?? api.getJob(key.engineId, key.jobId));
    }),
    { cacheKeyFn: jobKey },
  );

  /** The job-list loader stays private: no load bypasses `job`'s wait. */
  function loadJobPage(key: JobPageKey): Promise<ListPage<CseJob> | null> {
    const promise = jobPage.load(key);
    let inFlight = listsInFlight.get(key.engineId);
    if (inFlight === undefined) listsInFlight.set(key.engineId, (inFlight = new Set()));
    if (!inFlight.has(promise)) {
      inFlight.add(promise);
      const settle = () => inFlight.delete(promise);
      promise.then(settle, settle);
    }
    return promise;
  }

  return { enginePage, engine: engineLoader, job, loadJobPage };
}
