import { InFlightLimiter } from '../../src/upstream/resilience/InFlightLimiter';

describe('InFlightLimiter', () => {
  it('admits up to the cap, queues up to the bound, sheds the rest, and hands slots on in order', async () => {
    const counts: number[] = [];
    const limiter = new InFlightLimiter(2, 1, (n) => counts.push(n));
    const r1 = await limiter.acquire()!;
    const r2 = await limiter.acquire()!;
    const queued = limiter.acquire()!;
    expect(limiter.queued).toBe(1);
    expect(limiter.acquire()).toBeUndefined();
    r1();
    r1(); // releasing twice does nothing
    const r3 = await queued;
    expect(limiter.inFlight).toBe(2);
    r2();
    r3();
    expect(limiter.inFlight).toBe(0);
    expect(counts).toEqual([1, 2, 1, 0]);
  });

  it('drops a queued caller whose signal aborts, with the signal reason', async () => {
    const limiter = new InFlightLimiter(1, 5);
    const release = await limiter.acquire()!;
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal)!;
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(limiter.queued).toBe(0);
    release();
    expect(limiter.inFlight).toBe(0);
  });
});
