import DataLoader from 'dataloader';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import type { Loaders } from '../../loaders/createLoaders';
import type { CseEngine } from '../../upstream/types';

export interface EngineReferenceOptions {
  /** More distinct references than this in one batch are looked up in engine-list pages first. */
  readonly listThreshold: number;
  /** Page size of those list calls (the upstream maximum: fewest calls). */
  readonly pageSize: number;
  /** Engine-list pages one batch reads at most (`FEDERATION_ENGINE_LIST_MAX_PAGES`). */
  readonly maxListPages: number;
}

/**
 * The most upstream calls one `_entities` batch of `references` engine references makes — what
 * the upstream-cost estimate counts for it, and what the loader below never exceeds: one details
 * call each up to the threshold; above it, the engine-list pages it reads (at most
 * `maxListPages`) and details calls for references the pages did not hold, all within
 * `maxListPages + listThreshold` calls, and never more than a details call each plus one page.
 * A router asking for 60 engines of a project of a few hundred costs a few calls, not 60.
 */
export function engineReferenceBudget(references: number, options: Pick<EngineReferenceOptions, 'listThreshold' | 'maxListPages'>): number {
  if (references <= options.listThreshold) return references;
  return Math.min(references + 1, options.maxListPages + options.listThreshold);
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
 * — one call holds up to `pageSize` engines, and `enginePage` primes the engine loader with them;
 * the remaining pages only when they complete the list in fewer calls than the references still
 * missing, and within the budget — and the references the pages did not hold fall back to a
 * details call (the list may lag behind, or the engine may be gone: details answer that exactly)
 * while the budget ({@link engineReferenceBudget}) lasts. Past it, a reference missing from the
 * complete list is `null` (it is not among the project's engines); one that could not be looked
 * for fails with QUERY_TOO_COMPLEX.
 */
export function createEngineReferenceLoader(loaders: Loaders, options: EngineReferenceOptions): DataLoader<string, CseEngine | null> {
  return new DataLoader<string, CseEngine | null>(async (ids) => {
    if (ids.length <= options.listThreshold) return Promise.all(ids.map((id) => loaders.engine.load(id).catch((error: unknown) => toError(error))));
    const budget = engineReferenceBudget(ids.length, options);
    let listed: ListRead;
    try {
      listed = await readEngineList(loaders, ids, options, budget);
    } catch (error) {
      // The list is only a shortcut: when it fails, references get their own details calls
      // (within the budget, the failed page counted), each reporting its own error.
      listed = { calls: 1, missing: new Set(ids), complete: false, failure: toError(error) };
    }
    let detailsLeft = budget - listed.calls;
    return Promise.all(
      ids.map((id) => {
        if (!listed.missing.has(id) || detailsLeft-- > 0) return loaders.engine.load(id).catch((error: unknown) => toError(error));
        if (listed.complete) return null;
        return listed.failure ?? beyondBudget(budget);
      }),
    );
  });
}

interface ListRead {
  /** List calls made. */
  readonly calls: number;
  /** References the pages read did not hold. */
  readonly missing: ReadonlySet<string>;
  /** Whether every page of the list was read. */
  readonly complete: boolean;
  readonly failure?: Error;
}

async function readEngineList(loaders: Loaders, ids: readonly string[], options: EngineReferenceOptions, budget: number): Promise<ListRead> {
  const missing = new Set(ids);
  const first = await loaders.enginePage.load({ index: 0, size: options.pageSize });
  for (const engine of first.data) missing.delete(engine.id);
  const remaining = Math.max(0, Math.ceil(first.total / options.pageSize) - 1);
  let more = remainingPagesWorthLoading(first.total, options.pageSize, missing.size);
  // Reading only some of the remaining pages cannot be planned (the list does not say on which
  // page an engine is): all of them within the budget, or none.
  if (1 + more > Math.min(budget, options.maxListPages)) more = 0;
  const pages = await Promise.all(Array.from({ length: more }, (_, i) => loaders.enginePage.load({ index: i + 1, size: options.pageSize })));
  for (const page of pages) for (const engine of page.data) missing.delete(engine.id);
  return { calls: 1 + more, missing, complete: more === remaining };
}

function beyondBudget(budget: number): GatewayError {
  return new GatewayError(
    ErrorCode.QUERY_TOO_COMPLEX,
    `Looking up this engine would take this request past ${budget} upstream calls (the engine list is too long to read at once); ask for fewer engines per request.`,
    { details: { limit: budget } },
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
