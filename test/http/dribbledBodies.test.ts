import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { buildGateway, startGatewayProcess, type GatewayProcess } from '../support/gatewayProcess';

/**
 * A body sent a byte at a time is held in one buffer as it arrives, not as a Buffer per read: kept
 * whole, the reads of 32 connections × 40,000 bytes grew the gateway's memory by hundreds of
 * megabytes for as long as the bodies stayed unfinished. Measured on the built gateway's process.
 */

const CONNECTIONS = 32;
const BYTES = 40_000;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

let gateway: GatewayProcess;
beforeAll(async () => {
  const env = { NODE_ENV: 'production', EMBEDDED_SIMULATOR: 'true', SIMULATOR_PORT: '0', HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn' };
  gateway = await startGatewayProcess(await buildGateway(), env);
}, 120_000);
afterAll(() => gateway?.kill());

it(`holds ${CONNECTIONS} bodies dribbled a byte at a time in about their own size`, async () => {
  const port = Number(gateway.url.port);
  const sockets: Socket[] = [];
  const before = rssMb(gateway.child.pid!);
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const socket = connect(port, '127.0.0.1').setNoDelay(true);
        sockets.push(socket);
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BYTES + 1}\r\n\r\n`);
        for (let i = 0; i < BYTES; i += 1) {
          socket.write(' ');
          // A few bytes a segment, each its own read on the gateway's side.
          if (i % 20 === 0) await turn();
        }
      }),
    );
    await sleep(300);
    // The bodies are 1.3 MB in all; before, the same grew the process by over 100 MB.
    expect(rssMb(gateway.child.pid!) - before).toBeLessThan(40);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}, 60_000);
