import fc from 'fast-check';
import { AnswerSizes, AnswersBeingMade, type AnswerBounds, type AnswerShare } from '../../src/graphql/execution/answersBeingMade';
import { PlainAbort } from '../../src/cache/abort';
import { loadConfig } from '../../src/config/loadConfig';
import { createContext, type ContextServices } from '../../src/graphql/context';
import { OperationBudget } from '../../src/graphql/execution/operationBudget';
import { parse, type FragmentDefinitionNode } from 'graphql';
import type { CseHttpClient, UpstreamCall } from '../../src/upstream/CseHttpClient';
import { AnswerOutgrewRoom } from '../../src/upstream/errorMapping';
import { CseApi, type CallRoom } from '../../src/upstream/CseApi';
import { InFlightLimiter } from '../../src/upstream/resilience/InFlightLimiter';
import type { Credentials } from '../../src/upstream/credentials';

/**
 * Each caller's answers being made, against a share: past it, every answer but the caller's oldest waits
 * for room; one that is made lets the others look again; another caller's are not counted.
 */

/** Bytes bounds alone (slots enough for all, every answer large), or with slots and small answers. */
const bounds = (callerBytes: number, processBytes = Infinity, slots = Infinity, callerSlots = Infinity, smallBytes = 0): AnswerBounds => ({ callerBytes, processBytes, slots, callerSlots, smallBytes });

/** A share that took its place (with places enough, it always has one): what it grows counts at once. */
const placed = (share: AnswerShare): AnswerShare => {
  share.mayGoOn();
  return share;
};

/** A call's room, handed at once: it did not wait. */
const isRoom = (started: unknown): boolean => typeof (started as Partial<CallRoom>).end === 'function' && !(started instanceof Promise);

const settled = async (promise: Promise<unknown>): Promise<string> => {
  const state = await Promise.race([promise.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
  return state as string;
};

describe('AnswersBeingMade', () => {
  it('has room for an answer that counted nothing, and for any within the share', () => {
    const answers = new AnswersBeingMade(bounds(100));
    const [a, b] = [placed(answers.answerOf('A')), placed(answers.answerOf('A'))];
    expect(a.mayGoOn()).toBe(true);
    a.grow(60);
    b.grow(39);
    expect([a.mayGoOn(), b.mayGoOn()]).toEqual([true, true]);
    b.grow(1);
    // Full: the oldest goes on, the other waits.
    expect([a.mayGoOn(), b.mayGoOn()]).toEqual([true, false]);
  });

  it("wakes a waiting answer once the caller's answers are back within the share, or it is the oldest", async () => {
    const answers = new AnswersBeingMade(bounds(100));
    const [a, b, c] = [placed(answers.answerOf('A')), placed(answers.answerOf('A')), placed(answers.answerOf('A'))];
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
    const answers = new AnswersBeingMade(bounds(10));
    const [a, b, c] = [placed(answers.answerOf('A')), placed(answers.answerOf('A')), placed(answers.answerOf('A'))];
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
    const answers = new AnswersBeingMade(bounds(10));
    placed(answers.answerOf('A')).grow(50);
    const a2 = placed(answers.answerOf('A'));
    a2.grow(1);
    const b = placed(answers.answerOf('B'));
    b.grow(5);
    expect([a2.mayGoOn(), b.mayGoOn()]).toEqual([false, true]);
  });

  it("stops waiting with the signal's reason, and forgets the waiter", async () => {
    const answers = new AnswersBeingMade(bounds(10));
    const a = placed(answers.answerOf('A'));
    a.grow(50);
    const b = placed(answers.answerOf('A'));
    b.grow(1);
    const abort = new PlainAbort();
    const waiting = b.room(abort.signal, undefined);
    abort.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
    a.release();
    b.release();
    expect(answers.stats).toEqual({ slots: 0, waiting: 0, bytes: 0, strangersSlots: 0 });
  });

  it('stops waiting at its deadline, with a time-out, where it has no signal (a subscription event)', async () => {
    jest.useFakeTimers();
    try {
      const answers = new AnswersBeingMade(bounds(10));
      placed(answers.answerOf('A')).grow(50);
      const b = placed(answers.answerOf('A'));
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
    const answers = new AnswersBeingMade(bounds(10));
    const [x, a] = [placed(answers.answerOf('A')), placed(answers.answerOf('A'))];
    x.grow(5);
    a.grow(8);
    a.release();
    a.release();
    const c = placed(answers.answerOf('A'));
    // 5 + 6: full again, and x is the oldest.
    c.grow(6);
    expect(c.mayGoOn()).toBe(false);
  });
});

describe("all callers' answers together", () => {
  it('are bounded too: past the bound, only the oldest answer of all goes on, whoever its caller', () => {
    const answers = new AnswersBeingMade(bounds(100, 150));
    const [a, b, c] = [placed(answers.answerOf('A')), placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    a.grow(60);
    b.grow(60);
    expect([a.mayGoOn(), b.mayGoOn()]).toEqual([true, true]);
    // Each caller within its share, and the oldest of its own: the process's bound holds them back.
    c.grow(60);
    expect([a.mayGoOn(), b.mayGoOn(), c.mayGoOn()]).toEqual([true, false, false]);
  });

  it("count small answers apart: an ordinary query does not wait behind others' large answers past the bound", async () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 50));
    const [a1, a2] = [placed(answers.answerOf('A')), placed(answers.answerOf('A'))];
    a1.grow(150);
    a2.grow(150);
    const [b, c] = [placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    b.grow(40);
    c.grow(50);
    // 300 large bytes past 100: A's second waits; 90 small bytes within 100: both small answers go on.
    expect([a1.mayGoOn(), a2.mayGoOn(), b.mayGoOn(), c.mayGoOn()]).toEqual([true, false, true, true]);
    // Past 50, B's answer is large, the youngest of them: it waits as A's second does.
    b.grow(20);
    expect(b.mayGoOn()).toBe(false);
    const bRoom = b.room(undefined, undefined);
    a1.release();
    expect(await settled(bRoom)).toBe('pending');
    a2.release();
    expect(await settled(bRoom)).toBe('resolved');
  });

  it('bound small answers together as large ones: past the bound, only the first of them goes on', () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 50));
    const small = Array.from({ length: 3 }, (_, i) => placed(answers.answerOf(String(i))));
    for (const share of small) share.grow(40);
    expect(small.map((share) => share.mayGoOn())).toEqual([true, false, false]);
  });

  it("wake other callers' answers when one is made, in the order they began", async () => {
    const answers = new AnswersBeingMade(bounds(100, 100));
    const [a, b, c] = [placed(answers.answerOf('A')), placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    a.grow(90);
    b.grow(90);
    c.grow(90);
    const [bRoom, cRoom] = [b.room(undefined, undefined), c.room(undefined, undefined)];
    expect([await settled(bRoom), await settled(cRoom)]).toEqual(['pending', 'pending']);
    a.release();
    expect([await settled(bRoom), await settled(cRoom)]).toEqual(['resolved', 'pending']);
    b.release();
    expect(await settled(cRoom)).toBe('resolved');
  });

  it('let the answers of callers holding the fewest bytes take the room first: a caller new to a full pool is not always behind', async () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 0));
    const [a, b, c] = [placed(answers.answerOf('A')), placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    a.grow(90);
    b.grow(50);
    c.large();
    const order: string[] = [];
    const rooms = [b.room(undefined, undefined).then(() => order.push('B')), c.room(undefined, undefined).then(() => order.push('C'))];
    a.release();
    await Promise.all(rooms);
    expect(order).toEqual(['C', 'B']);
  });

  it('bound many tokens as they bound one: callers past an equal part of the bound make at most the bound and one answer', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 80 })), { maxLength: 60 }), (grown) => {
        const answers = new AnswersBeingMade(bounds(100, 150));
        const held = new Map<number, number>();
        let goingPastTheirPart = 0;
        for (const [caller, bytes] of grown) {
          const share = placed(answers.answerOf(String(caller)));
          share.grow(bytes);
          held.set(caller, (held.get(caller) ?? 0) + bytes);
          // An answer that has no room waits at its next list (holding what it counted): it makes no more.
          if (share.mayGoOn() && held.get(caller)! * held.size >= 150) goingPastTheirPart += bytes;
        }
        expect(goingPastTheirPart).toBeLessThanOrEqual(150 + 80);
      }),
      { numRuns: 300 },
    );
  });
});

