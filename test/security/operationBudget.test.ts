import { GraphQLError, Kind, parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { PlainAbort } from '../../src/cache/abort';
import { OperationBudget, type ListSelection } from '../../src/graphql/execution/operationBudget';
import { parseJsonInTurns } from '../../src/upstream/parseJson';

const limits = { maxUpstreamBytes: 1000, maxListItems: 10 };

/** The first field of `document`'s operation as a list field, with the document's fragments. */
function listOf(document: string): ListSelection {
  const parsed = parse(document);
  const operation = parsed.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of parsed.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments };
}

/** Items of ten fields each: 1000 of them are a turn's worth. */
const TEN_FIELDS = listOf('{ list { a b c d e f g h i j } }');

function codeOf(run: () => void): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions : error;
  }
}

describe('OperationBudget: upstream bytes', () => {
  it.each([
    [[400, 600], [undefined, undefined]],
    [[400, 601], [undefined, { code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES', limit: 1000 }]],
    [[1001], [{ code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES', limit: 1000 }]],
    [[0, 0, 1000], [undefined, undefined, undefined]],
  ])('answers %j as %j', (answers, expected) => {
    const budget = new OperationBudget(limits);
    expect(answers.map((bytes) => codeOf(() => budget.spendUpstream(bytes)))).toEqual(expected);
  });

  it('refuses a call once the bytes are used, not before', () => {
    const budget = new OperationBudget(limits);
    budget.spendUpstream(999);
    expect(codeOf(() => budget.beforeCall())).toBeUndefined();
    budget.spendUpstream(1);
    expect(codeOf(() => budget.beforeCall())).toEqual({ code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES', limit: 1000 });
  });
});

describe('OperationBudget: sent text', () => {
  const SENT = { code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: 1000 };
  type Step = ['text', unknown] | ['json', unknown] | ['list', number] | ['again'];
  const run = (budget: OperationBudget, [kind, value]: Step) => {
    if (kind === 'text') return budget.sendText(value);
    if (kind === 'json') return budget.sendJson({}, () => value);
    if (kind === 'list') return budget.sendList(value as number);
    return budget.answerAgain();
  };

  it.each<[string, Step[], unknown[]]>([
    ['text up to the bound', [['text', 'a'.repeat(600)], ['text', 'a'.repeat(400)]], [undefined, undefined]],
    ['each copy of a text', [['text', 'a'.repeat(600)], ['text', 'a'.repeat(600)]], [undefined, SENT]],
    ['UTF-8 bytes', [['text', 'é'.repeat(500)], ['text', 'é']], [undefined, SENT]],
    ['nothing for what is not a string', [['text', null], ['text', 12345], ['text', undefined], ['text', 'a'.repeat(1000)]], [undefined, undefined, undefined, undefined]],
    ['JSON as its text', [['json', { a: 'a'.repeat(992) }], ['json', {}]], [undefined, SENT]],
    ['a JSON string as its text', [['json', 'a'.repeat(998)], ['json', 'a']], [undefined, SENT]],
    ['escapes as written', [['text', '\u0001'.repeat(166)], ['text', '"\\'], ['text', 'a'.repeat(2)]], [undefined, undefined, SENT]],
    ['JSON escapes as written', [['json', ['\u0001'.repeat(166)]], ['json', 'a']], [undefined, SENT]],
    ['numbers as written', [['json', Array(45).fill(1e20)], ['json', [1e20]]], [undefined, SENT]],
    ['128 bytes per list item', [['list', 7], ['text', 'a'.repeat(104)], ['text', 'a']], [undefined, undefined, SENT]],
    ['anew once the answer is made again', [['text', 'a'.repeat(1000)], ['again'], ['text', 'a'.repeat(1000)]], [undefined, undefined, undefined]],
  ])('counts %s', (_name, steps, expected) => {
    const budget = new OperationBudget(limits);
    expect(steps.map((step) => codeOf(() => run(budget, step)))).toEqual(expected);
  });
});

describe('OperationBudget: JSON made once', () => {
  it('makes the JSON of one source once per operation, and counts each copy', async () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 1000, maxListItems: 10 });
    const source = {};
    const make = jest.fn(() => Promise.resolve('a'.repeat(298)));
    const copies = [1, 2, 3, 4].map(() => budget.sendJson(source, make));
    const settled = await Promise.allSettled(copies);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(make).toHaveBeenCalledTimes(1);
    const other = jest.fn(() => 'b');
    expect(codeOf(() => budget.sendJson({}, other))).toMatchObject({ reason: 'SENT_BYTES' });
    expect(other).not.toHaveBeenCalled();
  });
});

describe('OperationBudget: lists', () => {
  it.each([
    [0, undefined],
    [10, undefined],
    [11, { code: 'RESPONSE_TOO_LARGE', reason: 'LIST_ITEMS', limit: 10 }],
  ])('a list of %i items: %j', (count, expected) => {
    expect(codeOf(() => new OperationBudget({ ...limits, maxUpstreamBytes: 10_000 }).sendList(count))).toEqual(expected);
  });

  it('makes lists at once up to a turn of 10,000 fields (items × fields each), then one turn of the event loop per 10,000, in order', async () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 1e9, maxListItems: 1000 });
    const made: number[] = [];
    let turn = 0;
    let next: NodeJS.Immediate;
    const count = () => {
      turn += 1;
      next = setImmediate(count);
    };
    next = setImmediate(count);
    try {
      const lists = Array.from({ length: 9 }, (_, i) => budget.paced(400, TEN_FIELDS, () => (made.push(turn), i)));
      // Two lists fit in this turn; the others are promised for later turns, two or three a turn.
      expect(lists.slice(0, 2)).toEqual([0, 1]);
      expect(lists.slice(2).every((list) => list instanceof Promise)).toBe(true);
      expect(await Promise.all(lists)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(made.slice(0, 2)).toEqual([0, 0]);
      // Never more than 1000 items (10,000 fields) made in one turn, and every turn after the first makes some.
      const perTurn = new Map<number, number>();
      for (const t of made) perTurn.set(t, (perTurn.get(t) ?? 0) + 400);
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(1000);
      expect([...perTurn.keys()]).toEqual([...new Set(made)].sort((a, b) => a - b));
      expect(perTurn.size).toBeGreaterThanOrEqual(5);
    } finally {
      clearImmediate(next);
    }
  });

  it('gives a list longer than a turn a turn of its own, and starts counting again once the turns are over', async () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 1e9, maxListItems: 5000 });
    expect(budget.paced(600, TEN_FIELDS, () => 'a')).toBe('a');
    const long = budget.paced(3000, TEN_FIELDS, () => 'b');
    const after = budget.paced(10, TEN_FIELDS, () => 'c');
    expect(long).toBeInstanceOf(Promise);
    expect(after).toBeInstanceOf(Promise);
    expect(await Promise.all([long, after])).toEqual(['b', 'c']);
    // The turns are over: a small list is made at once again.
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.paced(10, TEN_FIELDS, () => 'd')).toBe('d');
  });

  it.each([
    ['a leaf per item', '{ list { a } }', 1],
    ['nested objects count their fields', '{ list { a b { c d } } }', 4],
    ['fragments are expanded, inline or named', 'query { list { ...F ... on T { e } } } fragment F on T { a b { c } }', 4],
    ['aliases of one field count each', '{ list { a x: a y: a } }', 3],
    ['a list below counts its selection once (it is paced apart)', '{ list { a tasks { b c } } }', 4],
    ['an item of scalars (a list of leaves) counts as one', '{ list }', 1],
  ])('weighs an item by the fields it selects: %s', async (_what, document, fields) => {
    // One list of 10,000 fields fits the first turn; one field more waits for the next.
    const budget = new OperationBudget({ maxUpstreamBytes: 1e9, maxListItems: 10_000 });
    expect(budget.paced(Math.floor(10_000 / fields), listOf(document), () => 'now')).toBe('now');
    const later = budget.paced(1, TEN_FIELDS, () => 'later');
    expect(later).toBeInstanceOf(Promise);
    await expect(later).resolves.toBe('later');
  });
});

