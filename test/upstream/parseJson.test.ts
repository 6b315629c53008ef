import fc from 'fast-check';
import { parseUpstreamBody, UpstreamBodyError } from '../../src/upstream/parseJson';

const TWO_POW_53 = 2n ** 53n;

/**
 * `actual` equals `expected` (what JSON.parse made of the same text), except where the text had
 * an integer literal beyond 2^53: there JSON.parse has a rounded number and `actual` the digits,
 * which must denote that same number.
 */
function expectJsonParseExceptUnsafeIntegers(actual: unknown, expected: unknown): void {
  if (typeof expected === 'number' && Number.isInteger(expected) && !Number.isSafeInteger(expected) && typeof actual === 'string') {
    expect(actual).toMatch(/^-?\d+$/);
    expect(Number(actual)).toBe(expected);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((item, i) => expectJsonParseExceptUnsafeIntegers((actual as unknown[])[i], item));
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    expect(typeof actual === 'object' && actual !== null && !Array.isArray(actual)).toBe(true);
    expect(Object.keys(actual as object)).toEqual(Object.keys(expected));
    for (const [key, item] of Object.entries(expected)) {
      expectJsonParseExceptUnsafeIntegers((actual as Record<string, unknown>)[key], item);
    }
    return;
  }
  expect(actual).toBe(expected);
}

