import fc from 'fast-check';
import { PlainAbort } from '../../src/cache/abort';
import { nextTurn, turnIfBusy } from '../../src/upstream/turns';

/**
 * Turns are handed out in rounds, one per caller a round: many steps of one caller take that caller's
 * place, and another caller's step waits behind one of them, not all of them.
 */

/** The order steps of `callers` (one entry per step, all asked for at once) are handed their turns. */
async function order(callers: readonly string[]): Promise<string[]> {
  const handed: string[] = [];
  await Promise.all(callers.map((caller, i) => nextTurn(caller).then(() => handed.push(`${caller}${i}`))));
  return handed;
}

/** Round-robin by caller, callers in the order they first asked, each caller's steps in the order asked. */
function roundRobin(callers: readonly string[]): string[] {
  const steps = new Map<string, string[]>();
  callers.forEach((caller, i) => steps.set(caller, [...(steps.get(caller) ?? []), `${caller}${i}`]));
  const handed: string[] = [];
  for (let round = 0; handed.length < callers.length; round += 1) {
    for (const own of steps.values()) if (round < own.length) handed.push(own[round]!);
  }
  return handed;
}

describe('nextTurn', () => {
  it('hands one turn per caller a round: a later caller goes before the first caller\'s second step', async () => {
    expect(await order(['a', 'a', 'a', 'a', 'b'])).toEqual(['a0', 'b4', 'a1', 'a2', 'a3']);
  });

  it('hands turns round-robin by caller, for any steps asked at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }), async (callers) => {
        expect(await order(callers)).toEqual(roundRobin(callers));
      }),
      { numRuns: 100 },
    );
  });

  it('gives each step that names no caller a place of its own', async () => {
    const handed: string[] = [];
    await Promise.all([nextTurn('a').then(() => handed.push('a0')), nextTurn('a').then(() => handed.push('a1')), nextTurn().then(() => handed.push('x')), nextTurn().then(() => handed.push('y'))]);
    expect(handed).toEqual(['a0', 'x', 'y', 'a1']);
  });

  it('lets the event loop turn between rounds: other work runs between one caller\'s steps', async () => {
    const handed: string[] = [];
    const steps = Array.from({ length: 3 }, (_, i) => nextTurn('a').then(() => handed.push(`a${i}`)));
    setImmediate(() => handed.push('other'));
    await Promise.all(steps);
    expect(handed).toEqual(['a0', 'other', 'a1', 'a2']);
  });
});

describe('nextTurn with an operation\'s signal', () => {
  it('rejects with the reason once the signal aborted before the turn came', async () => {
    const abort = new PlainAbort();
    const turn = nextTurn('a', abort.signal);
    abort.abort('gone');
    await expect(turn).rejects.toBe('gone');
    await expect(nextTurn('a', new PlainAbort().signal)).resolves.toBeUndefined();
  });
});

describe('turnIfBusy', () => {
  it('goes on at once when no step waits, checking the signal; else waits for the caller\'s turn', async () => {
    expect(turnIfBusy('a')).toBeUndefined();
    const left = new PlainAbort();
    left.abort('gone');
    expect(() => turnIfBusy('a', left.signal)).toThrow('gone');
    const handed: string[] = [];
    const waiting = [nextTurn('b').then(() => handed.push('b')), nextTurn('b').then(() => handed.push('b again'))];
    const turn = turnIfBusy('a');
    expect(turn).toBeInstanceOf(Promise);
    await Promise.all([...waiting, turn!.then(() => handed.push('a'))]);
    expect(handed).toEqual(['b', 'a', 'b again']);
  });
});