describe('OperationBudget: an operation cut short (its caller left, or its time is up)', () => {
  const cutShort = () => {
    const abort = new PlainAbort();
    const roomy = { maxUpstreamBytes: 1e9, maxListItems: 10_000 };
    return { abort, budget: new OperationBudget(roomy, 'a', undefined, { signal: abort.signal }) };
  };

  it('fails its next list at once, classified, and makes nothing of it', async () => {
    const { abort, budget } = cutShort();
    abort.abort();
    let made = false;
    await expect((async () => budget.paced(3, TEN_FIELDS, () => (made = true)))()).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT' } });
    expect(made).toBe(false);
  });

  it('fails a list waiting for its turn when the signal aborts meanwhile', async () => {
    const { abort, budget } = cutShort();
    budget.paced(1000, TEN_FIELDS, () => 'first turn');
    let made = false;
    const later = Promise.resolve(budget.paced(1000, TEN_FIELDS, () => (made = true)));
    abort.abort();
    await expect(later).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT' } });
    expect(made).toBe(false);
  });

  it('stops parsing JSON it makes in turns, and fails the field classified', async () => {
    const { abort, budget } = cutShort();
    const text = `[${Array(400_000).fill('1').join(',')}]`;
    const field = budget.sendJson(text, (caller, signal) => parseJsonInTurns(text, 64, undefined, undefined, caller, signal));
    abort.abort();
    await expect(field).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_TIMEOUT' } });
    expect(() => budget.sendJson('another', () => 1)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_TIMEOUT' }) }));
  });
});

describe("OperationBudget: a list's keys", () => {
  it.each([
    ['a field: its name, quoted, with colon and comma', '{ list { a } }', 5],
    ['an alias: the alias, whatever the field', '{ list { longer: a } }', 10],
    ['nested objects: their keys too', '{ list { a b { c d } } }', 20],
    ['fragments expanded where spread, inline or named', 'query { list { ...F ...F ... on T { e } } } fragment F on T { abc }', 7 + 7 + 5],
    ['a list below: its keys once (again when it is paced)', '{ list { tasks { b } } }', 9 + 5],
    ['an item of scalars: none', '{ list }', 0],
  ])('counts %s as sent before the list is made', (_what, document, keyBytes) => {
    const selection = listOf(document);
    const budget = new OperationBudget({ maxUpstreamBytes: 100 * keyBytes, maxListItems: 1000 });
    expect(codeOf(() => budget.paced(100, selection, () => 'made'))).toBeUndefined();
    const over = codeOf(() => budget.paced(1, selection, () => 'made'));
    expect(over).toEqual(keyBytes === 0 ? undefined : { code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: 100 * keyBytes });
  });

  it('refuses a long alias before anything of the list is made', () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 16 * 1024 * 1024, maxListItems: 1000 });
    const made = jest.fn();
    const selection = listOf(`{ list { ${'a'.repeat(200_000)}: b } }`);
    expect(codeOf(() => budget.paced(100, selection, made))).toEqual({ code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: 16 * 1024 * 1024 });
    expect(made).not.toHaveBeenCalled();
  });
});