describe('parseUpstreamBody', () => {
  it.each<[string, string, unknown]>([
    ['a list body', '{"total":2,"data":[{"id":1},{"id":2}]}', { total: 2, data: [{ id: 1 }, { id: 2 }] }],
    ['the largest safe integer', '{"id":9007199254740991}', { id: 9007199254740991 }],
    ['2^53, no longer safe', '{"id":9007199254740992}', { id: '9007199254740992' }],
    ['2^53 + 1', '{"id":9007199254740993}', { id: '9007199254740993' }],
    ['a 20-digit task id', '{"id":12345678901234567890}', { id: '12345678901234567890' }],
    ['a negative big id', '{"id":-12345678901234567890}', { id: '-12345678901234567890' }],
    ['a big number outside the id fields: as JSON.parse', '{"n":12345678901234567890}', { n: 12345678901234567890 }],
    ['a task id in a list page', '{"total":1,"data":[{"id":1,"tasks":[{"id":12345678901234567890,"jobId":1}]}]}', { total: 1, data: [{ id: 1, tasks: [{ id: '12345678901234567890', jobId: 1 }] }] }],
    ['a task jobId', '{"id":1,"tasks":[{"id":2,"jobId":12345678901234567890}]}', { id: 1, tasks: [{ id: 2, jobId: '12345678901234567890' }] }],
    ['a task inside a phase', '{"id":1,"tasks":[{"taskName":"p","tasks":[{"id":12345678901234567890}]}]}', { id: 1, tasks: [{ taskName: 'p', tasks: [{ id: '12345678901234567890' }] }] }],
    ['an engine latestJobId', '{"total":1,"data":[{"id":"e","latestJobId":12345678901234567890}]}', { total: 1, data: [{ id: 'e', latestJobId: '12345678901234567890' }] }],
    ['the array-of-lists variant', '[{"total":1,"data":[{"id":12345678901234567890}]}]', [{ total: 1, data: [{ id: '12345678901234567890' }] }]],
    ['once an id needs it, every big integer keeps its digits', '{"id":12345678901234567890,"n":12345678901234567891}', { id: '12345678901234567890', n: '12345678901234567891' }],
    ['16 digits that are safe', '{"startTime":1636540095901000}', { startTime: 1636540095901000 }],
    ['a long fraction stays a number', '{"x":0.12345678901234567890}', { x: 0.1234567890123456789 }],
    ['a big exponent literal stays a number', '{"x":12345678901234567890e0}', { x: 12345678901234567890 }],
    ['big digits inside a string', '{"s":"12345678901234567890","n":1}', { s: '12345678901234567890', n: 1 }],
    ['big numbers that are no ids: as JSON.parse', '[1,12345678901234567890,2.5,-0]', [1, 12345678901234567890, 2.5, -0]],
    ['a big id among small numbers', '[{"id":12345678901234567890,"n":[1,2.5,-0]}]', [{ id: '12345678901234567890', n: [1, 2.5, -0] }]],
    ['duplicate keys: last wins, as JSON.parse', '{"a":1,"a":2,"id":12345678901234567890}', { a: 2, id: '12345678901234567890' }],
    ['a __proto__ key stays data', '{"__proto__":{"x":1},"id":12345678901234567890}', JSON.parse('{"__proto__":{"x":1},"id":"12345678901234567890"}')],
  ])('%s', async (_label, text, expected) => {
    const parsed = await parseUpstreamBody(text);
    expect(parsed).toEqual(expected);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.getPrototypeOf(expected));
  });

  it('keeps -0 as JSON.parse does', async () => {
    expect(Object.is(((await parseUpstreamBody('[-0, 1234567890123456789]')) as unknown[])[0], -0)).toBe(true);
    expect(Object.is(((await parseUpstreamBody('{"n":-0,"id":12345678901234567890}')) as { n: number }).n, -0)).toBe(true);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['truncated', '{"total":2,"data":[{"id":1}'],
    ['truncated, slow path', '{"id":12345678901234567890'],
    ['trailing garbage', '{"id":1} x'],
    ['trailing garbage, slow path', '{"id":12345678901234567890} x'],
    ['a leading-zero number, slow path', '{"id":012345678901234567890}'],
    ['single quotes', "{'id':1}"],
  ])('throws UpstreamBodyError for %s', async (_label, text) => {
    let caught: unknown;
    try {
      await parseUpstreamBody(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UpstreamBodyError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ code: 'UPSTREAM_BAD_BODY', name: 'UpstreamBodyError' });
    // The body is never quoted: it may hold anything.
    if (text.length > 3) expect((caught as Error).message).not.toContain(text);
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('equals JSON.parse for any JSON text, but for the digits it keeps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json(), async (text) => {
        expectJsonParseExceptUnsafeIntegers(await parseUpstreamBody(text), JSON.parse(text));
      }),
    );
  });

  it('equals JSON.parse on the slow path too', async () => {
    // An id beyond 2^53 forces the lossless parser.
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const text = `{"id":12345678901234567890,"value":${JSON.stringify(value)}}`;
        expectJsonParseExceptUnsafeIntegers(await parseUpstreamBody(text), JSON.parse(text));
      }),
    );
  });

  it('keeps the exact digits of any integer beyond 2^53', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: TWO_POW_53, max: 2n ** 128n }), fc.boolean(), async (id, negative) => {
        const digits = (negative ? -id : id).toString();
        expect(await parseUpstreamBody(`{"id": ${digits}}`)).toEqual({ id: digits });
      }),
    );
  });

  it('keeps safe integers as numbers whichever path parses them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.maxSafeInteger(), async (n) => {
        expect(await parseUpstreamBody(`{"id":${n}}`)).toEqual({ id: n });
        expect(await parseUpstreamBody(`{"latestJobId":12345678901234567890,"id":${n}}`)).toEqual({ latestJobId: '12345678901234567890', id: n });
      }),
    );
  });

  it('keeps every id field of every upstream shape exact: lists, details, flat tasks, phases, engines', async () => {
    const id = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: TWO_POW_53, max: 2n ** 70n }), fc.bigInt({ min: -(2n ** 70n), max: -TWO_POW_53 }));
    const task = fc.record({ id, jobId: id, status: fc.constant('Finished') });
    const phase = fc.record({ taskName: fc.string(), tasks: fc.array(task, { maxLength: 3 }) });
    const job = fc.record({ id, startTime: fc.maxSafeInteger(), tasks: fc.array(fc.oneof(task, phase), { maxLength: 3 }) });
    const engine = fc.record({ id: fc.uuid(), latestJobId: id });
    const body = fc.oneof(
      job,
      engine,
      fc.record({ total: fc.nat(), data: fc.array(job, { maxLength: 4 }) }),
      fc.record({ total: fc.nat(), data: fc.array(engine, { maxLength: 4 }) }),
      fc.array(fc.record({ total: fc.nat(), data: fc.array(job, { maxLength: 2 }) }), { maxLength: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        // On the wire, ids are bare integer literals; expected: the digits past 2^53, else a number.
        const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, '$1');
        const expected = JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
        expect(await parseUpstreamBody(text)).toEqual(expected);
      }),
    );
  });
});
