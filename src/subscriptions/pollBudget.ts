export interface BudgetMember {
  demand(): number;
}

interface Seat {
  readonly member: BudgetMember;
  /** Owed calls carried over intervals (smooth weighted round robin, as nginx balances upstreams). */
  credit: number;
  share: number;
  used: number;
}

/** SUBSCRIPTION_MAX_CALLS_PER_POLL by demand; what is unallocated serves whoever asks first (a first state). */
export class ScopeBudget<M extends BudgetMember = BudgetMember> {
  private readonly seats = new Set<Seat>();
  private window = Number.NEGATIVE_INFINITY;
  private free = 0;
  private emptyCheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxCalls: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get members(): M[] {
    return [...this.seats].map((seat) => seat.member as M);
  }

  /** `take()`: whether one more upstream call fits in the current interval; counts it when it does. */
  join(member: M): { take: () => boolean; leave: () => void } {
    const seat: Seat = { member, credit: 0, share: 0, used: 0 };
    this.seats.add(seat);
    return { take: () => this.take(seat), leave: () => this.seats.delete(seat) };
  }

  /** `drop` once no member is left and the interval is over: newcomers until then share what it has left. */
  whenEmpty(drop: () => void): void {
    if (this.seats.size > 0 || this.emptyCheck !== undefined) return;
    const left = (this.window + 1) * this.windowMs - this.now();
    if (left <= 0) return drop();
    this.emptyCheck = setTimeout(() => {
      this.emptyCheck = undefined;
      this.whenEmpty(drop);
    }, left).unref();
  }

  private take(seat: Seat): boolean {
    if (!this.seats.has(seat)) return false;
    const window = Math.floor(this.now() / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      const seats = [...this.seats];
      const demands = seats.map((each) => ({ demand: each.member.demand(), credit: each.credit }));
      const shares = allocateCalls(this.maxCalls, demands);
      seats.forEach((each, i) => Object.assign(each, shares[i]!, { used: 0 }));
      this.free = this.maxCalls - shares.reduce((sum, each) => sum + each.share, 0);
    }
    if (seat.used < seat.share) seat.used += 1;
    else if (this.free > 0) this.free -= 1;
    else return false;
    return true;
  }
}

/** Credit accrues by `maxCalls × demand / total`, spent largest first: a part under one call gets one too. */
export function allocateCalls(
  maxCalls: number,
  members: readonly { readonly demand: number; readonly credit: number }[],
): { share: number; credit: number }[] {
  const demands = members.map((member) => Math.max(0, Math.floor(member.demand)));
  const total = demands.reduce((sum, demand) => sum + demand, 0);
  if (total <= maxCalls) return demands.map((demand) => ({ share: demand, credit: 0 }));
  const out = members.map((m, i) => ({ share: 0, credit: m.credit + (maxCalls * demands[i]!) / total }));
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

/** Least recently polled first, ties in order: with `k` calls, each of `n` is read within `ceil(n / k)`. */
export function dueFirst<T>(items: readonly T[], lastPolled: (item: T) => number | undefined): T[] {
  return items
    .map((item, index) => ({ item, index, at: lastPolled(item) ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ item }) => item);
}