describe('small answers and large', () => {
  it('are each bounded: however many callers, at most the bound and one answer of each kind go on', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 80 })), { maxLength: 60 }), (grown) => {
        const answers = new AnswersBeingMade(bounds(100, 150, Infinity, Infinity, 40));
        const going = { small: 0, large: 0 };
        for (const [caller, bytes] of grown) {
          const share = placed(answers.answerOf(String(caller)));
          share.grow(bytes);
          if (share.mayGoOn()) going[bytes <= 40 ? 'small' : 'large'] += bytes;
        }
        expect(going.small).toBeLessThanOrEqual(150 + 40);
        expect(going.large).toBeLessThanOrEqual(150 + 80);
      }),
      { numRuns: 300 },
    );
  });
});

describe('small answers and large, going on', () => {
  it("let the first large answer go on though its caller's first answer, begun small, is large now behind others", () => {
    const answers = new AnswersBeingMade(bounds(100, 100, Infinity, Infinity, 50));
    const x = placed(answers.answerOf('A'));
    x.grow(10);
    const y = placed(answers.answerOf('A'));
    y.large();
    y.grow(60);
    const z = placed(answers.answerOf('B'));
    z.large();
    z.grow(200);
    x.grow(100);
    // A's share and the large answers' room are both past their bounds: Y, the first large answer of all,
    // is A's first large one, and goes on.
    expect([x.mayGoOn(), y.mayGoOn(), z.mayGoOn()]).toEqual([false, true, false]);
  });

  it('wakes small answers waiting when another leaves them for the large', async () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 60));
    const [first, waiting] = [placed(answers.answerOf('A')), placed(answers.answerOf('B'))];
    first.grow(60);
    waiting.grow(50);
    expect(waiting.mayGoOn()).toBe(false);
    const room = waiting.room(undefined, undefined);
    first.grow(1);
    expect(await settled(room)).toBe('resolved');
  });

  it('always lets an answer go on, however answers begin, grow, hold room for calls, turn large and end; and counts nothing once all are made', () => {
    const step = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 60 }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const answers = new AnswersBeingMade(bounds(100, 150, Infinity, Infinity, 40));
        const live: AnswerShare[] = [];
        const grown = new Set<AnswerShare>();
        const onTheirWay: Array<() => void> = [];
        for (const [action, index, bytes] of steps) {
          const share = live[index % Math.max(1, live.length)];
          if (action === 0 || share === undefined) live.push(placed(answers.answerOf(String(index % 3))));
          else if (action === 1) {
            share.grow(bytes);
            grown.add(share);
          } else if (action === 2) share.large();
          else if (action === 3) {
            share.release();
            live.splice(live.indexOf(share), 1);
            grown.delete(share);
          } else if (action === 4) {
            onTheirWay.push(share.reserve(bytes).giveBack);
            grown.add(share);
          } else if (action === 5) onTheirWay.splice(index % Math.max(1, onTheirWay.length), 1)[0]?.();
          else {
            share.restart();
            grown.delete(share);
          }
          if (grown.size > 0) expect([...grown].some((answer) => answer.mayGoOn())).toBe(true);
        }
        for (const share of live) share.release();
        for (const giveBack of onTheirWay) giveBack();
        expect(answers.stats.bytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('room held for upstream answers on their way', () => {
  it('counts in the room of its answer\'s kind: another answer waits until it is given back', async () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 60));
    const [calling, other] = [placed(answers.answerOf('A')), placed(answers.answerOf('B'))];
    const { giveBack } = calling.reserve(100);
    other.grow(10);
    expect(answers.stats.bytes).toBe(110);
    expect([calling.mayGoOn(), other.mayGoOn()]).toEqual([true, false]);
    const room = other.room(undefined, undefined);
    giveBack();
    expect(await settled(room)).toBe('resolved');
    expect(answers.stats.bytes).toBe(10);
  });

  it('does not make an answer large: only what it grew does', () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 60));
    const [calling, large] = [placed(answers.answerOf('A')), placed(answers.answerOf('B'))];
    large.grow(200);
    calling.reserve(90);
    // Among the small answers (the first of them), not behind the large one past its bound.
    expect(calling.mayGoOn()).toBe(true);
    calling.grow(61);
    expect(calling.mayGoOn()).toBe(false);
  });

  it('is given back once, and not at all once the answer was made again or made', () => {
    const answers = new AnswersBeingMade(bounds(1000));
    const share = placed(answers.answerOf('A'));
    const [first, second] = [share.reserve(30), share.reserve(40)];
    first.giveBack();
    first.giveBack();
    expect(answers.stats.bytes).toBe(40);
    share.restart();
    share.grow(5);
    second.giveBack();
    // No longer held: whoever still wants its call asks again, within a room of its own.
    expect(second.growTo(1000)).toBe(false);
    expect(answers.stats.bytes).toBe(5);
    const third = share.reserve(50);
    share.release();
    third.giveBack();
    expect(answers.stats.bytes).toBe(0);
  });

  it('grows as the call looked for room before it held any: its own room does not crowd it out', () => {
    const answers = new AnswersBeingMade(bounds(1024 * 1024, Infinity, Infinity, Infinity, 0));
    const older = placed(answers.answerOf('A'));
    older.large();
    older.grow(1014 * 1024);
    const share = placed(answers.answerOf('A'));
    share.large();
    const room = share.reserve(20 * 1024);
    expect(room.growTo(21 * 1024)).toBe(true);
    expect(answers.stats.bytes).toBe(1035 * 1024);
    // The caller's share full without it: no more.
    older.grow(20 * 1024);
    expect(room.growTo(22 * 1024)).toBe(false);
    expect(answers.stats.bytes).toBe(1055 * 1024);
  });

  it("lets an answer large from its first byte wait for the large answers' room before it holds anything", async () => {
    const answers = new AnswersBeingMade(bounds(1000, 100, Infinity, Infinity, 60));
    const [large, fresh, small] = [placed(answers.answerOf('A')), placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    large.large();
    large.grow(100);
    fresh.large();
    expect([fresh.mayGoOn(), small.mayGoOn()]).toEqual([false, true]);
    const room = fresh.room(undefined, undefined);
    large.release();
    expect(await settled(room)).toBe('resolved');
  });
});

