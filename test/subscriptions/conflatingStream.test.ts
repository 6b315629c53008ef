import fc from 'fast-check';
import { ConflatingStream } from '../../src/subscriptions/conflatingStream';

/**
 * ConflatingStream is what keeps a slow reader's memory bounded: a property test over any
 * interleaving of pushes and reads, against a model of what the reader may see.
 */

type Op = { push: { key: string; value: number } } | { read: true };

const ops = fc.array(
  fc.oneof(
    fc.record({ push: fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.nat() }) }),
    fc.constant({ read: true as const }),
  ),
  { maxLength: 200 },
);

describe('ConflatingStream', () => {
  it('never holds more than maxKeys values; per key, reads only the newest pushed, in push order; counts every value it drops', async () => {
    await fc.assert(
      fc.asyncProperty(ops, fc.integer({ min: 1, max: 5 }), async (sequence: Op[], maxKeys) => {
        let dropped = 0;
        const stream = new ConflatingStream<{ key: string; seq: number }>(maxKeys, () => (dropped += 1));
        const pushedSeq = new Map<string, number>(); // newest push per key
        const readSeq = new Map<string, number>(); // newest read per key
        let seq = 0;
        let pushes = 0;
        let reads = 0;
        const read = async () => {
          const next = await stream.next();
          if (next.done === true) throw new Error('ended early');
          const { key, seq: at } = next.value;
          // Never older than what was read before for the key, and it was pushed.
          expect(at).toBeGreaterThan(readSeq.get(key) ?? -1);
          expect(at).toBeLessThanOrEqual(pushedSeq.get(key)!);
          readSeq.set(key, at);
          reads += 1;
        };
        let pendingRead: Promise<void> | undefined;
        for (const op of sequence) {
          if ('push' in op) {
            seq += 1;
            pushes += 1;
            pushedSeq.set(op.push.key, seq);
            stream.push(op.push.key, { key: op.push.key, seq });
            if (pendingRead !== undefined) {
              await pendingRead;
              pendingRead = undefined;
            }
          } else if (pendingRead === undefined) {
            // A read with nothing pending waits for the next push (a reader ahead of the producer).
            pendingRead = read();
            await Promise.resolve();
          }
        }
        stream.end();
        if (pendingRead !== undefined) await pendingRead.catch(() => {});
        for (;;) {
          const next = await stream.next();
          if (next.done === true) break;
          reads += 1;
          const { key, seq: at } = next.value;
          // Draining at the end: a key's value is its newest, unless it was dropped for room.
          expect(at).toBeLessThanOrEqual(pushedSeq.get(key)!);
          readSeq.set(key, at);
        }
        // Every value is read or counted as conflated: none lost silently, none queued unboundedly.
        expect(reads + dropped).toBe(pushes);
        if (maxKeys >= 5) {
          for (const [key, at] of pushedSeq) expect(readSeq.get(key)).toBe(at);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a value pushed while one of its key waits replaces it: a reader that comes back gets only the newest', async () => {
    let conflated = 0;
    const stream = new ConflatingStream<number>(10, () => (conflated += 1));
    for (let n = 1; n <= 1000; n += 1) stream.push('job', n);
    expect(await stream.next()).toEqual({ value: 1000, done: false });
    expect(conflated).toBe(999);
  });

  it('end() lets the reader drain, then finishes; fail() drains, then throws; return() drops what is pending and closes once', async () => {
    const closes: string[] = [];
    const ended = new ConflatingStream<number>(4, undefined, () => closes.push('ended'));
    ended.push('a', 1);
    ended.end();
    ended.push('b', 2); // after the end: ignored
    expect(await ended.next()).toEqual({ value: 1, done: false });
    expect(await ended.next()).toEqual({ value: undefined, done: true });

    const failed = new ConflatingStream<number>(4, undefined, () => closes.push('failed'));
    failed.push('a', 1);
    failed.fail(new Error('refused'));
    expect(await failed.next()).toEqual({ value: 1, done: false });
    await expect(failed.next()).rejects.toThrow('refused');

    const left = new ConflatingStream<number>(4, undefined, () => closes.push('left'));
    left.push('a', 1);
    const waiting = new ConflatingStream<number>(4, undefined, () => closes.push('waiting'));
    const pending = waiting.next();
    await left.return();
    await waiting.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await left.next()).toEqual({ value: undefined, done: true });
    expect(closes).toEqual(['ended', 'failed', 'left', 'waiting']);
  });

  it('reports the bytes it holds pending: always the sum of what waits, and none once closed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), bytes: fc.nat(1000) }), fc.constant('read' as const)), { maxLength: 100 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (sequence, maxKeys, leave) => {
          let reported = 0;
          const stream = new ConflatingStream<number>(maxKeys, undefined, undefined, (delta) => (reported += delta));
          const model = new Map<string, number>(); // key -> bytes pending, in push order
          for (const op of sequence) {
            if (op === 'read') {
              if (model.size === 0) continue;
              const [key] = model.keys();
              model.delete(key!);
              expect((await stream.next()).done).toBe(false);
            } else {
              if (!model.delete(op.key) && model.size >= maxKeys) model.delete(model.keys().next().value!);
              model.set(op.key, op.bytes);
              stream.push(op.key, op.bytes, op.bytes);
            }
            expect(reported).toBe([...model.values()].reduce((sum, bytes) => sum + bytes, 0));
          }
          if (leave) await stream.return();
          else {
            stream.end();
            while ((await stream.next()).done !== true);
          }
          expect(reported).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
