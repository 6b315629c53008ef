import { GatewayError } from '../../src/errors/GatewayError';
import { parseConnectionArgs, type ConnectionArgs } from '../../src/pagination/args';
import { connectionKey, encodeCursor } from '../../src/pagination/cursor';

const key = connectionKey(['jobs', 'p', 'e']);
const options = { maxPageSize: 100, defaultPageSize: 20, key };

describe('parseConnectionArgs', () => {
  it.each`
    args                                                | expected
    ${{}}                                               | ${{ direction: 'forward', count: 20 }}
    ${{ first: null, last: null, after: null, before: null }} | ${{ direction: 'forward', count: 20 }}
    ${{ first: 0 }}                                     | ${{ direction: 'forward', count: 0 }}
    ${{ first: 100 }}                                   | ${{ direction: 'forward', count: 100 }}
    ${{ last: 0 }}                                      | ${{ direction: 'backward', count: 0 }}
    ${{ last: 7 }}                                      | ${{ direction: 'backward', count: 7 }}
    ${{ last: 5, first: null }}                         | ${{ direction: 'backward', count: 5 }}
    ${{ after: encodeCursor(key, 3, '42') }}            | ${{ direction: 'forward', count: 20, after: { position: 3, id: '42' } }}
    ${{ last: 2, before: encodeCursor(key, 9, 'x') }}   | ${{ direction: 'backward', count: 2, before: { position: 9, id: 'x' } }}
    ${{ first: 1, after: encodeCursor(key, 1, 'a'), before: encodeCursor(key, 5, 'b') }} | ${{ direction: 'forward', count: 1, after: { position: 1, id: 'a' }, before: { position: 5, id: 'b' } }}
  `('$args → $expected', ({ args, expected }) => {
    expect(parseConnectionArgs(args, options)).toEqual(expected);
  });

  it('uses the configured default page size, capped by the maximum', () => {
    expect(parseConnectionArgs({}, { ...options, defaultPageSize: 50 })).toEqual({ direction: 'forward', count: 50 });
    expect(parseConnectionArgs({}, { maxPageSize: 10, defaultPageSize: 20, key })).toEqual({ direction: 'forward', count: 10 });
  });

  it.each`
    args                                   | argumentName | message
    ${{ first: -1 }}                       | ${'first'}   | ${/"first" must be an integer from 0 to 100; got -1/}
    ${{ first: 101 }}                      | ${'first'}   | ${/"first" must be an integer from 0 to 100; got 101/}
    ${{ first: 2.5 }}                      | ${'first'}   | ${/"first".*0 to 100/}
    ${{ first: Number.NaN }}               | ${'first'}   | ${/"first".*0 to 100/}
    ${{ last: -5 }}                        | ${'last'}    | ${/"last" must be an integer from 0 to 100; got -5/}
    ${{ last: 1000 }}                      | ${'last'}    | ${/"last" must be an integer from 0 to 100; got 1000/}
    ${{ first: 1, last: 1 }}               | ${'last'}    | ${/"first" and "last" cannot be combined/}
    ${{ first: 0, last: 0 }}               | ${'last'}    | ${/cannot be combined/}
    ${{ after: 'nope' }}                   | ${'after'}   | ${/"after" is not a valid cursor/}
    ${{ before: 'nope' }}                  | ${'before'}  | ${/"before" is not a valid cursor/}
    ${{ after: '' }}                       | ${'after'}   | ${/"after" is not a valid cursor: it is empty/}
    ${{ before: encodeCursor(connectionKey(['jobs', 'p', 'other']), 1, '1') }} | ${'before'} | ${/belongs to another list/}
  `('refuses $args (argument $argumentName)', ({ args, argumentName, message }) => {
    let thrown: unknown;
    try {
      parseConnectionArgs(args as ConnectionArgs, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    const error = thrown as GatewayError;
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.extensions).toMatchObject({ argumentName });
    expect(error.message).toMatch(message);
  });
});
