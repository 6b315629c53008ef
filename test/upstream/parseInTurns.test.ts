import fc from 'fast-check';
import { parseJsonInTurns, parseUpstreamBody, parseUpstreamJsonInTurns, UpstreamBodyError } from '../../src/upstream/parseJson';

/** What parseUpstreamBody answers in one step, or the error class it throws. */
async function reference(text: string): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await parseUpstreamBody(text) };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

async function inTurns(text: string, pieceChars: number, turnChars?: number): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await parseUpstreamJsonInTurns(text, 64, pieceChars, turnChars) };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

/** Ids beyond 2^53 where parseJson looks for them, and anywhere else. */
const bigInteger = fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map((n) => ({ big: n.toString() }));
const task = fc.record({ id: fc.oneof(fc.integer({ min: 0 }), bigInteger), taskName: fc.string(), taskOrder: fc.integer() }, { requiredKeys: [] });
const job = fc.record({ id: fc.oneof(fc.integer({ min: 0 }), bigInteger), tasks: fc.array(task, { maxLength: 8 }), context: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] });
const listBody = fc.record({ total: fc.integer({ min: 0 }), data: fc.array(job, { maxLength: 6 }) });

/** JSON text in which `{ big: "…" }` becomes the bare integer literal. */
function text(value: unknown, space: number): string {
  return JSON.stringify(value, null, space).replace(/\{\s*"big":\s*"(\d+)"\s*\}/g, '$1');
}

describe('parseUpstreamJsonInTurns', () => {
  it('answers what parseUpstreamBody answers, on any JSON, however it is split into pieces', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 6 }), listBody), fc.constantFrom(0, 1, 2), fc.integer({ min: 1, max: 200 }), async (value, space, pieceChars) => {
        const body = text(value, space);
        expect(await inTurns(body, pieceChars)).toEqual(await reference(body));
      }),
      { numRuns: 300 },
    );
  });

  it('answers the same however the scan is split into turns, an escape on any turn’s last character too', async () => {
    // Characters that are JSON's structure outside a string, and escapes: a string's text as written.
    const piece = fc.constantFrom('a', '{', ']', ',', ':', ' ', '\\"', '\\\\', '\\n', '\\u0041');
    const written = fc.array(piece, { maxLength: 30 }).map((pieces) => pieces.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(written, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 40 }), async (strings, turnChars) => {
        const body = `{"data":[${strings.map((value) => `"${value}"`).join(',')}]}`;
        expect(await inTurns(body, 1, turnChars)).toEqual(await reference(body));
      }),
      { numRuns: 500 },
    );
  });

  it.each([262142, 262143, 262144, 2 * 262144 - 1])('parses a large body with a `\\"` whose backslash is at %i', async (at) => {
    const head = '{"data":[{"id":1,"description":"';
    const body = `${head}${'a'.repeat(at - head.length)}\\"${'b'.repeat(300_000)}"}]}`;
    expect(body.indexOf('\\')).toBe(at);
    expect(await parseUpstreamBody(body)).toEqual(JSON.parse(body));
  });

  it('refuses what parseUpstreamBody refuses: any text cut or changed by one character', async () => {
    const mutated = fc
      .tuple(fc.oneof(fc.jsonValue({ maxDepth: 5 }), listBody), fc.nat(), fc.constantFrom('', ',', ':', '{', '}', '[', ']', '"', 'x', ' ', '\u00a0', '\n'))
      .map(([value, at, inserted]) => {
        const body = text(value, 0);
        const i = at % (body.length + 1);
        return body.slice(0, i) + inserted + body.slice(i + 1);
      });
    await fc.assert(
      fc.asyncProperty(mutated, fc.integer({ min: 1, max: 60 }), async (body, pieceChars) => {
        const expected = await reference(body);
        const actual = await inTurns(body, pieceChars);
        if ('error' in expected) expect(actual).toEqual({ error: 'UpstreamBodyError' });
        else expect(actual).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a stray comma in a long array', `[${'1,'.repeat(50)},1]`],
    ['a trailing comma', `[${'1,'.repeat(50)}]`],
    ['mismatched brackets', `[${'1,'.repeat(50)}1}`],
    ['an unclosed container', `{"a":[${'1,'.repeat(50)}1]`],
    ['a member without a colon', `{"a":[${'1,'.repeat(50)}1],"b"}`],
    ['text after the value', `[${'1,'.repeat(50)}1] x`],
    ['a space JSON does not allow before a value', `{"a":\u00a0[${'1,'.repeat(50)}1]}`],
  ])('refuses %s as UpstreamBodyError', async (_what, body) => {
    await expect(parseUpstreamJsonInTurns(body, 64, 10)).rejects.toBeInstanceOf(UpstreamBodyError);
  });

  it('keeps a `__proto__` key as an own property, and the last of equal keys, as JSON.parse does', async () => {
    const body = `{"__proto__":{"polluted":true},"a":1,"filler":[${'0,'.repeat(40)}0],"a":2}`;
    const value = (await parseUpstreamJsonInTurns(body, 64, 10)) as Record<string, unknown>;
    expect(value).toEqual(JSON.parse(body));
    expect(Object.keys(value)).toEqual(['__proto__', 'a', 'filler']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a body nested deeper than the limit', async () => {
    await expect(parseUpstreamJsonInTurns(`${'['.repeat(65)}${']'.repeat(65)}`, 64, 10)).rejects.toThrow('nests more than 64 levels');
  });

  it('gives the event loop a turn while it parses a large body', async () => {
    const body = JSON.stringify({ total: 3, data: Array.from({ length: 3 }, (_, i) => ({ id: i, tasks: Array.from({ length: 8000 }, (_, t) => ({ id: t, taskOrder: t })) })) });
    // One count per turn of the event loop (its check phase) while the parse goes on.
    let turns = 0;
    let next: NodeJS.Immediate;
    const count = () => {
      turns += 1;
      next = setImmediate(count);
    };
    next = setImmediate(count);
    try {
      expect(await parseUpstreamJsonInTurns(body, 64)).toEqual(JSON.parse(body));
    } finally {
      clearImmediate(next);
    }
    // At least a turn per quarter MiB scanned, and again per quarter MiB parsed.
    expect(turns).toBeGreaterThanOrEqual(Math.floor(body.length / (256 * 1024)));
  });
});

async function jsonNestsDeeperThan(text: string, limit: number): Promise<boolean> {
  try {
    await parseUpstreamJsonInTurns(text, limit, 4);
    return false;
  } catch (error) {
    if ((error as Error).message.includes('nests more than')) return true;
    throw error;
  }
}

describe('the depth limit of parseUpstreamJsonInTurns', () => {
  it.each([
    ['{}', 0, true],
    ['{}', 1, false],
    ['[[[]]]', 3, false],
    ['[[[]]]', 2, true],
    ['{"a":"[[[[[[[[[["}', 1, false],
    ['{"a":"\\\\"}', 1, false],
    ['{"a":"\\"[[[["}', 1, false],
    ['[{"a":[{"b":[]}]}]', 5, false],
    ['[{"a":[{"b":[]}]}]', 4, true],
  ])('%s deeper than %d: %s', async (text, limit, expected) => {
    expect(await jsonNestsDeeperThan(text, limit)).toBe(expected);
  });

  it('agrees with the depth of any JSON value (property)', async () => {
    const depth = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value as object).map(depth)) : 0;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 8 }), fc.nat(10), async (value, limit) => {
        expect(await jsonNestsDeeperThan(JSON.stringify(value), limit)).toBe(depth(value) > limit);
      }),
    );
  });
});

