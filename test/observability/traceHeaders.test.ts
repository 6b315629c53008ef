import { incomingTraceHeaders, isValidTraceparent } from '../../src/observability/traceHeaders';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('isValidTraceparent', () => {
  it.each([
    [VALID, true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', false],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', false],
    ['garbage', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(isValidTraceparent(value)).toBe(expected);
  });
});

describe('incomingTraceHeaders', () => {
  const lookup = (headers: Record<string, string>) => (name: string) => headers[name];

  it.each([
    ['a valid traceparent', { traceparent: VALID }, { traceparent: VALID }],
    ['with its tracestate', { traceparent: VALID, tracestate: 'congo=t61rcWkgMzE' }, { traceparent: VALID, tracestate: 'congo=t61rcWkgMzE' }],
    ['no traceparent: a tracestate alone means nothing', { tracestate: 'congo=t61rcWkgMzE' }, {}],
    ['an invalid traceparent', { traceparent: 'garbage', tracestate: 'a=b' }, {}],
    ['an oversized tracestate', { traceparent: VALID, tracestate: `a=${'b'.repeat(600)}` }, { traceparent: VALID }],
    ['a tracestate with a control character', { traceparent: VALID, tracestate: 'a=b\r\nx: y' }, { traceparent: VALID }],
    ['nothing', {}, {}],
  ])('%s', (_what, headers, expected) => {
    expect(incomingTraceHeaders(lookup(headers))).toEqual(expected);
  });
});
