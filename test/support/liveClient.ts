import type { FormattedExecutionResult } from 'graphql';

type ExecutionResult<T> = FormattedExecutionResult<T, unknown>;
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';

/** The gateway's WebSocket URL (same port and path as HTTP). */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

/** A graphql-ws client with the demo token in connection_init, no retries (a test sees every close). */
export function liveClient(httpUrl: string, options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams: { 'X-Auth-Token': DEMO_TOKEN },
    retryAttempts: 0,
    lazy: true,
    ...options,
  });
}

export interface Collected<T = any> {
  readonly results: ExecutionResult<T>[];
  /** Settles when the subscription completes (resolves) or fails (rejects with what graphql-ws gave). */
  readonly done: Promise<void>;
  /** Resolves once `count` results have arrived. */
  next(count: number): Promise<ExecutionResult<T>[]>;
  stop(): void;
}

/** Subscribes and keeps every result, in order. */
export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const results: ExecutionResult<T>[] = [];
  const waiters: Array<{ count: number; resolve: (value: ExecutionResult<T>[]) => void; reject: (error: unknown) => void }> = [];
  let failure: unknown;
  let finished = false;
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (results.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(results.slice(0, waiter.count));
      } else if (finished) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.reject(failure ?? new Error(`ended after ${results.length} of ${waiter.count} results: ${JSON.stringify(results)}`));
      }
    }
  };
  let stop: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    stop = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          results.push(value);
          settle();
        },
        error: (error) => {
          failure = error;
          finished = true;
          settle();
          reject(error);
        },
        complete: () => {
          finished = true;
          settle();
          resolve();
        },
      },
    );
  });
  done.catch(() => {});
  return {
    results,
    done,
    next: (count) =>
      new Promise((resolve, reject) => {
        waiters.push({ count, resolve, reject });
        settle();
      }),
    stop: () => stop(),
  };
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds (every 10 ms), or fails after `timeoutMs` with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** A raw WebSocket (ws) speaking graphql-transport-ws, for close codes and refusals; `from`: another loopback
 * address as the client's. */
export function rawSocket(httpUrl: string, headers: Record<string, string> = {}, protocol: string | null = 'graphql-transport-ws', from?: string): WebSocket {
  const options = { headers, ...(from === undefined ? {} : { localAddress: from }) };
  return protocol === null ? new WebSocket(wsUrl(httpUrl), options) : new WebSocket(wsUrl(httpUrl), protocol, options);
}

/** The close code and reason a socket ended with. */
export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** The HTTP status of a refused upgrade (or 101 when it opened). */
export function upgradeStatus(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => resolve(101));
    socket.once('error', () => {});
  });
}

/** A raw socket past connection_init: what it sent in bursts, what it received, and its close. */
export interface ProtocolSocket {
  readonly socket: WebSocket;
  /** Every message received after the ack, in order. */
  readonly received: any[];
  /** Resolves with the close code once the socket has closed. */
  readonly closed: Promise<number>;
  /** Sends the messages back to back in one write to the kernel (several frames per TCP segment). */
  burst(messages: readonly unknown[]): void;
}

/** Opens a raw graphql-transport-ws socket (from `from`, see rawSocket) and waits for the ack to `connection_init` with `payload`. */
export async function protocolSocket(httpUrl: string, payload: Record<string, unknown> = { 'X-Auth-Token': DEMO_TOKEN }, from?: string): Promise<ProtocolSocket> {
  const socket = rawSocket(httpUrl, {}, 'graphql-transport-ws', from);
  const received: any[] = [];
  const ended = closed(socket).then(({ code }) => code);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve() : reject(new Error(`no ack: ${String(data)}`))));
    void ended.then((code) => reject(new Error(`closed ${code} before the ack`)));
  });
  socket.on('message', (data) => received.push(JSON.parse(String(data))));
  return {
    socket,
    received,
    closed: ended,
    burst(messages) {
      // ws writes each frame as it is sent: corked, they leave as one write.
      const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
      raw.cork();
      for (const message of messages) socket.send(JSON.stringify(message));
      raw.uncork();
    },
  };
}
