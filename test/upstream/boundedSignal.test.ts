import { boundedSignal } from '../../src/upstream/boundedSignal';

describe('boundedSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts with a TimeoutError when the time is up', () => {
    const bounded = boundedSignal(new AbortController().signal, 100);
    jest.advanceTimersByTime(99);
    expect(bounded.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(bounded.signal.aborted).toBe(true);
    expect(bounded.signal.reason).toBeInstanceOf(DOMException);
    expect((bounded.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it("aborts with the parent's reason when the parent aborts first, and its timer is gone", () => {
    const parent = new AbortController();
    const bounded = boundedSignal(parent.signal, 100);
    const reason = new Error('caller gone');
    parent.abort(reason);
    expect(bounded.signal.reason).toBe(reason);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('is aborted at once under a parent that already is', () => {
    const parent = new AbortController();
    parent.abort('gone');
    const bounded = boundedSignal(parent.signal, 100);
    expect(bounded.signal.aborted).toBe(true);
    expect(bounded.signal.reason).toBe('gone');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('after dispose: no timer, no listener on the parent, never aborts', () => {
    const parent = new AbortController();
    const add = jest.spyOn(parent.signal, 'addEventListener');
    const remove = jest.spyOn(parent.signal, 'removeEventListener');
    const bounded = boundedSignal(parent.signal, 100);
    bounded.dispose();
    expect(jest.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]![1]);
    parent.abort();
    jest.advanceTimersByTime(1000);
    expect(bounded.signal.aborted).toBe(false);
  });
});
