import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/loadConfig';
import { METRICS_CONNECTIONS, PROBE_CONNECTIONS, warnOfOpenFileLimit } from '../../src/http/httpServer';
import { createLogger } from '../../src/observability/logger';
import { startHarness, type Harness } from '../support/harness';
import { closedWithin, destroyAll, getOnce, open, openAfter, openIdle } from '../support/rawConnections';

/**
 * METRICS_PORT has the API port's connection protections: a cap of its own (METRICS_CONNECTIONS)
 * and HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS and HTTP_KEEP_ALIVE_TIMEOUT_MS, so idle
 * connections there cannot take the descriptors PORT needs. Before, it had no cap, its own longer
 * timeouts, and Node's 30 s checking interval.
 */

describe('the METRICS_PORT listener', () => {
  let h: Harness;
  let metricsPort: number;
  beforeAll(async () => {
    h = await startHarness({
      METRICS_PORT: '0',
      // Long enough that a loaded host's scrape still ends before it: what closed earlier was made room for.
      HTTP_HEADERS_TIMEOUT_MS: '1500',
      HTTP_REQUEST_TIMEOUT_MS: '3000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
    });
    metricsPort = Number(new URL(h.gateway.metricsUrl!).port);
  });
  afterEach(destroyAll);
  afterAll(() => h.close());

  it.each(['h2c', 'websocket'])('serves a scrape asking to upgrade to %s as a request: no protocol but HTTP/1.1 there', async (protocol) => {
    const answer = await getOnce(metricsPort, '/metrics', 1000, undefined, `Connection: Upgrade, close\r\nUpgrade: ${protocol}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('nodejs_heap_size_used_bytes');
  });

  it('past METRICS_CONNECTIONS a scrape takes the oldest connection\'s place; idle ones close after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const idle = await openIdle(metricsPort, METRICS_CONNECTIONS);
    expect(await openAfter(idle[0]!, 50)).toBe(true);
    // Before, every newcomer was closed at once: 16 kept connections locked the scrapers out.
    expect(await getOnce(metricsPort, '/metrics', 1000)).toMatch(/^HTTP\/1\.1 200/);
    expect(await closedWithin(idle[0]!, 1000)).toBeLessThan(1200);
    expect(await openAfter(idle[1]!, 0)).toBe(true);
    for (const connection of idle.slice(1)) expect(await closedWithin(connection, 5000)).toBeGreaterThanOrEqual(1200);
  });

  it('closes a connection that trickles its headers, and an idle keep-alive one, by the HTTP settings', async () => {
    const trickle = await open(metricsPort);
    trickle.socket.write('GET /metrics HTTP/1.1\r\n');
    const timer = setInterval(() => trickle.socket.write('X-A: b\r\n'), 100);
    try {
      expect(await closedWithin(trickle, 5000)).toBeLessThan(3000);
    } finally {
      clearInterval(timer);
    }
    const kept = await open(metricsPort);
    kept.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closedWithin(kept, 3000)).toBeLessThan(2000);
    expect(kept.received()).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('the start-up check against the open-file limit', () => {
  const warningsAt = (limit: number, env: Record<string, string>) => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) });
    const config = loadConfig({ NODE_ENV: 'test', CSE_PROJECT_ID: 'p', CSE_CONNECTIONS: '32', ...env });
    warnOfOpenFileLimit(config, createLogger('warn', destination), limit);
    return lines.map((line) => JSON.parse(line));
  };

  // 64 kept for files and logs, 32 for CSE_CONNECTIONS.
  const fits = 100 + PROBE_CONNECTIONS + 32 + 64;
  it.each([
    ['fits', fits, {}, undefined],
    ['the probes counted', fits - 1, {}, 100 + PROBE_CONNECTIONS],
    ['METRICS_PORT counted', fits, { METRICS_PORT: '0' }, 100 + PROBE_CONNECTIONS + METRICS_CONNECTIONS],
    ['fits with METRICS_PORT', fits + METRICS_CONNECTIONS, { METRICS_PORT: '0' }, undefined],
  ])('%s', (_what, limit, env, clientConnections) => {
    const warnings = warningsAt(limit, { HTTP_MAX_CONNECTIONS: '100', SUBSCRIPTION_MAX_SOCKETS: '50', ...env });
    if (clientConnections === undefined) return expect(warnings).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ clientConnections, openFileLimit: limit, cseConnections: 32 })]);
    expect(warnings[0].msg).toMatch(/open-file limit \(ulimit -n\)/);
  });
});
