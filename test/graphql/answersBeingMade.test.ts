import { AnswersBeingMade, type AnswerShare } from '../../src/graphql/execution/answersBeingMade';
import { PlainAbort } from '../../src/cache/abort';
import { loadConfig } from '../../src/config/loadConfig';
import { createContext, type ContextServices } from '../../src/graphql/context';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { Credentials } from '../../src/upstream/credentials';

/**
 * Each caller's answers being made, against a share: past it, every answer but the caller's oldest waits
 * for room; one that is made lets the others look again; another caller's are not counted.
 */

const settled = async (promise: Promise<unknown>): Promise<string> => {
  const state = await Promise.race([promise.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
  return state as string;
};

describe('AnswersBeingMade', () => {
  it('has room for an answer that counted nothing, and for any within the share', () => {
    const answers = new AnswersBeingMade(100);
    const [a, b] = [answers.answerOf('A'), answers.answerOf('A')];
    expect(a.hasRoom()).toBe(true);
    a.grow(60);
    b.grow(39);
    expect([a.hasRoom(), b.hasRoom()]).toEqual([true, true]);
    b.grow(1);
    // Full: the oldest goes on, the other waits.
    expect([a.hasRoom(), b.hasRoom()]).toEqual([true, false]);
  });

  it("wakes a waiting answer once the caller's answers are back within the share, or it is the oldest", async () => {
    const answers = new AnswersBeingMade(100);
    const [a, b, c] = [answers.answerOf('A'), answers.answerOf('A'), answers.answerOf('A')];
    a.grow(80);
    b.grow(30);
    c.grow(30);
    const [bRoom, cRoom] = [b.room(undefined, undefined), c.room(undefined, undefined)];
    expect(await settled(bRoom)).toBe('pending');
    a.release();
    // 60 within 100: both may go on.
    expect([await settled(bRoom), await settled(cRoom)]).toEqual(['resolved', 'resolved']);
  });

  it('makes the next oldest go on when the oldest is made, however full the share', async () => {
    const answers = new AnswersBeingMade(10);
    const [a, b, c] = [answers.answerOf('A'), answers.answerOf('A'), answers.answerOf('A')];
    a.grow(50);
    b.grow(50);
    c.grow(50);
    const [bRoom, cRoom] = [b.room(undefined, undefined), c.room(undefined, undefined)];
    a.release();
    expect([await settled(bRoom), await settled(cRoom)]).toEqual(['resolved', 'pending']);
    b.release();
    expect(await settled(cRoom)).toBe('resolved');
  });

  it("counts each caller alone: another caller's answers are not held back", () => {
    const answers = new AnswersBeingMade(10);
    answers.answerOf('A').grow(50);
    const a2 = answers.answerOf('A');
    a2.grow(1);
    const b = answers.answerOf('B');
    b.grow(5);
    expect([a2.hasRoom(), b.hasRoom()]).toEqual([false, true]);
  });

  it("stops waiting with the signal's reason, and forgets the waiter", async () => {
    const answers = new AnswersBeingMade(10);
    const a = answers.answerOf('A');
    a.grow(50);
    const b = answers.answerOf('A');
    b.grow(1);
    const abort = new PlainAbort();
    const waiting = b.room(abort.signal, undefined);
    abort.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
    a.release();
    b.release();
    expect((answers as unknown as { waiting: Map<string, unknown>; making: Map<string, unknown> }).waiting.size).toBe(0);
    expect((answers as unknown as { making: Map<string, unknown> }).making.size).toBe(0);
  });

  it('stops waiting at its deadline, with a time-out, where it has no signal (a subscription event)', async () => {
    jest.useFakeTimers();
    try {
      const answers = new AnswersBeingMade(10);
      answers.answerOf('A').grow(50);
      const b = answers.answerOf('A');
      b.grow(1);
      const waiting = b.room(undefined, performance.now() + 5_000);
      const outcome = waiting.then(() => 'resolved', (reason: Error) => reason.name);
      jest.advanceTimersByTime(5_000);
      expect(await outcome).toBe('TimeoutError');
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives back what was counted once, however often released', () => {
    const answers = new AnswersBeingMade(10);
    const [x, a] = [answers.answerOf('A'), answers.answerOf('A')];
    x.grow(5);
    a.grow(8);
    a.release();
    a.release();
    const c = answers.answerOf('A');
    // 5 + 6: full again, and x is the oldest.
    c.grow(6);
    expect(c.hasRoom()).toBe(false);
  });
});

describe("an operation's share", () => {
  it('is its own token\'s, a token the upstream has not accepted yet too: one new token does not wait behind another', () => {
    const answers = new AnswersBeingMade(10);
    const config = loadConfig({ NODE_ENV: 'test', CSE_ENDPOINT: 'http://127.0.0.1:9', CSE_PROJECT_ID: 'p' });
    const http = { isStranger: () => true } as unknown as CseHttpClient;
    const services = { config, http, reportUnknown: () => () => {}, answers } as unknown as ContextServices;
    const shareOf = (token: string) => {
      const { budget } = createContext(services, { credentials: { token, projectId: 'p' } as unknown as Credentials });
      return (budget as unknown as { answers: AnswerShare }).answers;
    };
    const [x, y] = [shareOf('a-new-token-0000000000000001'), shareOf('a-new-token-0000000000000002')];
    x.grow(50);
    y.grow(1);
    expect(y.hasRoom()).toBe(true);
  });
});