describe('AnswerSizes', () => {
  it('learns what an answer of a kind weighs per item, the largest of late, never past the largest answer accepted', () => {
    const sizes = new AnswerSizes(4 * 1024 * 1024);
    expect(sizes.expected('listJobs p e', 100)).toBeUndefined();
    sizes.learned('listJobs p e', 100_000, 100);
    sizes.learned('listJobs p e', 10_000, 100);
    // The large answer fades (three quarters kept at each answer): one is not the kind's for ever.
    expect(sizes.expected('listJobs p e', 20)).toBe(15_000);
    for (let i = 0; i < 10; i += 1) sizes.learned('listJobs p e', 10_000, 100);
    expect(sizes.expected('listJobs p e', 20)).toBe(2_000);
    expect(sizes.expected('listJobs p other', 20)).toBeUndefined();
    sizes.learned('getJob p e', 300_000, 1);
    expect(sizes.expected('getJob p e', 100)).toBe(4 * 1024 * 1024);
  });
});

describe('slots among the answers being made', () => {
  const slotsOf = (answers: AnswersBeingMade) => answers.stats.slots;

  it('lets as many operations go on as there are slots; the next waits, counting nothing, until one is made', async () => {
    const answers = new AnswersBeingMade(bounds(100, 1000, 2));
    const [a, b, c] = [answers.answerOf('A'), answers.answerOf('B'), answers.answerOf('C')];
    expect([a.mayGoOn(), b.mayGoOn(), c.mayGoOn()]).toEqual([true, true, false]);
    // What it grew before its place counts once it takes one: nothing it holds is left out.
    c.grow(30);
    const made = () => answers.stats.bytes;
    expect(made()).toBe(0);
    const cRoom = c.room(undefined, undefined);
    expect(await settled(cRoom)).toBe('pending');
    a.release();
    expect(await settled(cRoom)).toBe('resolved');
    expect([slotsOf(answers), made()]).toEqual([2, 30]);
  });

  it("bounds a caller's slots, and those of callers the upstream has not accepted together", () => {
    const answers = new AnswersBeingMade(bounds(100, 1000, 10, 2));
    const ofA = Array.from({ length: 3 }, () => answers.answerOf('A'));
    expect(ofA.map((share) => share.mayGoOn())).toEqual([true, true, false]);
    // Made-up tokens, each a caller of its own, hold one caller's places together.
    const strangers = Array.from({ length: 3 }, (_, i) => answers.answerOf(`made-up-${i}`, () => true));
    expect(strangers.map((share) => share.mayGoOn())).toEqual([true, true, false]);
    expect(answers.answerOf('B').mayGoOn()).toBe(true);
    strangers[0]!.release();
    expect(strangers[2]!.mayGoOn()).toBe(true);
  });

  it('gives a freed slot to the waiting caller that holds the fewest, whoever waited first', async () => {
    const answers = new AnswersBeingMade(bounds(100, 1000, 3));
    const ofA = Array.from({ length: 3 }, () => answers.answerOf('A'));
    expect(ofA.map((share) => share.mayGoOn())).toEqual([true, true, true]);
    const laterOfA = answers.answerOf('A');
    expect(laterOfA.mayGoOn()).toBe(false);
    const aRoom = laterOfA.room(undefined, undefined);
    const b = answers.answerOf('B');
    expect(b.mayGoOn()).toBe(false);
    const bRoom = b.room(undefined, undefined);
    ofA[0]!.release();
    expect([await settled(aRoom), await settled(bRoom)]).toEqual(['pending', 'resolved']);
    ofA[1]!.release();
    expect(await settled(aRoom)).toBe('resolved');
  });

  it("never gives a second slot to an operation whose credentials are accepted while it waits for one", async () => {
    // One slot for all strangers, two in all: a stranger waits while a slot is free to a caller.
    const answers = new AnswersBeingMade(bounds(100, 1000, 2, 1));
    const holder = answers.answerOf('A', () => true, 'an address');
    expect(holder.mayGoOn()).toBe(true);
    let stranger = true;
    const waiting = answers.answerOf('B', () => stranger, 'an address');
    expect(waiting.mayGoOn()).toBe(false);
    const room = waiting.room(undefined, undefined);
    stranger = false;
    // Another call of the same operation while it waits: its slot comes in its turn.
    expect(waiting.mayGoOn()).toBe(false);
    holder.release();
    expect(await settled(room)).toBe('resolved');
    waiting.release();
    expect(answers.stats).toMatchObject({ slots: 0, waiting: 0, strangersSlots: 0 });
  });

  it('never gives a slot to an operation that ended while it waited for one', async () => {
    const answers = new AnswersBeingMade(bounds(100, 1000, 1));
    const [a, b] = [answers.answerOf('A'), answers.answerOf('B')];
    expect([a.mayGoOn(), b.mayGoOn()]).toEqual([true, false]);
    const bRoom = b.room(undefined, undefined);
    b.release();
    a.release();
    expect(await settled(bRoom)).toBe('pending');
    expect(slotsOf(answers)).toBe(0);
    expect(answers.stats.waiting).toBe(0);
  });

  it('hold however many operations of however many callers at most the slots, a caller its own, strangers theirs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.boolean()), { maxLength: 80 }), (steps) => {
        const answers = new AnswersBeingMade(bounds(100, 1000, 6, 3));
        const going: Array<[string, AnswerShare]> = [];
        for (const [caller, stranger, endOne] of steps) {
          if (endOne && going.length > 0) going.splice(caller % going.length, 1)[0]![1].release();
          const share = answers.answerOf(String(caller), () => stranger, 'one address');
          if (share.mayGoOn()) going.push([stranger ? 'strangers' : String(caller), share]);
          expect(going.length).toBeLessThanOrEqual(6);
          for (const holder of ['strangers', '0', '1', '2', '3', '4', '5']) expect(going.filter(([held]) => held === holder).length).toBeLessThanOrEqual(3);
          expect(slotsOf(answers)).toBe(going.length);
        }
      }),
    );
  });

  it("gives a freed strangers' slot to the address that holds the fewest: one address's made-up tokens do not hold back another's", async () => {
    const answers = new AnswersBeingMade(bounds(100, 1000, 10, 3));
    const flood = Array.from({ length: 5 }, (_, i) => answers.answerOf(`made-up-${i}`, () => true, 'flooding'));
    expect(flood.map((share) => share.mayGoOn())).toEqual([true, true, true, false, false]);
    const floodRooms = flood.slice(3).map((share) => share.room(undefined, undefined));
    const newcomer = answers.answerOf('new-token', () => true, 'elsewhere');
    expect(newcomer.mayGoOn()).toBe(false);
    const newcomerRoom = newcomer.room(undefined, undefined);
    flood[0]!.release();
    expect([await settled(newcomerRoom), ...(await Promise.all(floodRooms.map(settled)))]).toEqual(['resolved', 'pending', 'pending']);
  });

  it('keeps its slot when its answer is made again, counting what its loaders still hold', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024, Infinity, 1));
    const budget = new OperationBudget({ maxUpstreamBytes: 16 * 1024 * 1024, maxListItems: 1000 }, 'A', answers.answerOf('A'));
    expect(budget.whenRoom()).toBeUndefined();
    budget.spendUpstream(70 * 1024);
    const other = answers.answerOf('B');
    expect(other.mayGoOn()).toBe(false);
    const otherRoom = other.room(undefined, undefined);
    budget.answerAgain();
    expect(await settled(otherRoom)).toBe('pending');
    expect(answers.stats).toMatchObject({ slots: 1, bytes: 70 * 1024 });
    budget.end();
    expect(await settled(otherRoom)).toBe('resolved');
  });

  it('still ends at its signal when, given a slot, it waits for room', async () => {
    const answers = new AnswersBeingMade(bounds(10, Infinity, 2));
    placed(answers.answerOf('A')).grow(50);
    const other = placed(answers.answerOf('B'));
    const waiting = answers.answerOf('A');
    waiting.grow(5);
    expect(waiting.mayGoOn()).toBe(false);
    const abort = new PlainAbort();
    const room = waiting.room(abort.signal, undefined);
    // The slot goes to it; its 5 bytes count, past its caller's share: it waits for room now.
    other.release();
    expect(await settled(room)).toBe('pending');
    expect(answers.stats).toMatchObject({ slots: 2, waiting: 1 });
    abort.abort(new Error('left'));
    await expect(room).rejects.toThrow('left');
    expect(answers.stats.waiting).toBe(0);
  });
});

