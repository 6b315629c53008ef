export const LATE: unique symbol = Symbol('late');

// Not counting time too busy to read an answer that arrived: expired timers run before socket reads.
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
