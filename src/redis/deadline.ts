export const LATE: unique symbol = Symbol('late');

/**
 * Not counting time this process was too busy to read an answer that had arrived: Node runs expired
 * timers before it reads the sockets, so `setImmediate` (after I/O) decides.
 */
export function settleWithin<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => (immediate = setImmediate(() => resolve(LATE))), ms);
  });
  return Promise.race([work, late]).finally(() => {
    clearTimeout(timer);
    clearImmediate(immediate);
  });
}
