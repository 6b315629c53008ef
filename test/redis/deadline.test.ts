import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { LATE, settleWithin } from '../../src/redis/deadline';

/** settleWithin: a deadline that an event-loop stall of this process does not trip. */

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // The event loop is blocked, as a saturated replica's is.
  }
}

describe('settleWithin', () => {
  // An echo server in another process (as Redis is): it answers while this one is stalled.
  let server: ChildProcess;
  let port: number;
  beforeAll(async () => {
    const script = `const s = require('net').createServer((c) => c.on('data', (d) => c.write(d)));
      s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
    server = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    port = Number(String(line).trim());
  });
  afterAll(async () => {
    server.kill();
    await once(server, 'exit');
  });

  it('answers LATE for work that does not settle in time, at about that time', async () => {
    const started = performance.now();
    expect(await settleWithin(new Promise(() => {}), 30)).toBe(LATE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('passes on a value or an error that comes in time', async () => {
    expect(await settleWithin(Promise.resolve(7), 30)).toBe(7);
    await expect(settleWithin(Promise.reject(new Error('refused')), 30)).rejects.toThrow('refused');
  });

  it('is not tripped by a stall of its own process while the answer had arrived', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      const answer = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
      const pending = settleWithin(answer, 20);
      socket.write('pong\n');
      // The echo arrives within a millisecond, but this process reads it only after the stall,
      // by which time the 20 ms timer has long expired (timers run before sockets are read).
      busyWait(100);
      expect(await pending).toBe('pong\n');
    } finally {
      socket.destroy();
    }
  });
});
