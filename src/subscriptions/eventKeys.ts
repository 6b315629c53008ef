import type { JobEventModel } from '../graphql/models';

/**
 * The keys events conflate under: one pending state per job for `jobUpdated`; one per job and
 * kind for engine events, so a slow reader never loses a CREATED to the CHANGED after it.
 */
export const JOB_KEY = 'job';

export function engineEventKey(event: JobEventModel): string {
  return `${String(event.job.id)} ${event.kind}`;
}

/** The key of whatever a subscription's source produced: a job (or `null`), or an engine event. */
export function eventKey(event: unknown): string {
  const isEvent = typeof event === 'object' && event !== null && 'kind' in event && 'job' in event;
  return isEvent ? engineEventKey(event as JobEventModel) : JOB_KEY;
}

/** When the poll that produced an event answered (`performance.now()`), for the delivery-delay metric. */
const polledAt = new WeakMap<object, number>();

export const markPolled = (event: object, at: number) => polledAt.set(event, at);

export const polledAtOf = (event: unknown) =>
  typeof event === 'object' && event !== null ? polledAt.get(event) : undefined;
