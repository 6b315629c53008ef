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

  full(...holders: readonly string[]): boolean {
    return holders.some((holder) => this.held(holder) >= this.limit);
  }

  add(holder: string, by: number): void {
    const held = this.held(holder) + by;
    if (held > 0) this.holds.set(holder, held);
    else this.holds.delete(holder);
  }

  /** One unit from `from` to `to`, room there allowing. */
  move(from: string, to: string): boolean {
    if (this.full(to)) return false;
    this.add(from, -1);
    this.add(to, 1);
    return true;
  }
}
