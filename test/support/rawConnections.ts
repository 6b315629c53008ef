import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP connection to a listener on 127.0.0.1 that sends only what the test writes. */
export interface RawConnection {
  readonly socket: Socket;
  /** Milliseconds from connecting to the socket closing. */
  readonly closed: Promise<number>;
  /** Everything the server sent. */
  readonly received: () => string;
}

/** Every connection `open` made, for `destroyAll` in a suite's teardown. */
const opened = new Set<Socket>();

/** `allowHalfOpen`: the socket stays open after the server's end, until the server destroys it.
 * `from`: another loopback address as the client's (127.0.0.2: another client to per-address caps). */
export function open(port: number, options: { allowHalfOpen?: boolean; from?: string } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen, localAddress: options.from });
    opened.add(socket);
    let text = '';
    socket.on('data', (chunk) => (text += String(chunk)));
    socket.on('error', () => {});
    const closed = new Promise<number>((done) =>
      socket.once('close', () => {
        opened.delete(socket);
        done(performance.now() - started);
      }),
    );
    socket.once('connect', () => resolve({ socket, closed, received: () => text }));
    socket.once('error', reject);
  });
}

/** `count` connections that send nothing, opened one after another. */
export async function openIdle(port: number, count: number): Promise<RawConnection[]> {
  const all: RawConnection[] = [];
  for (let i = 0; i < count; i += 1) all.push(await open(port));
  return all;
}

/** Resolves with the time it took, or rejects (and destroys the socket) when still open after `ms`. */
export async function closedWithin(connection: RawConnection, ms: number): Promise<number> {
  // Unref'd: a socket that closed in time leaves no timer behind to keep jest waiting.
  const timeout = sleep(ms, undefined, { ref: false }).then(() => 'open' as const);
  const result = await Promise.race([connection.closed, timeout]);
  if (result === 'open') {
    connection.socket.destroy();
    throw new Error(`socket still open after ${ms} ms`);
  }
  return result;
}

/** Whether the connection is still open after `ms`. */
export async function openAfter(connection: RawConnection, ms: number): Promise<boolean> {
  const timeout = sleep(ms, undefined, { ref: false }).then(() => 'open' as const);
  return (await Promise.race([connection.closed, timeout])) === 'open';
}

/** A fresh connection's whole answer to one `GET path` (`Connection: close`, unless `headers` have a
 * Connection of their own: each line ending with CRLF), '' when it got none. */
export async function getOnce(port: number, path: string, ms = 3000, from?: string, headers = 'Connection: close\r\n'): Promise<string> {
  const connection = await open(port, { from });
  connection.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
  await closedWithin(connection, ms);
  return connection.received();
}

export function destroyAll(): void {
  for (const socket of opened) socket.destroy();
  opened.clear();
}
