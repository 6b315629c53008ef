import fc from 'fast-check';
import { PlainAbort } from '../../src/cache/abort';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { nextTurn } from '../../src/upstream/turns';

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

describe('rounds and connections waiting to be accepted', () => {
  /**
   * libuv accepts one connection per pass of the loop: with a caller's steps always waiting, a round each
   * pass would accept one connection per step. `count` connections are opened at once while caller 'a'
   * has a step waiting at every round; the result is how many of its steps ran before all were accepted.
   */
  async function stepsWhileAccepting(count: number): Promise<{ steps: number; acceptedAtFirstStep: number }> {
    let accepted = 0;
    let acceptedAtFirstStep = -1;
    let steps = 0;
    let stepsWhenAllAccepted = -1;
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      accepted += 1;
      if (accepted === count) stepsWhenAllAccepted = steps;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    let stop = false;
    const flood = (async () => {
      while (!stop) {
        await nextTurn('a');
        steps += 1;
        if (acceptedAtFirstStep < 0) acceptedAtFirstStep = accepted;
      }
    })();
    const clients = Array.from({ length: count }, () => connect(port, '127.0.0.1').on('error', () => undefined));
    await new Promise<void>((resolve) => {
      const check = () => (stepsWhenAllAccepted >= 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    stop = true;
    await flood;
    for (const socket of [...clients, ...sockets]) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    return { steps: stepsWhenAllAccepted, acceptedAtFirstStep };
  }

  it('lets passes go while they accept: connections waiting are taken in, not one per step', async () => {
    // One per step would be about 12 steps.
    expect((await stepsWhileAccepting(12)).steps).toBeLessThanOrEqual(2);
  });

  it('lets a bounded number go: a flood of connections still leaves the steps their rounds', async () => {
    const { steps, acceptedAtFirstStep } = await stepsWhileAccepting(200);
    expect(acceptedAtFirstStep).toBeLessThanOrEqual(17);
    expect(steps).toBeGreaterThanOrEqual(2);
  });
});
