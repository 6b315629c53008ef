/** One engine watch of a credential scope, as the scope's budget sees it. */
export interface BudgetMember {
  /** Upstream calls it would make to poll everything it watches once. */
  demand(): number;
}

/** A member's part of its scope's budget. */
export interface BudgetShare {
  /** Whether one more upstream call fits in the current interval; counts it when it does. */
  take(): boolean;
  leave(): void;
}

interface Seat {
  readonly member: BudgetMember;
  /** Owed calls carried over intervals (smooth weighted round robin, as nginx balances upstreams). */
  credit: number;
  /** Calls this interval's allocation gave it, and those it made. */
  share: number;
  used: number;
}

/**
 * The upstream calls one caller's subscriptions may make per poll interval
 * (SUBSCRIPTION_MAX_CALLS_PER_POLL), shared by its engine watches. At the first call of each
 * fixed window of `windowMs`, the bound is divided among the watches in proportion to what each
 * would need to poll all it watches; what is not allocated serves whoever asks first (a new
 * subscriber's first state).
 */
export class ScopeBudget<M extends BudgetMember = BudgetMember> {
  private readonly seats = new Set<Seat>();
  private window = Number.NEGATIVE_INFINITY;
  /** Calls of this interval not allocated to any watch. */
  private free = 0;

  constructor(
    private readonly maxCalls: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get members(): M[] {
    return [...this.seats].map((seat) => seat.member as M);
  }

  join(member: M): BudgetShare {
    const seat: Seat = { member, credit: 0, share: 0, used: 0 };
    this.seats.add(seat);
    return {
      take: () => this.take(seat),
      leave: () => this.seats.delete(seat),
    };
  }

  private take(seat: Seat): boolean {
    if (!this.seats.has(seat)) return false;
    const window = Math.floor(this.now() / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      const seats = [...this.seats];
      const demands = seats.map((each) => ({ demand: each.member.demand(), credit: each.credit }));
      const shares = allocateCalls(this.maxCalls, demands);
      seats.forEach((each, i) => {
        each.share = shares[i]!.share;
        each.credit = shares[i]!.credit;
        each.used = 0;
      });
      this.free = this.maxCalls - shares.reduce((sum, each) => sum + each.share, 0);
    }
    if (seat.used < seat.share) {
      seat.used += 1;
      return true;
    }
    if (this.free > 0) {
      this.free -= 1;
      return true;
    }
    return false;
  }
}

/**
 * One interval's division of `maxCalls` among members by their demand, with the credit each
 * carries in and out. All demands are met when they fit; else each gets `maxCalls × demand / total`
 * on average: credit accrues by that much and is spent one per call, largest credit first, so a
 * part under one call per interval still gets one every few intervals.
 */
export function allocateCalls(
  maxCalls: number,
  members: readonly { readonly demand: number; readonly credit: number }[],
): { share: number; credit: number }[] {
  const demands = members.map((member) => Math.max(0, Math.floor(member.demand)));
  const total = demands.reduce((sum, demand) => sum + demand, 0);
  if (total <= maxCalls) return demands.map((demand) => ({ share: demand, credit: 0 }));
  const out = members.map((member, i) => ({
    share: 0,
    credit: member.credit + (maxCalls * demands[i]!) / total,
  }));
  for (let left = maxCalls; left > 0; left -= 1) {
    let best = -1;
    for (let i = 0; i < out.length; i += 1) {
      if (out[i]!.share >= demands[i]!) continue;
      if (best === -1 || out[i]!.credit > out[best]!.credit) best = i;
    }
    // total > maxCalls: some member always has demand left.
    out[best]!.share += 1;
    out[best]!.credit -= 1;
  }
  return out;
}

/**
 * The order a poll with too few calls reads what it watches: the least recently polled first,
 * ties in the order given; with `k` calls per interval, each of `n` is read within `ceil(n / k)`.
 */
export function dueFirst<T>(items: readonly T[], lastPolled: (item: T) => number | undefined): T[] {
  return items
    .map((item, index) => ({ item, index, at: lastPolled(item) ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ item }) => item);
}
