import fc from 'fast-check';
import { encodeAnswer, stringifyAnswer, stringifyInTurns, writeInTurnsIfLarge, WRITTEN_IN_TURNS_FROM_BYTES } from '../../src/http/answerText';
import { PlainAbort } from '../../src/cache/abort';
import { nextTurn } from '../../src/upstream/turns';

/**
 * A large answer is written and encoded a turn's worth at a time, in its caller's turns: the text is
 * JSON.stringify's and the bytes Buffer.from's, and another caller's work runs between the turns.
 */

/** Caller a's writer, whose caller never leaves. */
const A = { caller: 'a', signal: undefined };

/** What `run` (caller a's work) gives, and how many turns caller b took meanwhile. */
async function withOtherCaller<T>(run: () => Promise<T>): Promise<[T, number]> {
  let others = 0;
  let running = true;
  const other = (async () => {
    while (running) {
      await nextTurn('b');
      others += 1;
    }
  })();
  const result = await run();
  running = false;
  await other;
  return [result, others];
}

/** Values a GraphQL answer holds, and what JSON.stringify skips or turns into null in them. */
const answerValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(undefined, Number.NaN, -0, Number.POSITIVE_INFINITY, '\u0001\u2028"\\', '\ud83d\ude00'),
    fc.constant({ toJSON: (key: string) => `toJSON of ${key}` }),
    fc.array(tie('value'), { maxLength: 80 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 8 }),
  ),
})).value;

/** A page of jobs with a long list of numbers in each: nested objects, long runs of primitives. */
function largeAnswer(jobs: number, numbers: number) {
  return {
    data: {
      engine: {
        jobs: Array.from({ length: jobs }, (_, i) => ({
          id: `job-${i}`,
          status: 'RUNNING',
          engine: { id: 'e1', name: 'engine' },
          output: Array.from({ length: numbers }, (_, n) => (n % 3 === 0 ? n / 7 : n % 3 === 1 ? `n${n}` : null)),
        })),
      },
    },
  };
}

describe('stringifyInTurns', () => {
  it('writes what JSON.stringify writes, whatever a turn holds', async () => {
    await fc.assert(
      fc.asyncProperty(answerValue, fc.constantFrom(1, 7, 64, 65_536), async (value, charsPerTurn) => {
        expect(await stringifyInTurns(value, A, charsPerTurn)).toBe(JSON.stringify(value) ?? 'null');
      }),
      { numRuns: 300 },
    );
  });

  it('takes turns of its caller: another caller\'s steps run between them', async () => {
    const answer = largeAnswer(200, 2000);
    const [text, others] = await withOtherCaller(() => stringifyInTurns(answer, A));
    expect(text).toBe(JSON.stringify(answer));
    // A turn holds about 64 Ki characters (a run of numbers is guessed at 8 each): the other caller had
    // a turn per round of the writer's.
    expect(others).toBeGreaterThanOrEqual(Math.floor(text.length / (256 * 1024)));
  });
});

describe('stringifyInTurns: what JSON.stringify would do, and turns bounded', () => {
  it('calls a toJSON once, not again on what it returned', async () => {
    const inner = { toJSON: () => 'inner' };
    const value = { a: { toJSON: () => ({ b: inner, toJSON: () => 'twice' }) }, list: [{ toJSON: () => inner }] };
    expect(await stringifyInTurns(value, A, 1)).toBe(JSON.stringify(value));
  });

  it('counts what it looks at in a turn\'s work: a deep chain takes turns as a wide answer does', async () => {
    let chain: unknown = 1;
    for (let depth = 0; depth < 3000; depth += 1) chain = { a: chain, b: [depth] };
    const [text, others] = await withOtherCaller(() => stringifyInTurns(chain, A));
    expect(text).toBe(JSON.stringify(chain));
    // What it writes is less than a turn's worth; its looks, at 64 values a level, are many turns' worth.
    expect(others).toBeGreaterThanOrEqual(Math.floor((3000 * 64 * 8) / (64 * 1024)) - 1);
  });

  it('stops once its caller left, and writes on when only the time is up', async () => {
    const answer = largeAnswer(100, 2000);
    const left = new PlainAbort();
    const leaving = stringifyInTurns(answer, { caller: 'a', signal: left.signal });
    left.abort();
    expect(await leaving).toBe('');
    const late = new PlainAbort();
    const timedOut = stringifyInTurns(answer, { caller: 'a', signal: late.signal });
    late.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(await timedOut).toBe(JSON.stringify(answer));
    const encoded = encodeAnswer('x'.repeat(3 * 1024 * 1024), { caller: 'a', signal: left.signal });
    expect((await encoded).length).toBe(0);
    // Its time up first, then the caller gone: what is left is not written either.
    const both = new PlainAbort();
    const leavingLate = stringifyInTurns(answer, { caller: 'a', signal: both.signal });
    both.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    both.leave();
    expect(await leavingLate).toBe('');
  });
});

describe('stringifyAnswer', () => {
  it('writes an answer at once unless its data was marked large', () => {
    const small = { data: { a: 1 } };
    writeInTurnsIfLarge(small.data, { ...A, sentBytes: WRITTEN_IN_TURNS_FROM_BYTES - 1 });
    expect(stringifyAnswer(small)).toBe('{"data":{"a":1}}');
    expect(stringifyAnswer({ errors: [{ message: 'no data' }] })).toBe('{"errors":[{"message":"no data"}]}');
  });

  it('writes a marked answer in turns, as JSON.stringify would', async () => {
    const answer = largeAnswer(50, 1000);
    writeInTurnsIfLarge(answer.data, { ...A, sentBytes: WRITTEN_IN_TURNS_FROM_BYTES });
    const text = stringifyAnswer({ ...answer, extensions: { cost: 1 } });
    expect(text).toBeInstanceOf(Promise);
    expect(await text).toBe(JSON.stringify({ ...answer, extensions: { cost: 1 } }));
  });
});

describe('encodeAnswer', () => {
  it('encodes as Buffer.from does, surrogate pairs across turns included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 0, max: 3 }), async (tail, shift) => {
        // Past a turn's million characters, the pair or the tail may straddle the boundary.
        const text = `${'a'.repeat(1024 * 1024 - shift)}\ud83d\ude00${tail}`;
        const bytes = await encodeAnswer(text, A);
        expect(bytes.equals(Buffer.from(text))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('encodes a short answer at once', () => {
    expect(encodeAnswer('{"data":{}}', A)).toEqual(Buffer.from('{"data":{}}'));
  });

  it('takes turns of its caller for a long answer', async () => {
    const text = 'é'.repeat(5 * 1024 * 1024);
    const [bytes, others] = await withOtherCaller(async () => encodeAnswer(text, A));
    expect(bytes.equals(Buffer.from(text))).toBe(true);
    expect(others).toBeGreaterThanOrEqual(4);
  });
});
