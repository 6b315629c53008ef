import { createInFlightRequests } from '../../src/cache/inFlightRequests';
import { requestKey, readCredentials } from '../../src/cache/requestKey';
import type { ApolloAnswer } from '../../src/cache/wholeResponseCache';

/** The in-flight coalescing on its own: who leads, what waiters get, and that nothing stays. */

interface Ctx {
  readonly errors: boolean;
}

const OK: ApolloAnswer = { status: 200, headers: new Map([['content-type', 'application/json; charset=utf-8'], ['cache-control', 'no-store']]), body: Buffer.from('{"data":{}}') };

function make() {
  const flights = createInFlightRequests<Ctx>((context) => (context.errors ? undefined : { operationName: 'Page', credentialsAccepted: true }));
  return { flights };
}

const live = () => new AbortController().signal;

describe('createInFlightRequests', () => {
  it('has no leader for a new key: the caller leads, and followers get its answer', async () => {
    const { flights } = make();
    expect(flights.follow('k', live())).toBeUndefined();
    const flight = flights.lead('k');
    const a = flights.follow('k', live());
    const b = flights.follow('k', live());
    flight.finish({ errors: false }, OK);
    const expected = { body: OK.body, headers: [...OK.headers], operationName: 'Page', credentialsAccepted: true };
    expect(await a).toEqual(expected);
    expect(await b).toEqual(expected);
    // Nothing stays: the next request leads.
    expect(flights.follow('k', live())).toBeUndefined();
  });

  it.each<[string, Ctx | undefined, ApolloAnswer | undefined]>([
    ['the leader failed (no answer)', { errors: false }, undefined],
    ['no context (refused before execution)', undefined, OK],
    ['a status other than 200', { errors: false }, { ...OK, status: 400 }],
    ['errors in the operation', { errors: true }, OK],
  ])('releases followers with undefined when %s', async (_case, context, answer) => {
    const { flights } = make();
    const flight = flights.lead('k');
    const waiting = flights.follow('k', live());
    flight.finish(context, answer);
    expect(await waiting).toBeUndefined();
    expect(flights.follow('k', live())).toBeUndefined();
  });

  it('lets a follower whose signal fires stop waiting, and finishes only once', async () => {
    const { flights } = make();
    const flight = flights.lead('k');
    const gone = new AbortController();
    const leaving = flights.follow('k', gone.signal);
    const staying = flights.follow('k', live());
    gone.abort();
    expect(await leaving).toBeUndefined();
    flight.finish({ errors: false }, OK);
    flight.finish(undefined, undefined); // the server's `finally`: a no-op after the answer
    expect((await staying)?.body).toBe(OK.body);
  });

  it('answers an already-aborted follower at once', async () => {
    const { flights } = make();
    flights.lead('k');
    const gone = new AbortController();
    gone.abort();
    expect(await flights.follow('k', gone.signal)).toBeUndefined();
  });

  it('keys by credentials and request, and refuses to key a request without usable credentials', () => {
    const request = (token: string | undefined, _body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': token } }) as never;
    const credentialsOf = (r: any) => {
      const token = r.headers['x-auth-token'];
      if (token === 'bad') throw new Error('malformed');
      return token === undefined ? undefined : { token, projectId: 'p', enterpriseProjectId: undefined };
    };
    // The HTTP server keys coalescing and the whole-response cache alike.
    const keyOf = (r: never, search: string, body: string) => {
      const credentials = readCredentials(credentialsOf, r);
      return credentials && requestKey(credentials, r, search, body);
    };
    const byToken = { keyOf };
    expect(byToken.keyOf(request('a', '{}'), '', '{}')).toBe(byToken.keyOf(request('a', '{}'), '', '{}'));
    expect(byToken.keyOf(request('a', '{}'), '', '{}')).not.toBe(byToken.keyOf(request('b', '{}'), '', '{}'));
    expect(byToken.keyOf(request('a', '{}'), '', '{}')).not.toBe(byToken.keyOf(request('a', '{}'), '', '{"x":1}'));
    expect(byToken.keyOf(request(undefined, '{}'), '', '{}')).toBeUndefined();
    expect(byToken.keyOf(request('bad', '{}'), '', '{}')).toBeUndefined();
  });
});
