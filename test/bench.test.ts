import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { roundRuns } from '../bench/measure';
import type { BenchRecord } from '../bench/records';
import type { BenchReport } from '../bench/report';
import { buildBench, buildGateway } from './support/gatewayProcess';

const run = promisify(execFile);
const root = join(__dirname, '..');

/**
 * The benchmark harness itself, end to end and tiny: the compiled CLI starts the simulator, both
 * gateways and the floor as child processes, drives S1 for half a second per target and writes
 * its results. No thresholds — the figures depend on the machine; only their shape is checked.
 * The builds are the shared ones of test/support/gatewayProcess.ts, never dist/, so a concurrent
 * `npm run build` is never read half-written.
 */
describe('roundRuns', () => {
  it.each([
    ['S1', ['default', 'off'], true, ['ceiling', 'gateway default', 'gateway-info', 'gateway off', 'floor']],
    ['S4', ['off', 'default'], true, ['ceiling', 'gateway default', 'gateway-info', 'gateway off', 'floor']],
    ['S6', ['default', 'off'], false, ['gateway default', 'gateway off', 'floor']],
    ['S6', ['default', 'off'], true, ['gateway default', 'gateway off', 'floor']],
    ['S1', ['default'], true, ['ceiling', 'gateway default', 'gateway-info', 'floor']],
    ['S1', ['off'], false, ['gateway off', 'floor']],
  ] as const)('%s, caches %j, ceiling running %s: one round runs %j', (scenario, caches, ceiling, labels) => {
    expect(roundRuns(scenario, caches, ceiling).map((run) => run.label)).toEqual(labels);
  });

  it('runs every target of every cache mode once a round, the floor once for all', () => {
    const runs = roundRuns('S1', ['default', 'off'], true);
    const targets = runs.map((run) => `${run.target}/${run.cache}`);
    expect(targets).toEqual(['ceiling/default', 'gateway/default', 'gateway-info/default', 'gateway/off', 'floor/default']);
  });
});