describe('many small children', () => {
  it('are assembled over many turns, not one: a task output of 400,000 numbers yields to the loop as it goes', async () => {
    const turns = jest.spyOn(global, 'setImmediate');
    try {
      const text = `[${Array(400_000).fill(0).join(',')}]`;
      expect(await parseJsonInTurns(text, 64)).toHaveLength(400_000);
      // 800,000 characters are about 3 turns of text; their 400,000 children about a hundred.
      expect(turns.mock.calls.length).toBeGreaterThan(50);
    } finally {
      turns.mockRestore();
    }
  });

  it.each([
    [10_000, false],
    [10_001, true],
  ])('in a large upstream body: a list of %i members is refused as outsized: %p', async (members, refused) => {
    const body = `{"total":1,"padding":"${'p'.repeat(300_000)}","data":[{"id":1,"big":[${Array(members).fill(0).join(',')}]}]}`;
    const parsed = parseUpstreamBody(body);
    if (refused) await expect(parsed).rejects.toMatchObject({ name: 'UpstreamBodyError', outsized: true });
    else expect(((await parsed) as { data: Array<{ big: unknown[] }> }).data[0]!.big).toHaveLength(members);
  });
});

describe('the lists and objects of a large upstream body', () => {
  it.each([
    [9, 9_999, false],
    [11, 9_999, true],
  ])('%i lists of %i empty objects (100,000 lists and objects at most) refused as outsized: %p', async (lists, members, refused) => {
    const list = `[${Array(members).fill('{}').join(',')}]`;
    const body = `{"total":1,"padding":"${'p'.repeat(200_000)}","data":[{"id":1,"big":[${Array(lists).fill(list).join(',')}]}]}`;
    expect(body.length).toBeGreaterThan(256 * 1024);
    const parsed = parseUpstreamBody(body);
    if (refused) await expect(parsed).rejects.toMatchObject({ name: 'UpstreamBodyError', outsized: true });
    else expect(((await parsed) as { data: Array<{ big: unknown[] }> }).data[0]!.big).toHaveLength(lists);
  });
});