describe("an operation's share", () => {
  it('is its own token\'s, a token the upstream has not accepted yet too: one new token does not wait behind another', () => {
    const answers = new AnswersBeingMade(bounds(10));
    const config = loadConfig({ NODE_ENV: 'test', CSE_ENDPOINT: 'http://127.0.0.1:9', CSE_PROJECT_ID: 'p' });
    const http = { isStranger: () => true } as unknown as CseHttpClient;
    const services = { config, http, reportUnknown: () => () => {}, answers } as unknown as ContextServices;
    const shareOf = (token: string) => {
      const { budget } = createContext(services, { credentials: { token, projectId: 'p' } as unknown as Credentials });
      return (budget as unknown as { answers: AnswerShare }).answers;
    };
    const [x, y] = [placed(shareOf('a-new-token-0000000000000001')), placed(shareOf('a-new-token-0000000000000002'))];
    x.grow(50);
    y.grow(1);
    expect(answers.stats).toMatchObject({ bytes: 51, strangersSlots: 2 });
    expect(y.mayGoOn()).toBe(true);
  });
});

describe("an operation's budget in its caller's share", () => {
  const limits = { maxUpstreamBytes: 16 * 1024 * 1024, maxListItems: 1000 };
  const fieldNodes = (parse('{ list { a } }').definitions[0] as any).selectionSet.selections;
  const selection = { fieldNodes, fragments: {} as Record<string, FragmentDefinitionNode> };

  it('waits once for all its lists while the share is full, and makes them all when there is room', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024));
    const oldest = placed(answers.answerOf('A'));
    oldest.grow(1024 * 1024);
    const budget = new OperationBudget(limits, 'A', placed(answers.answerOf('A')));
    budget.sendText('x'.repeat(70 * 1024));
    const lists = Array.from({ length: 100 }, (_, i) => budget.paced(1, selection, () => [i]));
    expect(lists.every((list) => list instanceof Promise)).toBe(true);
    expect(answers.stats.waiting).toBe(1);
    oldest.release();
    expect(await Promise.all(lists)).toEqual(Array.from({ length: 100 }, (_, i) => [i]));
  });

  it('counts the upstream answers it fetched in the share: past it, its next call waits for room', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024));
    const oldest = placed(answers.answerOf('A'));
    oldest.grow(1024 * 1024);
    const budget = new OperationBudget(limits, 'A', answers.answerOf('A'));
    // Its first call: a place, and nothing counted yet.
    expect(budget.whenRoom()).toBeUndefined();
    budget.spendUpstream(70 * 1024);
    const room = budget.whenRoom();
    expect(room).toBeInstanceOf(Promise);
    expect(await settled(room!)).toBe('pending');
    oldest.release();
    expect(await settled(room!)).toBe('resolved');
  });

  it('waits anew once its answer is made again from the start: the wait begun before fails, so its call frees the operation\'s for the new answer', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024));
    const oldest = placed(answers.answerOf('A'));
    oldest.grow(1024 * 1024);
    const budget = new OperationBudget(limits, 'A', answers.answerOf('A'));
    budget.whenRoom();
    budget.spendUpstream(70 * 1024);
    const before = budget.whenRoom()!;
    budget.answerAgain();
    // The pages it fetched are still held: it still has no room.
    const again = budget.whenRoom();
    expect(again).toBeInstanceOf(Promise);
    oldest.release();
    expect([await settled(before), await settled(again!)]).toEqual(['rejected', 'resolved']);
  });

  it("goes on among small answers past the large ones' bound, until its lists hold more items than a small answer's", async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 1024 * 1024, Infinity, Infinity, 256 * 1024));
    const large = placed(answers.answerOf('A'));
    large.grow(2 * 1024 * 1024);
    const budget = new OperationBudget(limits, 'B', answers.answerOf('B'));
    expect(budget.whenRoom()).toBeUndefined();
    budget.spendUpstream(100 * 1024);
    expect(await budget.paced(100, selection, () => 'a page')).toBe('a page');
    // 300 items: a large answer now, the youngest of them, past their bound.
    const next = budget.paced(200, selection, () => 'two more');
    expect(await settled(Promise.resolve(next))).toBe('pending');
    large.release();
    expect(await next).toBe('two more');
  });

  it('counts among the large from its first byte when the admission expects more items than a small answer has', () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 1024 * 1024, Infinity, Infinity, 256 * 1024));
    placed(answers.answerOf('A')).grow(2 * 1024 * 1024);
    const [small, large] = [new OperationBudget(limits, 'B', answers.answerOf('B')), new OperationBudget(limits, 'C', answers.answerOf('C'))];
    small.expectItems(100);
    large.expectItems(29 * 100);
    // Holding nothing yet: the small answer goes on past the large ones' bound, the large one waits behind
    // A's before its first call; and with the same bytes, too.
    expect([small.whenRoom(), large.whenRoom()].map((room) => room === undefined)).toEqual([true, false]);
    small.spendUpstream(100 * 1024);
    expect(small.whenRoom()).toBeUndefined();
  });

  it("does not wait, a small answer, for its caller's large ones: it would hold the small answers' room meanwhile", () => {
    const answers = new AnswersBeingMade(bounds(1024 * 1024, 64 * 1024 * 1024, Infinity, Infinity, 256 * 1024));
    const own = placed(answers.answerOf('A'));
    own.large();
    own.grow(2 * 1024 * 1024);
    const budget = new OperationBudget(limits, 'A', answers.answerOf('A'));
    expect(budget.whenRoom()).toBeUndefined();
    budget.spendUpstream(100 * 1024);
    expect(budget.whenRoom()).toBeUndefined();
  });

  it('fails each waiting list, in turns, when the wait ends at the signal', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024));
    placed(answers.answerOf('A')).grow(1024 * 1024);
    const abort = new PlainAbort();
    const budget = new OperationBudget(limits, 'A', placed(answers.answerOf('A')), { signal: abort.signal });
    budget.sendText('x'.repeat(70 * 1024));
    const lists = Array.from({ length: 3 }, () => Promise.resolve(budget.paced(1, selection, () => [1])).then(() => 'made', (error: { extensions?: { code?: string } }) => error.extensions?.code));
    abort.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(await Promise.all(lists)).toEqual(['UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT']);
  });

  it('holds room for each call on its way, as much as such answers weigh: calls that start together do not all find it', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 192 * 1024, Infinity, Infinity, 256 * 1024));
    const first = placed(answers.answerOf('A'));
    first.grow(1);
    answers.answerOf('A').sizes.learned('getJob p e', 64 * 1024, 1);
    const budget = new OperationBudget(limits, 'B', answers.answerOf('B'));
    const calls = [budget.callStarts('getJob p e', 1), budget.callStarts('getJob p e', 1), budget.callStarts('getJob p e', 1)];
    expect(calls.every(isRoom)).toBe(true);
    // The small answers' room is taken: the fourth waits until room is given back.
    const fourth = budget.callStarts('getJob p e', 1);
    expect(fourth).toBeInstanceOf(Promise);
    expect(answers.stats.bytes).toBe(1 + 3 * 64 * 1024);
    (calls[0] as CallRoom).end();
    const started = await fourth;
    started.end();
    for (const call of calls.slice(1)) (call as CallRoom).end();
    expect(answers.stats.bytes).toBe(1);
  });

  it('holds 64 KiB for a call of a kind nobody has learned, its other calls of the kind waiting for it; then as much as it was learned to weigh', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 1024 * 1024, Infinity, Infinity, 256 * 1024));
    const budget = new OperationBudget(limits, 'B', answers.answerOf('B'));
    const cold = budget.callStarts('listJobs p e', 100) as CallRoom;
    expect(answers.stats.bytes).toBe(64 * 1024);
    const next = budget.callStarts('listJobs p e', 50);
    // Another kind, and another operation's call of the kind, do not wait.
    expect(isRoom(budget.callStarts('getEngine p e', 1))).toBe(true);
    expect(isRoom(new OperationBudget(limits, 'C', answers.answerOf('C')).callStarts('listJobs p e', 50))).toBe(true);
    expect(await settled(next as Promise<unknown>)).toBe('pending');
    budget.learnSize('listJobs p e', 100 * 1000, 100);
    cold.end();
    expect(isRoom(await next)).toBe(true);
    expect(answers.stats.bytes).toBe(2 * 64 * 1024 + 50 * 1000);
  });

  it('is large from its first byte when a call is expected to bring more than a small answer: it waits for the large answers\' room', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 1024 * 1024, Infinity, Infinity, 256 * 1024));
    const large = placed(answers.answerOf('A'));
    large.large();
    large.grow(2 * 1024 * 1024);
    large.sizes.learned('listJobs p big', 40_000, 1);
    large.sizes.learned('listJobs p small', 100, 1);
    const [big, small] = [new OperationBudget(limits, 'B', answers.answerOf('B')), new OperationBudget(limits, 'C', answers.answerOf('C'))];
    const waiting = big.callStarts('listJobs p big', 100);
    expect(waiting).toBeInstanceOf(Promise);
    expect(isRoom(small.callStarts('listJobs p small', 100))).toBe(true);
    large.release();
    expect(isRoom(await waiting)).toBe(true);
    expect(answers.stats.bytes).toBe(4_000_000 + 10_000);
  });

  it("is large once what it holds and a call's expected answer pass a small answer's bytes: its room for calls on their way does not fill the small answers'", async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024, 1024 * 1024, Infinity, Infinity, 256 * 1024));
    const large = placed(answers.answerOf('A'));
    large.large();
    large.grow(2 * 1024 * 1024);
    large.sizes.learned('getJob p e', 100 * 1024, 1);
    const budget = new OperationBudget(limits, 'B', answers.answerOf('B'));
    const calls = [budget.callStarts('getJob p e', 1), budget.callStarts('getJob p e', 1)];
    expect(calls.every(isRoom)).toBe(true);
    // 200 KiB held, 100 more expected: large now, behind A's large answer.
    const third = budget.callStarts('getJob p e', 1);
    expect(third).toBeInstanceOf(Promise);
    large.release();
    expect(isRoom(await third)).toBe(true);
  });

  it("goes on holding nothing only while its first call is expected to bring at most a slot's bytes: past them, it waits for a full small pool", async () => {
    const answers = new AnswersBeingMade({ ...bounds(64 * 1024 * 1024, 256 * 1024, Infinity, Infinity, 256 * 1024), slotBytes: 64 * 1024 });
    const filler = placed(answers.answerOf('A'));
    filler.grow(256 * 1024);
    filler.sizes.learned('getJob p big', 200 * 1024, 1);
    filler.sizes.learned('getJob p tiny', 1000, 1);
    expect(isRoom(new OperationBudget(limits, 'B', answers.answerOf('B')).callStarts('getJob p tiny', 1))).toBe(true);
    const big = new OperationBudget(limits, 'C', answers.answerOf('C')).callStarts('getJob p big', 1);
    expect(big).toBeInstanceOf(Promise);
    filler.release();
    expect(isRoom(await big)).toBe(true);
  });

  it('lets the first small answer go on however little it holds, its next call expected past a slot\'s bytes: a full small pool always lets one on', () => {
    const answers = new AnswersBeingMade({ ...bounds(1e9, 200, Infinity, Infinity, 100), slotBytes: 10 });
    const first = placed(answers.answerOf('Z'));
    // Its first call answered under a slot's bytes: nothing counted, still the first of the small answers.
    first.reserve(5).giveBack();
    const [b, c] = [placed(answers.answerOf('B')), placed(answers.answerOf('C'))];
    b.grow(100);
    c.grow(100);
    first.expect(50);
    expect([first.mayGoOn(), b.mayGoOn(), c.mayGoOn()]).toEqual([true, false, false]);
    first.expect(0);
    expect(first.reserve(5).growTo(50)).toBe(true);
  });

  it('starts no call once its operation was cut short', async () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024 * 1024));
    const abort = new PlainAbort();
    const budget = new OperationBudget(limits, 'B', answers.answerOf('B'), { signal: abort.signal });
    abort.abort(new DOMException('timed out', 'TimeoutError'));
    await expect(budget.callStarts('getJob p e', 1)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('asks again for an answer that outgrew its room only once there is room for it: an answer growing between asks is not asked for in a loop', async () => {
    const answers = new AnswersBeingMade({ ...bounds(1024 * 1024, 64 * 1024 * 1024, 100, 100, 256 * 1024), slotBytes: 64 * 1024 });
    const oldest = placed(answers.answerOf('A'));
    oldest.large();
    oldest.grow(1014 * 1024);
    const budget = new OperationBudget(limits, 'A', answers.answerOf('A'));
    let calls = 0;
    // A running job whose log grows: each answer announces 1 KB more than the one before, past the room held.
    const http = {
      get: async (call: UpstreamCall) => {
        calls += 1;
        const announced = 300 * 1024 + calls * 1024;
        await new Promise((resolve) => setImmediate(resolve));
        if (call.room?.fits(announced) === false) throw new AnswerOutgrewRoom(announced, true);
        return { kind: 'ok', body: { id: 1, engineId: 'e', status: 'Executing' }, requestId: 'r', bytes: announced };
      },
    } as unknown as CseHttpClient;
    const request = { credentials: { token: 't', projectId: 'p' } as Credentials, refusal: {} };
    const api = new CseApi({ http, request, limit: (fn) => fn(), pageBase: 1, timeFormat: 'epoch-ms', budget });
    // The caller's share full but for the call's own room: it grows into it.
    expect(await api.getJob('e', '1')).toMatchObject({ id: 1 });
    expect(calls).toBe(1);
    // Full without it, the kind now known to be large: it waits before it asks, and asks once there is room.
    oldest.grow(20 * 1024);
    const job = api.getJob('e', '1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
    oldest.release();
    expect(await job).toMatchObject({ id: 1 });
    expect(calls).toBe(2);
  });

  it('holds no more room for a call than the operation may still use, and reads no answer past it: one that announces more fails the operation\'s bytes at once, unread, and no call follows', async () => {
    const answers = new AnswersBeingMade({ ...bounds(64 * 1024 * 1024, 64 * 1024 * 1024, 100, 100, 256 * 1024), slotBytes: 64 * 1024 });
    const small = { maxUpstreamBytes: 1024 * 1024, maxListItems: 1000 };
    const budget = new OperationBudget(small, 'B', answers.answerOf('B'));
    budget.spendUpstream(1000 * 1024);
    answers.answerOf('A').sizes.learned('getJob p e', 4 * 1024 * 1024, 1);
    const room = budget.callStarts('getJob p e', 1) as CallRoom;
    // 24 KiB left: held for the call, not the 4 MiB such answers weigh.
    expect(answers.stats.bytes).toBe(1024 * 1024);
    expect([room.fits(24 * 1024), room.fits(24 * 1024 + 1)]).toEqual([true, false]);
    room.end();
    // Through CseApi: the answer announces 4 MiB; the room refuses it at its headers, and it is not asked again.
    let calls = 0;
    const http = {
      get: async (call: UpstreamCall) => {
        calls += 1;
        if (call.room?.fits(4 * 1024 * 1024) === false) throw new AnswerOutgrewRoom(4 * 1024 * 1024, true);
        return { kind: 'ok', body: { id: 1, engineId: 'e', status: 'Executing' }, requestId: 'r', bytes: 4 * 1024 * 1024 };
      },
    } as unknown as CseHttpClient;
    const request = { credentials: { token: 't', projectId: 'p' } as Credentials, refusal: {} };
    const api = new CseApi({ http, request, limit: (fn) => fn(), pageBase: 1, timeFormat: 'epoch-ms', budget });
    const tooLarge = { extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES' }) };
    await expect(api.getJob('e', '1')).rejects.toMatchObject(tooLarge);
    expect(calls).toBe(1);
    // Nor is any other call made, as after an answer read past the bound.
    await expect(api.getEngine('e')).rejects.toMatchObject(tooLarge);
    expect(calls).toBe(1);
    budget.end();
    expect(answers.stats.bytes).toBe(0);
  });

  it('learns what a chunked answer cut short brought, not the twice as much it is asked for again with', async () => {
    const answers = new AnswersBeingMade({ ...bounds(64 * 1024 * 1024, 64 * 1024 * 1024, 100, 100, 256 * 1024), slotBytes: 64 * 1024 });
    const budget = new OperationBudget({ maxUpstreamBytes: 64 * 1024, maxListItems: 1000 }, 'B', answers.answerOf('B'));
    // Without a length: cut short at 100 KB read, past what the operation may use.
    const http = {
      get: async (call: UpstreamCall) => {
        if (call.room?.fits(100 * 1024) === false) throw new AnswerOutgrewRoom(100 * 1024, false);
        return { kind: 'ok', body: { id: 1, engineId: 'e', status: 'Executing' }, requestId: 'r', bytes: 100 * 1024 };
      },
    } as unknown as CseHttpClient;
    const request = { credentials: { token: 't', projectId: 'p' } as Credentials, refusal: {} };
    const api = new CseApi({ http, request, limit: (fn) => fn(), pageBase: 1, timeFormat: 'epoch-ms', budget });
    await expect(api.getJob('e', '1')).rejects.toMatchObject({ extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE' }) });
    expect(answers.answerOf('A').sizes.expected('getJob p e', 1)).toBe(100 * 1024);
  });

  it("expects no call once one waiting is refused for the operation's bytes: holding nothing, its lists do not wait as if a large call were coming", async () => {
    const answers = new AnswersBeingMade({ ...bounds(64 * 1024 * 1024, 256 * 1024, Infinity, Infinity, 256 * 1024), slotBytes: 64 * 1024 });
    const filler = placed(answers.answerOf('A'));
    filler.grow(256 * 1024);
    filler.sizes.learned('getJob p big', 100 * 1024, 1);
    const budget = new OperationBudget({ maxUpstreamBytes: 128 * 1024, maxListItems: 1000 }, 'B', answers.answerOf('B'));
    // Expected past a slot's bytes, holding nothing: it waits for the full small pool, and its lists with it.
    const call = budget.callStarts('getJob p big', 1);
    expect(call).toBeInstanceOf(Promise);
    const list = budget.whenRoom()!;
    // Meanwhile another of its answers announced more than the operation may use, and its next call is refused.
    expect(() => budget.beforeCall(200 * 1024)).toThrow();
    expect(() => budget.callStarts('getJob p other', 1)).toThrow();
    // Nothing was given back, yet the wait is over: the list goes on, the call is refused.
    expect(await settled(list)).toBe('resolved');
    await expect(call).rejects.toMatchObject({ extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE' }) });
    expect(budget.whenRoom()).toBeUndefined();
    filler.release();
  });

  it("frees the operation's calls for the answer made again: a call of the answer before, waiting for room, does not keep its place", async () => {
    const answers = new AnswersBeingMade(bounds(256 * 1024));
    const oldest = placed(answers.answerOf('A'));
    oldest.grow(1024 * 1024);
    const budget = new OperationBudget(limits, 'A', answers.answerOf('A'));
    // CSE_REQUEST_CONCURRENCY 1: one call of the operation at a time.
    const limiter = new InFlightLimiter({ inFlight: 1, queue: Infinity });
    const http = { get: async () => ({ kind: 'ok', body: { id: 'e', name: 'e' }, requestId: 'r', bytes: 100 }) } as unknown as CseHttpClient;
    const request = { credentials: { token: 't', projectId: 'p' } as Credentials, refusal: {} };
    const api = new CseApi({ http, request, limit: (fn) => limiter.run(fn), pageBase: 1, timeFormat: 'epoch-ms', budget });
    budget.sendText('x'.repeat(70 * 1024));
    const before = api.getEngine('e');
    expect(await settled(before)).toBe('pending');
    budget.answerAgain();
    oldest.release();
    await expect(before).rejects.toBeDefined();
    await expect(api.getEngine('e')).resolves.toMatchObject({ id: 'e' });
  });

  it('gives back what it counted when its answer is made again from the start, and when it ends', () => {
    const answers = new AnswersBeingMade(bounds(64 * 1024));
    const budget = new OperationBudget(limits, 'A', placed(answers.answerOf('A')));
    const held = () => answers.stats.bytes;
    budget.sendText('x'.repeat(70 * 1024));
    expect(held()).toBeGreaterThanOrEqual(70 * 1024);
    budget.answerAgain();
    expect(held()).toBe(0);
    budget.sendText('x'.repeat(70 * 1024));
    budget.end();
    expect(held()).toBe(0);
  });
});
