import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createCorsHandler, type CorsPolicy } from '../../src/http/cors';
import { send } from '../security/http';
import { startHarness, type Harness } from '../support/harness';
import { rawSocket, upgradeStatus } from '../support/liveClient';

/**
 * What browsers need from CORS: the request id readable by page code, trace context allowed on
 * requests (browser tracing), and a local dev server (Vite, :5173) allowed in development only.
 */

const preflight = (origin: string, headers = 'content-type,x-auth-token,traceparent,tracestate,x-request-id') => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': headers,
});

describe('development', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent' });
  });
  afterAll(() => h.close());

  it.each(['http://localhost:5173', 'http://127.0.0.1:3000', 'https://localhost:8443', 'http://[::1]:5173', 'http://localhost'])(
    'allows the local dev server %s without CORS_ORIGINS, over HTTP and WebSocket',
    async (origin) => {
      const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(origin) });
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
      expect(await upgradeStatus(rawSocket(h.gateway.url, { origin }))).toBe(101);
    },
  );

  it.each(['http://localhost.evil.example', 'http://localhost:5173.evil.example', 'http://127.0.0.2:5173', 'https://app.example.com'])(
    'refuses %s',
    async (origin) => {
      const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(origin) });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(await upgradeStatus(rawSocket(h.gateway.url, { origin }))).toBe(403);
    },
  );

  it('allows traceparent, tracestate and X-Request-Id on requests, and exposes X-Request-Id and Retry-After to page code', async () => {
    const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight('http://localhost:5173') });
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['traceparent', 'tracestate', 'x-request-id', 'x-auth-token']));
    const real = await send(h.gateway.url, {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/json', 'x-auth-token': 'cse-demo-token-0000000000000001' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(real.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(real.headers['access-control-expose-headers']).toLowerCase().split(',')).toEqual(['x-request-id', 'retry-after']);
    expect(real.headers['x-request-id']).toEqual(expect.any(String));
  });
});

describe('production', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'silent', CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => h.close());

  it('never allows a local origin, only CORS_ORIGINS', async () => {
    const local = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight('http://localhost:5173') });
    expect(local.headers['access-control-allow-origin']).toBeUndefined();
    expect(await upgradeStatus(rawSocket(h.gateway.url, { origin: 'http://localhost:5173' }))).toBe(403);
    const app = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight('https://app.example.com') });
    expect(app.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });
});

/** The local origins the gateway allows in development (any port of localhost, 127.0.0.1, [::1]). */
const LOCAL = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

describe('createCorsHandler', () => {
  /** The headers, status and end of one response, as both handlers write them. */
  const recorder = () => {
    const headers: Record<string, unknown> = {};
    return {
      headers,
      statusCode: 200,
      ended: false,
      getHeader: (name: string) => headers[name.toLowerCase()],
      setHeader(name: string, value: unknown) {
        headers[name.toLowerCase()] = value;
      },
      writeHead(status: number, flat: string[]) {
        this.statusCode = status;
        for (let i = 0; i < flat.length; i += 2) headers[flat[i]!.toLowerCase()] = flat[i + 1];
        return this;
      },
      end() {
        this.ended = true;
      },
    };
  };
  const policies: CorsPolicy[] = [
    { origins: '*', localOrigins: false },
    { origins: ['https://app.example.com'], localOrigins: false },
    { origins: ['https://app.example.com'], localOrigins: true },
    { origins: [], localOrigins: false },
  ];
  const cases = policies.flatMap((policy) =>
    ['GET', 'POST', 'OPTIONS'].flatMap((method) =>
      [undefined, 'https://app.example.com', 'http://localhost:5173', 'https://evil.example'].map((origin) => ({ policy, method, origin })),
    ),
  );

  it.each(cases)('writes what the cors package wrote: %j', ({ policy, method, origin }) => {
    const request = { method, headers: origin === undefined ? {} : { origin } } as unknown as IncomingMessage;
    const ours = recorder();
    const own: string[] = [];
    const answered = createCorsHandler(policy)(request, ours as unknown as ServerResponse, own);
    // A preflight's are written with its 204; any other answer's, later, by the HTTP server.
    if (!answered) for (let i = 0; i < own.length; i += 2) ours.setHeader(own[i]!, own[i + 1]);
    const theirs = recorder();
    let next = false;
    cors({
      origin: policy.origins === '*' ? '*' : [...policy.origins, ...(policy.localOrigins ? [LOCAL] : [])],
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: String(ours.headers['access-control-allow-headers'] ?? 'content-type').split(','),
      exposedHeaders: ['x-request-id', 'retry-after'],
      credentials: false,
      maxAge: 600,
    })(request as never, theirs as never, () => (next = true));
    expect(ours.headers).toEqual(theirs.headers);
    expect([answered, ours.statusCode, ours.ended]).toEqual([!next, theirs.statusCode, theirs.ended]);
  });
});
