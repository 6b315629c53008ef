import { PlainAbort, sleepUnlessAborted } from '../../src/cache/abort';

describe('PlainAbort', () => {
  it('calls each listener once, in the order added, and none removed or added after the abort', () => {
    const abort = new PlainAbort();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    abort.signal.addEventListener('abort', () => calls.push('first'));
    abort.signal.addEventListener('abort', removed);
    abort.signal.addEventListener('abort', () => calls.push('second'));
    abort.signal.removeEventListener('abort', removed);
    abort.abort(new Error('gone'));
    abort.abort(new Error('again'));
    abort.signal.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual(['first', 'second']);
    expect(abort.signal.aborted).toBe(true);
    expect((abort.signal.reason as Error).message).toBe('gone');
  });

  it('leave(): aborts as abort() does, or, aborted by a time-out already, says the caller left, calling no listener again', () => {
    const fresh = new PlainAbort();
    fresh.leave();
    expect(fresh.signal.reason).toMatchObject({ name: 'AbortError' });
    const timedOut = new PlainAbort();
    let calls = 0;
    timedOut.signal.addEventListener('abort', () => (calls += 1));
    timedOut.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    timedOut.leave();
    expect(timedOut.signal.reason).toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(1);
  });

  it('gives an AbortError as the reason when none is given, as AbortController does', () => {
    const abort = new PlainAbort();
    abort.abort();
    expect(abort.signal.reason).toMatchObject({ name: 'AbortError' });
  });

  it('reports a listener that throws as an uncaught error (thrown in a later tick), and still calls the others', () => {
    const abort = new PlainAbort();
    const uncaught: unknown[] = [];
    const later = jest.spyOn(process, 'nextTick').mockImplementation(((callback: () => void) => {
      try {
        callback();
      } catch (error) {
        uncaught.push(error);
      }
    }) as typeof process.nextTick);
    try {
      let called = false;
      abort.signal.addEventListener('abort', () => {
        throw new Error('listener bug');
      });
      abort.signal.addEventListener('abort', () => (called = true));
      abort.abort();
      expect(called).toBe(true);
      expect(uncaught).toEqual([expect.objectContaining({ message: 'listener bug' })]);
    } finally {
      later.mockRestore();
    }
  });

  it("is a signal timers/promises' sleep takes: rejected at the abort, its listener gone once it ends", async () => {
    const abort = new PlainAbort();
    const sleeping = sleepUnlessAborted(10_000, abort.signal);
    abort.abort(new Error('left'));
    await expect(sleeping).rejects.toMatchObject({ name: 'AbortError', cause: expect.objectContaining({ message: 'left' }) });

    const kept = new PlainAbort();
    await expect(sleepUnlessAborted(5, kept.signal)).resolves.toBeUndefined();
    let called = false;
    kept.signal.addEventListener('abort', () => (called = true));
    kept.abort();
    expect(called).toBe(true);
    await expect(sleepUnlessAborted(5, kept.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