describe('OperationBudget: failures and objects in turns', () => {
  it('throws up to a turn of failures at once (10 fields each), then rejects the rest in later turns', async () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 1e9, maxListItems: 1000 });
    const error = new Error('refused');
    const now = Array.from({ length: 1000 }, () => codeOf(() => void budget.failInTurn(error)));
    expect(now.every((thrown) => thrown === error)).toBe(true);
    let later: unknown;
    expect(() => (later = budget.failInTurn(error))).not.toThrow();
    expect(later).toBeInstanceOf(Promise);
    await expect(later).rejects.toBe(error);
  });

  it('hands an object over in turns by the fields it selects, without counting its keys as sent', async () => {
    const budget = new OperationBudget({ maxUpstreamBytes: 0, maxListItems: 1000 });
    const engine = listOf('{ engine { a b c d e f g h i j } }');
    const objects = Array.from({ length: 1001 }, (_, i) => budget.pacedObject(engine, i));
    // Ten fields an object: a thousand fit the first turn.
    expect(objects.slice(0, 1000).every((object, i) => object === i)).toBe(true);
    expect(objects[1000]).toBeInstanceOf(Promise);
    await expect(objects[1000]).resolves.toBe(1000);
  });
});

describe('resolvers whose failure every item of a page shares fail in their turn', () => {
  // Required here so the budget's own tests need no schema.
  const { Engine } = require('../../src/graphql/resolvers/Engine') as typeof import('../../src/graphql/resolvers/Engine');
  const { Job } = require('../../src/graphql/resolvers/Job') as typeof import('../../src/graphql/resolvers/Job');

  /** A budget whose current turn is already full of failures. */
  function fullTurn(limits = { maxUpstreamBytes: 1e9, maxListItems: 1000 }): OperationBudget {
    const budget = new OperationBudget(limits);
    for (let i = 0; i < 1000; i++) codeOf(() => void budget.failInTurn(new Error('earlier')));
    return budget;
  }

  /** Rejected within the current drain of microtasks, or only after a turn of the event loop. */
  async function whenRejected(result: unknown): Promise<'now' | 'later'> {
    let rejected = false;
    (result as Promise<unknown>).catch(() => (rejected = true));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    if (rejected) return 'now';
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    return rejected ? 'later' : ('never' as never);
  }

  it("Engine.latestJob: the job's call rejected", async () => {
    const budget = fullTurn();
    const loaders = { job: { load: () => Promise.reject(new Error('refused call')) } };
    const result = (Engine.latestJob as Function)({ id: 'e', latestJobId: '1' }, {}, { loaders, budget }, TEN_FIELDS);
    expect(await whenRejected(result)).toBe('later');
  });

  it('Job.engine: the engine every job waits for rejected', async () => {
    const budget = fullTurn();
    const loaders = { engine: { load: () => Promise.reject(new Error('refused call')) } };
    const result = (Job.engine as Function)({ id: '1', engineId: 'e' }, {}, { loaders, budget }, TEN_FIELDS);
    expect(await whenRejected(result)).toBe('later');
  });

  it("Job.tasks: a job's tasks past MAX_LIST_ITEMS", async () => {
    const budget = fullTurn({ maxUpstreamBytes: 1e9, maxListItems: 2 });
    const job = { id: '1', engineId: 'e', tasks: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] };
    let result: unknown;
    expect(() => (result = (Job.tasks as Function)(job, {}, { budget }, TEN_FIELDS))).not.toThrow();
    expect(await whenRejected(result)).toBe('later');
    await expect(result).rejects.toMatchObject({ extensions: { code: 'RESPONSE_TOO_LARGE', reason: 'LIST_ITEMS' } });
  });
});