describe('bench harness (compiled CLI, child processes)', () => {
  /** Where the runs write their results. */
  let dir: string;
  let gateway: string;
  let benchDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cse-bench-test-'));
    const build = await buildGateway();
    gateway = join(build.dir, 'dist', 'main.js');
    benchDir = join((await buildBench()).dir, 'bench', 'bench');
    expect(existsSync(gateway)).toBe(true);
    expect(existsSync(join(benchDir, 'main.js'))).toBe(true);
  }, 300_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one record per scenario × target × cache mode, every field, both modes from the same rounds', async () => {
    const out = join(dir, 'latest.json');
    // S1 at 0 ms, ~0.5 s per target, both cache modes, two rounds: a few seconds of load.
    const args = ['--quick', '--latency', '0', '--scenarios', 'S1', '--rounds', '2', '--duration', '0.5', '--warmup', '0.25'];
    args.push('--no-readme', '--out', out);
    const result = await run(process.execPath, [join(benchDir, 'main.js'), ...args, '--gateway', gateway], {
      cwd: root,
      timeout: 100_000,
    });
    expect(result.stdout).toContain('| Target | Measured | Met |');
    // Every target of both cache modes in each round, the second round in reverse: the runs a ratio pairs
    // (the caches at their defaults against off too) are minutes apart in no run.
    const logged = result.stderr.split('\n').map((line) => /^ {4}round (\d+) (\S+(?: \S+)?) +\d+ req\/s/.exec(line));
    const runs = logged.flatMap((match) => (match === null ? [] : [`${match[1]} ${match[2]}`]));
    const round = ['ceiling', 'gateway default', 'gateway-info', 'gateway off', 'floor'];
    expect(runs).toEqual([...round.map((label) => `1 ${label}`), ...[...round].reverse().map((label) => `2 ${label}`)]);

    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    // S1 at the defaults is a stored answer: the ceiling and the gateway at info run beside it.
    expect(report.records.map((r) => `${r.scenario}/${r.target}/${r.cache}`).sort()).toEqual([
      'S1/ceiling/default',
      'S1/floor/default',
      'S1/floor/off',
      'S1/gateway-info/default',
      'S1/gateway/default',
      'S1/gateway/off',
    ]);
    for (const record of report.records) {
      expect(record).toEqual<BenchRecord>({
        scenario: 'S1',
        target: expect.stringMatching(/^(gateway|floor|ceiling|gateway-info)$/),
        cache: expect.stringMatching(/^(default|off)$/),
        latencyMs: 0,
        reqPerSec: expect.any(Number),
        reqPerSecByRound: [expect.any(Number), expect.any(Number)],
        p50Ms: expect.any(Number),
        p99Ms: expect.any(Number),
        upstreamCallsPerOp: expect.any(Number),
        callsAlone: expect.any(Number),
        // Numbers on Linux (/proc); null elsewhere.
        cpuMsPerOp: process.platform === 'linux' ? expect.any(Number) : null,
        rssMb: process.platform === 'linux' ? expect.any(Number) : null,
        rounds: 2,
        requests: expect.any(Number),
        errors: 0,
      });
      expect(record.reqPerSec).toBeGreaterThan(0);
      expect(record.requests).toBeGreaterThan(0);
      // The counters are wired: every target reaches the upstream, except a gateway whose cache
      // may serve a whole run (with caches at their defaults, 0 calls per operation is fair).
      // The ceiling never does.
      const mayServeStored = record.target === 'ceiling' || (record.target !== 'floor' && record.cache === 'default');
      if (!mayServeStored) expect(record.upstreamCallsPerOp).toBeGreaterThan(0);
    }
    // The floor is a pass-through: exactly one upstream call per page (the runs end with nothing in flight).
    // Its runs are the floor of both modes: one record of the same runs per mode.
    const floors = report.records.filter((r) => r.target === 'floor');
    expect(floors.map((r) => r.upstreamCallsPerOp)).toEqual([1, 1]);
    expect(floors.map((r) => r.callsAlone)).toEqual([1, 1]);
    expect(floors[1]?.reqPerSecByRound).toEqual(floors[0]?.reqPerSecByRound);
    expect(report.targets.find((t) => t.id === 'economy-S1')?.met).not.toBeNull();
    // The stored answer against the ceiling, and the access log's price, are measured.
    expect(report.targets.find((t) => t.id === 'throughput-S1-default-gateway-vs-ceiling')?.met).not.toBeNull();
    expect(report.targets.find((t) => t.id === 'throughput-S1-default-gateway-info-vs-gateway')?.met).not.toBeNull();
  }, 110_000);

  it('duels two gateway builds at the same time: CPU per operation of each, and their ratio', async () => {
    const result = await run(process.execPath, [join(benchDir, 'duel.js'), gateway, gateway, '2', '100'], {
      cwd: root,
      timeout: 60_000,
      // B at info, A at warn: the price of the access log (the ratio's format is all that is checked).
      env: { ...process.env, DUEL_B_ENV: 'LOG_LEVEL=info' },
    });
    expect(result.stdout).toMatch(/, B with LOG_LEVEL=info$/m);
    const rounds = result.stdout.split('\n').filter((line) => line.startsWith('round '));
    expect(rounds).toHaveLength(2);
    for (const line of rounds) expect(line).toMatch(/^round \d: A \d+\.\d{3} ms\/op, B \d+\.\d{3} ms\/op, B\/A \d+\.\d{3}, errors 0$/);
    expect(result.stdout).toMatch(/median B\/A CPU per operation: \d+\.\d{3}/);
  }, 70_000);

  it('duels on any scenario and cache mode, and refuses one it does not know', async () => {
    const duel = join(benchDir, 'duel.js');
    const result = await run(process.execPath, [duel, gateway, gateway, '1', '100', 'S6', 'default'], { cwd: root, timeout: 60_000 });
    expect(result.stdout).toMatch(/^S6 \(cold documents .*\), caches default$/m);
    expect(result.stdout).toMatch(/^round 1: .*, errors 0$/m);
    const refused = await run(process.execPath, [duel, gateway, gateway, '1', '100', 'S9'], { cwd: root }).catch((error: { code: number; stderr: string }) => error);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/usage: .*scenario=S5: S1\|S2\|S3\|S4\|S5\|S6/);
  }, 70_000);

  it.each([
    ['coldBound.js', ''],
    ['stackBound.js', ''],
    ['stackBound.js', 'STACK_BOUND=apollo'],
  ])('duels the bound %s (%s) against the gateway, each paging with its own cursors and answering without errors', async (bound, settings) => {
    const args = [join(benchDir, 'duel.js'), join(benchDir, bound), gateway, '1', '100', 'S6', 'off'];
    const result = await run(process.execPath, args, { cwd: root, timeout: 60_000, env: { ...process.env, DUEL_A_ENV: settings } });
    expect(result.stdout).toMatch(/^round 1: .*, errors 0$/m);
  }, 70_000);

  it("weighs the document store's charge against the heap a kept document holds", async () => {
    const dist = join((await buildGateway()).dir, 'dist');
    const result = await run(process.execPath, ['--expose-gc', join(benchDir, 'documentBytes.js'), '200', dist], { cwd: root });
    const rows = result.stdout.split('\n').filter((line) => /^\| [a-z]+ \|/.test(line));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(['| page', '| dashboard', '| aliases', '| comment', '| wide', '| escaped']);
    // Charged / heap: near 1 (a few hundred copies weigh roughly; the bench runs thousands).
    for (const row of rows) expect(Number(row.split(' | ')[4]!.replace(' |', ''))).toBeGreaterThan(0.5);
  }, 120_000);

  it('runs the subscription benchmark: sockets of subscriptions over live jobs, figures against their targets', async () => {
    const out = join(dir, 'subscriptions.json');
    const args = ['--sockets', '4', '--per-socket', '5', '--seconds', '3', '--poll-ms', '500', '--gateway', gateway, '--out', out];
    await run(process.execPath, [join(benchDir, 'subscriptions.js'), ...args], { cwd: root, timeout: 100_000 });
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.settings).toMatchObject({ subscriptions: 20, runningJobs: 500, engines: 5 });
    // Five engines, one poller each, whatever the number of subscribers.
    expect(result.upstream.callsPerInterval).toBeGreaterThan(0);
    expect(result.upstream.callsPerInterval).toBeLessThanOrEqual(10);
    expect(result.events.errors).toBe(0);
    expect(result.events.received).toBeGreaterThan(0);
    expect(result.deliveryDelayMs.samples).toBe(result.events.received);
    expect(Object.keys(result.targets)).toEqual(['callsPerInterval', 'deliveryP99', 'rss', 'cpu']);
  }, 120_000);
});
