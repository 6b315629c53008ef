import type { IncomingMessage } from 'node:http';
import { PlainAbort } from '../../src/cache/abort';
import { loadConfig } from '../../src/config/loadConfig';
import type { ContextServices } from '../../src/graphql/context';
import { createRequestContextFactory } from '../../src/http/requestContext';
import { timeoutReason } from '../../src/upstream/errorMapping';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';

/**
 * A request's context is made in its caller's next turn. One whose caller left meanwhile is not made (nothing
 * could be answered); one whose time ran out (a request that waited for an identical one in flight) is,
 * so that it is answered as any operation past its time: its fields UPSTREAM_TIMEOUT, not a failed request.
 */
const config = loadConfig({ NODE_ENV: 'test', CSE_ENDPOINT: 'http://127.0.0.1:9', CSE_PROJECT_ID: 'p' });
const http = { isStranger: () => false } as unknown as CseHttpClient;
const services = { config, http, reportUnknown: () => () => {} } as unknown as ContextServices;
const { contextFor } = createRequestContextFactory(services, 'p');
const request = () => ({ headers: { 'x-auth-token': 'a-token-0000000000000001' }, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

it('makes the context of a request whose time ran out before its turn', async () => {
  const abort = new PlainAbort();
  abort.abort(timeoutReason());
  const context = await contextFor(request(), { signal: abort.signal, deadline: performance.now() });
  expect(context.credentials.token).toBe('a-token-0000000000000001');
});

it('makes none for a request whose caller left', async () => {
  const abort = new PlainAbort();
  abort.leave();
  await expect(contextFor(request(), { signal: abort.signal, deadline: performance.now() + 1000 })).rejects.toBeDefined();
});
