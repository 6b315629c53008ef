import fc from 'fast-check';
import { requestIdFrom } from '../../src/http/httpServer';

const generated = () => 'generated';

describe('requestIdFrom', () => {
  it.each([
    ['a UUID', '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b', '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b'],
    ['hex', 'deadbeef0123', 'deadbeef0123'],
    ['base64 with padding', 'YWJjZA==', 'YWJjZA=='],
    ['service:counter', 'frontend:42', 'frontend:42'],
    ['surrounding spaces trimmed', '  abc-1  ', 'abc-1'],
    ['exactly 128 characters', 'x'.repeat(128), 'x'.repeat(128)],
  ])('keeps %s', (_what, incoming, expected) => {
    expect(requestIdFrom(incoming, generated)).toBe(expected);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a space inside', 'a b'],
    ['a quote', 'a"b'],
    ['a newline (log injection)', 'abc\n{"level":60}'],
    ['a comma (two joined headers)', 'one, two'],
    ['non-ASCII', 'idé'],
    ['an array (repeated header)', ['one', 'two']],
    ['HTML', '<script>'],
  ])('replaces %s with a generated id', (_what, incoming) => {
    expect(requestIdFrom(incoming as string | string[] | undefined, generated)).toBe('generated');
  });

  it('generates a UUID by default', () => {
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('always returns a short, header- and log-safe id, whatever arrives', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary', maxLength: 300 }), { nil: undefined }), (incoming) => {
        const id = requestIdFrom(incoming);
        expect(id.length).toBeGreaterThan(0);
        expect(id.length).toBeLessThanOrEqual(128);
        expect(id).toMatch(/^[\x21-\x7e]+$/);
        expect(id).not.toMatch(/["',\\<>]/);
      }),
    );
  });
});
