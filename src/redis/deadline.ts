/** What {@link settleWithin} answers for work that did not settle in time. */
export const LATE: unique symbol = Symbol('late');

/**
 * `work`'s outcome, or {@link LATE} if it has not settled `ms` after the call — where "after" does
 * not count time this process itself was too busy to read an answer that had arrived.
 *
 * A plain timer cannot tell the two apart: Node runs expired timers before it reads the sockets,
 * so after an event-loop stall longer than `ms` (a saturated replica, a long GC) every command in
 * flight would time out though Redis answered each within a millisecond — and the replica would
 * go on alone, calling the upstream for what the fleet already has. The expired timer therefore
 * decides one step later, from `setImmediate`, which runs after that iteration's I/O callbacks:
 * an answer already in the socket has been read and has settled `work` by then.
 */
export function settleWithin<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  return new Promise<T | typeof LATE>((resolve, reject) => {
    let immediate: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => {
      immediate = setImmediate(() => resolve(LATE));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    };
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
