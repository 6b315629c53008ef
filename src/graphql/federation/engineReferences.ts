import DataLoader from 'dataloader';
import type { Loaders } from '../../loaders/createLoaders';
import type { CseEngine } from '../../upstream/types';

export interface EngineReferenceOptions {
  /** More distinct references than this in one batch are looked up in engine-list pages first. */
  readonly listThreshold: number;
  /** Page size of those list calls (the upstream maximum: fewest calls). */
  readonly pageSize: number;
}

/**
 * How many engine-list pages after the first are worth loading: all the remaining ones when
 * that is fewer calls than one details call per engine still missing, otherwise none. (Loading
 * only some of them cannot be planned: the list does not say on which page an engine is.)
 *
 * @param total the list's `total`, as the first page reported it
 * @param missing distinct references the first page did not contain
 */
export function remainingPagesWorthLoading(total: number, pageSize: number, missing: number): number {
  const remaining = Math.max(0, Math.ceil(total / pageSize) - 1);
  return remaining > 0 && remaining < missing ? remaining : 0;
}

/**
 * The loader behind `Engine.__resolveReference`. A router sends every Engine reference of one
 * query in one `_entities` call, and @apollo/subgraph resolves them in one tick, so they arrive
 * here as one batch. Up to the threshold each costs one details call (through the operation's
 * engine loader, so ids already loaded cost nothing). Above it, engine-list pages are read first
 * — one call holds up to `pageSize` engines, and `enginePage` primes the engine loader with them —
 * and only the references the pages did not contain fall back to a details call (the list may
 * lag behind, or the engine may be gone: details answer that exactly).
 */
export function createEngineReferenceLoader(loaders: Loaders, options: EngineReferenceOptions): DataLoader<string, CseEngine | null> {
  return new DataLoader<string, CseEngine | null>(async (ids) => {
    if (ids.length > options.listThreshold) {
      try {
        await primeFromEngineList(loaders, ids, options.pageSize);
      } catch {
        // The list is only a shortcut: when it fails, each reference gets its own details call
        // below, which reports its own error.
      }
    }
    return Promise.all(ids.map((id) => loaders.engine.load(id).catch((error: unknown) => toError(error))));
  });
}

async function primeFromEngineList(loaders: Loaders, ids: readonly string[], pageSize: number): Promise<void> {
  const wanted = new Set(ids);
  const first = await loaders.enginePage.load({ index: 0, size: pageSize });
  for (const engine of first.data) wanted.delete(engine.id);
  const more = remainingPagesWorthLoading(first.total, pageSize, wanted.size);
  await Promise.all(Array.from({ length: more }, (_, i) => loaders.enginePage.load({ index: i + 1, size: pageSize })));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
