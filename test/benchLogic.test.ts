import fc from 'fast-check';
import { parseBenchArgs, UsageError } from '../bench/args';
import { cpuTicksOfStat, statusFieldMb } from '../bench/procStats';
import { topSelfTime, type CpuProfile } from '../bench/profileTop';
import { median, summarize, type BenchRecord, type Sample } from '../bench/records';
import { replaceResults, TABLE_END, TABLE_START } from '../bench/report';
import { floorRequest, gatewayRequest, PAGE_SIZE, randomAfterIndex } from '../bench/scenarios';
import { summarizeSoak } from '../bench/soak';
import { evaluateTargets, pairedRatio } from '../bench/targets';

/** The benchmark's pure parts: statistics, /proc parsing, arguments, target checks, reports. */

describe('median', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1000], 10],
  ])('median(%j) = %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow(RangeError);
  });

  it('lies between the smallest and the largest value, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }), (values) => {
        const m = median(values);
        return m >= Math.min(...values) && m <= Math.max(...values) && m === median([...values].reverse());
      }),
    );
  });
});

describe('summarize', () => {
  const sample = (over: Partial<Sample>): Sample => ({
    reqPerSec: 100,
    p50Ms: 1,
    p99Ms: 2,
    upstreamCallsPerOp: 1,
    cpuMsPerOp: 0.5,
    rssMb: 100,
    requests: 1000,
    errors: 0,
    ...over,
  });
  const key = { scenario: 'S1', target: 'gateway', cache: 'off', latencyMs: 0, callsAlone: 1 } as const;

  it('takes medians per metric, the peak RSS, and totals of requests and errors', () => {
    const record = summarize(key, [sample({ reqPerSec: 90, rssMb: 120, errors: 1 }), sample({ reqPerSec: 300 }), sample({ reqPerSec: 100 })]);
    expect(record).toEqual<BenchRecord>({
      ...key,
      reqPerSec: 100,
      reqPerSecByRound: [90, 300, 100],
      p50Ms: 1,
      p99Ms: 2,
      upstreamCallsPerOp: 1,
      callsAlone: 1,
      cpuMsPerOp: 0.5,
      rssMb: 120,
      rounds: 3,
      requests: 3000,
      errors: 1,
    });
  });

  it('keeps null where /proc was not readable', () => {
    const record = summarize(key, [sample({ cpuMsPerOp: null, rssMb: null })]);
    expect(record.cpuMsPerOp).toBeNull();
    expect(record.rssMb).toBeNull();
  });
});

describe('/proc parsing', () => {
  it.each([
    ['a plain name', '1234 (node) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 11 0 100 1000 2000', 325],
    ['a name with spaces and parentheses', '99 (my (odd) name) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1', 10],
  ])('cpuTicksOfStat reads utime + stime with %s', (_name, stat, ticks) => {
    expect(cpuTicksOfStat(stat)).toBe(ticks);
  });

  it('cpuTicksOfStat refuses a line it cannot read', () => {
    expect(() => cpuTicksOfStat('garbage')).toThrow(/unreadable/);
  });

  const status = 'Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
  it.each([
    ['VmHWM', 200],
    ['VmRSS', 100],
  ] as const)('statusFieldMb(%s) converts kB to MB', (field, mb) => {
    expect(statusFieldMb(status, field)).toBe(mb);
  });

  it('statusFieldMb is null when the field is missing', () => {
    expect(statusFieldMb('Name:\tnode\n', 'VmHWM')).toBeNull();
  });
});

