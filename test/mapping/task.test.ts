import fc from 'fast-check';
import { taskOutput, taskTimedOut } from '../../src/mapping/task';

describe('taskTimedOut', () => {
  it.each<[unknown, boolean]>([
    [1, true],
    [-1, false],
    [0, false],
    [null, false],
    [undefined, false],
    [true, false],
    ['1', false],
  ])('timeout %p → %p', (timeout, expected) => {
    expect(taskTimedOut({ timeout: timeout as number })).toBe(expected);
  });
});

describe('taskOutput', () => {
  it.each<[string, string | null | undefined, unknown]>([
    ['the default', '{}', {}],
    ['an object', '{"endpoint":"10.0.0.1:30100","ok":true}', { endpoint: '10.0.0.1:30100', ok: true }],
    ['an array', '[1,2]', [1, 2]],
    ['a JSON string', '"done"', 'done'],
    ['a number', '42', 42],
    ['JSON null', 'null', null],
    ['surrounding whitespace', ' {"a":1}\n', { a: 1 }],
    ['plain text', 'install finished', 'install finished'],
    ['truncated JSON', '{"a":', '{"a":'],
    ['an empty string', '', ''],
    ['null', null, null],
    ['undefined', undefined, null],
  ])('%s', (_label, raw, expected) => {
    expect(taskOutput(raw)).toEqual(expected);
  });

  it('keeps a value that already arrived as JSON', () => {
    const value = { a: 1 };
    expect(taskOutput(value as unknown as string)).toBe(value);
  });

  it('parses a text over 256 KiB in turns of the event loop, as JSON.parse would', async () => {
    const numbers = `[${Array(100_000).fill('12').join(',')}]`;
    const parsing = taskOutput(numbers);
    expect(parsing).toBeInstanceOf(Promise);
    await expect(parsing).resolves.toEqual(JSON.parse(numbers));
    const text = `${numbers.slice(0, -1)} and more`;
    await expect(taskOutput(text)).resolves.toBe(text);
    const deep = `${'['.repeat(65)}${'1,'.repeat(140_000)}1${']'.repeat(65)}`;
    await expect(taskOutput(deep)).resolves.toBe(deep);
  });

  it('answers an integer beyond 2^53 as JSON.parse does, however long the output', async () => {
    const output = (filler: number) => `{"id":12345678901234567890,"filler":[${Array(filler).fill('12').join(',')}]}`;
    expect(taskOutput(output(10))).toEqual(JSON.parse(output(10)));
    await expect(taskOutput(output(100_000))).resolves.toEqual(JSON.parse(output(100_000)));
  });

  it('returns JSON.parse of any JSON text, and any other text unchanged', () => {
    fc.assert(fc.property(fc.json(), (text) => expect(taskOutput(text)).toEqual(JSON.parse(text))));
    fc.assert(
      fc.property(fc.string(), (text) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(taskOutput(text)).toBe(text);
          return;
        }
        expect(taskOutput(text)).toEqual(parsed);
      }),
    );
  });
});
