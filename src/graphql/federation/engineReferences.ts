import DataLoader from 'dataloader';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { settleEach, toError, type Loaders } from '../../loaders/createLoaders';
import type { CseEngine } from '../../upstream/types';

type EngineReferenceOptions = EngineListLimits & { readonly pageSize: number };
interface EngineListLimits {
  readonly engineListThreshold: number;
  readonly maxListPages: number;
}

/** The most upstream calls one `_entities` batch of engine references makes, what the cost estimate counts:
 * never more than a call each plus one page (docs/federation.md). */
export function engineReferenceBudget(references: number, options: EngineListLimits): number {
  if (references <= options.engineListThreshold) return references;
  return Math.min(references + 1, options.maxListPages + options.engineListThreshold);
}

/** All the pages after the first when that beats a call per missing engine, else none. */
export function remainingPagesWorthLoading(total: number, pageSize: number, missing: number): number {
  const remaining = Math.max(0, Math.ceil(total / pageSize) - 1);
  return remaining > 0 && remaining < missing ? remaining : 0;
}

/** A router's `_entities` call is one batch. Above the threshold, list pages first (they prime the engine
 * loader), then details calls for what they lacked (the list may lag) within the budget. Past it, a
 * reference missing from the complete list is `null`, one not looked for QUERY_TOO_COMPLEX. */
export function createEngineReferenceLoader(loaders: Loaders, options: EngineReferenceOptions): DataLoader<string, CseEngine | null> {
  return new DataLoader<string, CseEngine | null>(async (ids) => {
    if (ids.length <= options.engineListThreshold) return settleEach(ids, (id) => loaders.engine.load(id));
    const budget = engineReferenceBudget(ids.length, options);
    let listed: ListRead;
    try {
      listed = await readEngineList(loaders, ids, options, budget);
    } catch (error) {
      // The list is only a shortcut: references get their own details calls within the budget.
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
  readonly calls: number;
  readonly missing: ReadonlySet<string>;
  readonly complete: boolean;
  readonly failure?: Error;
}

async function readEngineList(loaders: Loaders, ids: readonly string[], options: EngineReferenceOptions, budget: number): Promise<ListRead> {
  const missing = new Set(ids);
  const first = await loaders.enginePage.load({ index: 0, size: options.pageSize });
  for (const engine of first.data) missing.delete(engine.id);
  const remaining = Math.max(0, Math.ceil(first.total / options.pageSize) - 1);
  let more = remainingPagesWorthLoading(first.total, options.pageSize, missing.size);
  // All of the remaining pages within the budget, or none.
  if (1 + more > Math.min(budget, options.maxListPages)) more = 0;
  const pages = await Promise.all(Array.from({ length: more }, (_, i) => loaders.enginePage.load({ index: i + 1, size: options.pageSize })));
  for (const page of pages) for (const engine of page.data) missing.delete(engine.id);
  return { calls: 1 + more, missing, complete: more === remaining };
}

function beyondBudget(budget: number): GatewayError {
  const message = `Looking up this engine would take this request past ${budget} upstream calls ` +
    '(the engine list is too long to read at once); ask for fewer engines per request.';
  return new GatewayError(ErrorCode.QUERY_TOO_COMPLEX, message, { details: { limit: budget } });
}
