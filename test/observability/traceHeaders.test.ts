import { incomingTraceHeaders, parseTraceparent, validTracestate } from '../../src/observability/traceHeaders';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparent', () => {
  it.each([
    [VALID, true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future', true],
    ['cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09', true],
    ['cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x', false],
    [`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-${'x'.repeat(500)}`, false],
    ['0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', false],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', false],
    ['garbage', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(parseTraceparent(value) !== undefined).toBe(expected);
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
    [
      'a later version: sent on as version 00, its trailing part left behind, only the sampled flag kept',
      { traceparent: `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff-${'x'.repeat(300)}` },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    ],
    [
      'a later version, not sampled',
      { traceparent: '7f-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02' },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
    ],
    ['a tracestate outside the list grammar', { traceparent: VALID, tracestate: 'Upper=x' }, { traceparent: VALID }],
  ])('%s', (_what, headers, expected) => {
    expect(incomingTraceHeaders(lookup(headers))).toEqual(expected);
  });
});

describe('validTracestate (W3C list grammar, 512 characters, 32 members)', () => {
  it.each([
    ['congo=t61rcWkgMzE', true],
    ['rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', true],
    ['rojo=1 , congo=2', true],
    ['tenant@system=x', true],
    ['a*b/c_d-e=x', true],
    ['a=', false],
    ['=x', false],
    ['A=x', false],
    ['a=b,c', false],
    ['a=b=c', false],
    ['a=b ', true], // the whole header is trimmed first by the caller; inner members are trimmed here
    [Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','), true],
    [Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), false],
    [`a=${'b'.repeat(256)}`, true],
    [`a=${'b'.repeat(257)}`, false],
    ['a=b\u0000', false],
    [',,', false],
  ])('%j → %s', (value, expected) => {
    expect(validTracestate(value) !== undefined).toBe(expected);
  });
});
