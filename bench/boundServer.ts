import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server the benchmark runs in the gateway's place (coldBound.ts, stackBound.ts). */
export interface Bound {
  readonly server: Server;
  close(): Promise<void>;
}

/** Closes `server` and its kept-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** As the benchmark starts a gateway: its settings (HOST, PORT), its ready line, and a stop on its signals. */
export function serveAsGateway(create: () => Bound | Promise<Bound>): void {
  const serve = async () => {
    const bound = await create();
    const { server } = bound;
    await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // The gateway's ready line, which the benchmark waits for.
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql`, msg: 'gateway listening' })}\n`);
    const stop = (): void => void bound.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.once('disconnect', stop);
  };
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