describe('parseBenchArgs', () => {
  it('defaults to the full run: both latencies, every scenario, both cache modes, a soak, the README table', () => {
    expect(parseBenchArgs([])).toMatchObject({
      mode: 'full',
      latencies: [0, 20],
      scenarios: ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'],
      caches: ['default', 'off'],
      rounds: 3,
      soakSec: 300,
      readme: true,
    });
  });

  it('--quick: one short round, no soak, no README', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ mode: 'quick', rounds: 1, soakSec: 0, readme: false });
  });

  it('--soak: only the soak', () => {
    expect(parseBenchArgs(['--soak'])).toMatchObject({ mode: 'soak', scenarios: [], soakSec: 300 });
  });

  it.each([
    [['--latency', '0, 20,20'], { latencies: [0, 20] }],
    [['--scenarios', 's1,S3'], { scenarios: ['S1', 'S3'] }],
    [['--cache', 'off'], { caches: ['off'] }],
    [['--rounds', '5', '--duration', '2.5', '--warmup', '0'], { rounds: 5, durationSec: 2.5, warmupSec: 0 }],
    [['--quick', '--readme'], { readme: true }],
    [['--no-readme'], { readme: false }],
    [['--out', 'x.json', '--gateway', 'g.js', '--cpu-prof', 'prof'], { out: 'x.json', gatewayEntry: 'g.js', cpuProfDir: 'prof' }],
    [[], { gatewayEnv: {} }],
    [['--gateway-env', 'GRAPHQL_EXECUTOR=graphql-js,CSE_RETRIES=0'], { gatewayEnv: { GRAPHQL_EXECUTOR: 'graphql-js', CSE_RETRIES: '0' } }],
  ])('%j', (argv, expected) => {
    expect(parseBenchArgs(argv)).toMatchObject(expected);
  });

  it.each([
    [['--latency=-5'], /--latency must be a number/],
    [['--latency', ''], /--latency needs at least one value/],
    [['--scenarios', 'S9'], /"S9" is not one of S1, S2, S3, S4, S5/],
    [['--cache', 'warm'], /"warm" is not one of default, off/],
    [['--rounds', '1.5'], /--rounds must be an integer/],
    [['--quick', '--soak'], /exclude each other/],
    [['--bogus'], /bogus/],
    [['--gateway-env', 'graphql_executor'], /"graphql_executor" is not NAME=value/],
  ])('refuses %j with a message', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

describe('scenario requests', () => {
  const cursors = Array.from({ length: 40 }, (_, i) => `c${i}`);

  it('the gateway gets the S1 document with the cursor of the item before the window', () => {
    const ask = gatewayRequest({ kind: 'page', afterIndex: 14 }, cursors, 'tok', '/graphql');
    expect(ask).toMatchObject({ method: 'POST', path: '/graphql', headers: { 'x-auth-token': 'tok' } });
    expect(JSON.parse(ask.body ?? '').variables.after).toBe('c14');
  });

  it('the floor gets the same window as item positions', () => {
    expect(floorRequest({ kind: 'page', afterIndex: 14 }, 'tok').path).toMatch(/start=15&count=20$/);
    expect(floorRequest({ kind: 'page', afterIndex: undefined }, 'tok').path).toMatch(/start=0&count=20$/);
    expect(floorRequest({ kind: 'dashboard' }, 'tok').path).toBe('/dashboard?engines=7&jobs=5');
  });

  it('refuses an after index it has no cursor for', () => {
    expect(() => gatewayRequest({ kind: 'page', afterIndex: 99 }, cursors, 'tok', '/graphql')).toThrow(RangeError);
  });

  it('S5 always leaves a full page after the random cursor', () => {
    fc.assert(
      fc.property(fc.integer({ min: PAGE_SIZE + 1, max: 1000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (total, r) => {
        const k = randomAfterIndex(total, () => r);
        return Number.isInteger(k) && k >= 0 && k + PAGE_SIZE < total;
      }),
    );
    expect(() => randomAfterIndex(PAGE_SIZE, () => 0)).toThrow(RangeError);
  });
});

describe('evaluateTargets', () => {
  const record = (over: Partial<BenchRecord>): BenchRecord => ({
    reqPerSecByRound: [over.reqPerSec ?? 100],
    scenario: 'S1',
    target: 'gateway',
    cache: 'off',
    latencyMs: 0,
    reqPerSec: 100,
    p50Ms: 1,
    p99Ms: 2,
    upstreamCallsPerOp: 1,
    callsAlone: 1,
    cpuMsPerOp: 1,
    rssMb: 100,
    rounds: 1,
    requests: 100,
    errors: 0,
    ...over,
  });
  const byId = (records: BenchRecord[]) => Object.fromEntries(evaluateTargets(records).map((check) => [check.id, check.met]));

  it('reports every target of the issue, unmeasured ones as null (never as met)', () => {
    const checks = evaluateTargets([]);
    expect(checks.map((c) => c.id)).toEqual([
      'economy-S1',
      'economy-S2',
      'economy-S3',
      'throughput-S1-off',
      'throughput-S2-off',
      'throughput-S5-off',
      'throughput-S3-off',
      'p99-S1',
      'throughput-S4-default',
      'throughput-S6-off',
      'throughput-S1-default-gateway-vs-ceiling',
      'throughput-S4-default-gateway-vs-ceiling',
      'throughput-S1-default-gateway-info-vs-gateway',
      'throughput-S4-default-gateway-info-vs-gateway',
      'caches-S6',
      'soak-rss',
    ]);
    expect(checks.every((c) => c.met === null && c.measured === 'not measured')).toBe(true);
  });

  it.each([
    ['economy-S1', [record({ callsAlone: 1, upstreamCallsPerOp: 0.2 })], true],
    ['economy-S1', [record({ callsAlone: 2, upstreamCallsPerOp: 0.2 })], false],
    ['economy-S1', [record({ callsAlone: 0 })], false],
    ['economy-S3', [record({ scenario: 'S3', callsAlone: 8 })], true],
    ['economy-S3', [record({ scenario: 'S3', callsAlone: 9 })], false],
    ['throughput-S1-off', [record({ reqPerSec: 150 }), record({ target: 'floor', reqPerSec: 100 })], true],
    ['throughput-S1-off', [record({ reqPerSec: 149 }), record({ target: 'floor', reqPerSec: 100 })], false],
    ['throughput-S3-off', [record({ scenario: 'S3', reqPerSec: 299 }), record({ scenario: 'S3', target: 'floor', reqPerSec: 100 })], false],
    ['throughput-S3-off', [record({ scenario: 'S3', reqPerSec: 300 }), record({ scenario: 'S3', target: 'floor', reqPerSec: 100 })], true],
    ['throughput-S6-off', [record({ scenario: 'S6', reqPerSec: 60 }), record({ scenario: 'S6', target: 'floor', reqPerSec: 100 })], true],
    ['throughput-S6-off', [record({ scenario: 'S6', reqPerSec: 59 }), record({ scenario: 'S6', target: 'floor', reqPerSec: 100 })], false],
    ['throughput-S1-default-gateway-vs-ceiling', [record({ cache: 'default', reqPerSec: 75 }), record({ cache: 'default', target: 'ceiling', reqPerSec: 100 })], true],
    ['throughput-S1-default-gateway-vs-ceiling', [record({ cache: 'default', reqPerSec: 74 }), record({ cache: 'default', target: 'ceiling', reqPerSec: 100 })], false],
    ['throughput-S4-default-gateway-info-vs-gateway', [record({ scenario: 'S4', cache: 'default', target: 'gateway-info', reqPerSec: 90 }), record({ scenario: 'S4', cache: 'default', reqPerSec: 100 })], true],
    ['throughput-S4-default-gateway-info-vs-gateway', [record({ scenario: 'S4', cache: 'default', target: 'gateway-info', reqPerSec: 89 }), record({ scenario: 'S4', cache: 'default', reqPerSec: 100 })], false],
    ['throughput-S4-default', [record({ scenario: 'S4', cache: 'default', reqPerSec: 100 }), record({ scenario: 'S4', cache: 'default', target: 'floor', reqPerSec: 100 })], true],
    ['p99-S1', [record({ latencyMs: 20, p99Ms: 40 }), record({ latencyMs: 20, target: 'floor', p99Ms: 30 })], true],
    ['p99-S1', [record({ latencyMs: 20, p99Ms: 40.5 }), record({ latencyMs: 20, target: 'floor', p99Ms: 30 })], false],
  ] as const)('%s with %j → met %s', (id, records, met) => {
    expect(byId([...records])[id]).toBe(met);
  });

  it('a ratio between two targets is the median of their rounds\' ratios, not the ratio of their medians', () => {
    const gateway = record({ cache: 'default', reqPerSec: 200, reqPerSecByRound: [100, 200, 300], rounds: 3 });
    const ceiling = record({ cache: 'default', target: 'ceiling', reqPerSec: 200, reqPerSecByRound: [150, 260, 200], rounds: 3 });
    expect(pairedRatio(gateway, ceiling)).toBeCloseTo(200 / 260, 10);
    const check = evaluateTargets([gateway, ceiling]).find((c) => c.id === 'throughput-S1-default-gateway-vs-ceiling');
    expect(check).toMatchObject({ met: true, measured: '0.769 × (median of 3 rounds; 200 vs 200 req/s)' });
  });

  it('economy reads the caches-off records at the lowest latency, not the cached ones', () => {
    const checks = byId([record({ cache: 'default', callsAlone: 0 }), record({ latencyMs: 20, callsAlone: 1 }), record({ latencyMs: 50, callsAlone: 2 })]);
    expect(checks['economy-S1']).toBe(true);
  });

  it('the soak is met when the end stays within 10% of the warm-up peak', () => {
    const soak = (final: number) => ({ ...summarizeSoak([{ t: 0, rssMb: 100 }, { t: 100, rssMb: final }], 100), latencyMs: 0, reqPerSec: 1, p99Ms: 1, errors: 0 });
    expect(evaluateTargets([], soak(110)).at(-1)?.met).toBe(true);
    expect(evaluateTargets([], soak(111)).at(-1)?.met).toBe(false);
  });
});

describe('summarizeSoak', () => {
  it('takes the peak of the first 20% and the median of the last 20%', () => {
    const samples = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((t) => ({ t, rssMb: t === 20 ? 150 : 100 + t / 10 }));
    expect(summarizeSoak(samples, 100)).toMatchObject({ warmupSec: 20, warmupPeakMb: 150, finalMedianMb: 109 });
  });

  it('is null without readable samples', () => {
    expect(summarizeSoak([{ t: 0, rssMb: null }], 100)).toMatchObject({ warmupPeakMb: null, finalMedianMb: null });
  });
});

describe('replaceResults', () => {
  it('replaces only what lies between the markers', () => {
    const readme = `# Title\n\n${TABLE_START}\nold\n${TABLE_END}\n\nafter\n`;
    expect(replaceResults(readme, 'new')).toBe(`# Title\n\n${TABLE_START}\nnew\n${TABLE_END}\n\nafter\n`);
  });

  it('appends the block when the markers are missing', () => {
    expect(replaceResults('# Title\n', 'new')).toBe(`# Title\n\n${TABLE_START}\nnew\n${TABLE_END}\n`);
  });
});

describe('topSelfTime', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'parse', url: 'file:///app/dist/parse.js', lineNumber: 9 } },
      { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      { id: 4, callFrame: { functionName: 'parse', url: 'file:///app/dist/parse.js', lineNumber: 9 } },
      { id: 5, callFrame: { functionName: '', url: 'file:///app/dist/x.js', lineNumber: 0 } },
    ],
    samples: [2, 3, 4, 5, 3],
    timeDeltas: [1000, 5000, 2000, 1000, 5000],
  };

  it('adds up frames of the same function, leaves out idle time, largest first', () => {
    expect(topSelfTime(profile, 10, '/app')).toEqual([
      { frame: 'parse (dist/parse.js:10)', selfMs: 3, percent: 75 },
      { frame: '(anonymous) (dist/x.js:1)', selfMs: 1, percent: 25 },
    ]);
  });

  it('returns at most n rows', () => {
    expect(topSelfTime(profile, 1, '/app')).toHaveLength(1);
  });
});
