/** Whose share is counted for credentials the upstream never accepted (or none): made-up tokens, each a
 * caller of its own, hold one share together. */
export const STRANGERS = 'strangers';

/** What each caller holds of a bounded thing (bytes, sockets, subscriptions), against one limit. */
export class CallerShares {
  private readonly holds = new Map<string, number>();

  constructor(readonly limit: number) {}

  held(holder: string): number {
    return this.holds.get(holder) ?? 0;
  }

  full(holder: string): boolean {
    return this.held(holder) >= this.limit;
  }

  add(holder: string, by: number): void {
    const held = this.held(holder) + by;
    if (held > 0) this.holds.set(holder, held);
    else this.holds.delete(holder);
  }

  /** Whether `own` may take `units` more: its own share, and the strangers' too while it is one. */
  room(own: string, stranger: boolean, units = 1): boolean {
    const fits = (holder: string) => this.held(holder) + units <= this.limit;
    return fits(own) && !(stranger && !fits(STRANGERS));
  }

  /** Units of `own`'s, and of the strangers' too while its credentials are not known to be a caller's:
   * one token holds its share at most, whatever it holds as a stranger. */
  take(own: string, stranger: boolean, units = 1): void {
    this.add(own, units);
    if (stranger) this.add(STRANGERS, units);
  }

  release(own: string, stranger: boolean, units = 1): void {
    this.add(own, -units);
    if (stranger) this.add(STRANGERS, -units);
  }
}
