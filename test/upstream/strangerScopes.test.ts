import { Agent } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import { loadConfig } from '../../src/config/loadConfig';
import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';
import { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { FailureKind } from '../../src/upstream/errorMapping';
import { paths } from '../../src/upstream/paths';
import { BreakerBoard } from '../../src/upstream/resilience/BreakerBoard';
import type { AttemptRequest, ExchangeResult } from '../../src/upstream/stages/types';

/**
 * Made-up tokens are strangers: they must not push verified callers out of the credential gate's
 * memory, nor make a failing engine or upstream look healthy to the breakers (their 401s are answers).
 */

describe("the breakers count no stranger's outcome", () => {
  const resultOf = (kind: FailureKind): ExchangeResult =>
    kind === 'answer'
      ? { ok: true, answer: { kind: 'ok', body: {}, requestId: undefined, bytes: 2 }, status: 200, durationMs: 1 }
      : { ok: false, kind, error: new GatewayError(ErrorCode.UPSTREAM_ERROR, 'failed'), retry: false, status: undefined, durationMs: 1 };

  /** Each attempt `<v|s>:<kind>[@engine]`, a verified caller's or a stranger's (engine a by default): called, or the code. */
  async function run(specs: readonly string[], wait: (ms: number) => void): Promise<string[]> {
    const outcomes: string[] = [];
    for (const spec of specs) {
      if (spec.startsWith('wait')) {
        wait(Number(spec.slice(5)));
        continue;
      }
      const [, who, kind, engine] = /^([vs]):([\w-]+)(?:@(\w+))?$/.exec(spec)!;
      const attempt = { engineKey: `p/${engine ?? 'a'}`, digest: who, stranger: who === 's' || undefined, events: {}, attempt: 0 };
      const stage = board.stage()(async () => resultOf(kind as FailureKind));
      outcomes.push(
        await stage(attempt as unknown as AttemptRequest).then(
          () => 'called',
          (error: GatewayError) => `${String(error.extensions.code)}`,
        ),
      );
    }
    return outcomes;
  }

  let now = 0;
  let board: BreakerBoard;
  beforeEach(() => {
    now = 0;
    board = new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 3, breakerOpenMs: 100, now: () => now });
  });

  it.each<[string, string[], string[]]>([
    [
      'a stranger’s 401 between a verified caller’s failures does not reset the engine’s count',
      ['v:server', 's:refused', 'v:server', 'v:answer'],
      ['called', 'called', 'called', 'UPSTREAM_UNAVAILABLE'],
    ],
    [
      'a stranger’s answer as the half-open probe does not close the breaker',
      ['v:server', 'v:server', 'wait 100', 's:refused', 'v:server', 'v:answer'],
      ['called', 'called', 'called', 'called', 'UPSTREAM_UNAVAILABLE'],
    ],
    [
      'strangers’ 401s between verified timeouts do not hold the upstream breaker closed',
      ['v:timeout@b', 's:refused', 's:answer', 'v:timeout@c', 's:refused', 'v:timeout@d', 'v:answer'],
      ['called', 'called', 'called', 'called', 'called', 'called', 'UPSTREAM_UNAVAILABLE'],
    ],
    [
      'strangers’ 5xx answers and timeouts (an upstream may answer made-up tokens so) open no breaker',
      ['s:server', 's:server', 's:server', 'v:answer', 's:timeout@b', 's:timeout@c', 's:timeout@d', 'v:answer@e'],
      ['called', 'called', 'called', 'called', 'called', 'called', 'called', 'called'],
    ],
    [
      'nor do their bodies the gateway could not read',
      ['s:bad-response@b', 's:bad-response@c', 's:bad-response@d', 'v:answer@e'],
      ['called', 'called', 'called', 'called'],
    ],
    [
      'strangers’ failures to connect count: a replica fresh from a restart still opens its breakers',
      ['s:connection', 's:connection', 'v:answer', 's:connection@c', 'v:answer@e'],
      ['called', 'called', 'UPSTREAM_UNAVAILABLE', 'called', 'UPSTREAM_UNAVAILABLE'],
    ],
    ['a verified caller’s 4xx still counts as an answer', ['v:server', 'v:refused', 'v:server', 'v:answer'], ['called', 'called', 'called', 'called']],
  ])('%s', async (_name, specs, expected) => {
    expect(await run(specs, (ms) => (now += ms))).toEqual(expected);
  });
});

describe("the credential gate's memory of verified callers", () => {
  let simulator: Simulator;
  let dispatcher: Agent;
  beforeAll(async () => {
    simulator = await startSimulator();
    dispatcher = new Agent();
  });
  afterAll(async () => {
    await dispatcher.close();
    await simulator.close();
  });

  it('made-up tokens filling the strangers’ memory push out only each other: a verified caller is still served from the cache', async () => {
    const config = loadConfig({ CACHE_ENGINE_TTL_MS: '60000' });
    const { resilience } = config.upstream;
    // Both memories small (a variable: the options' type has no test sizes).
    const credentials = { ...config.upstream.credentials, maxScopes: 4, maxStrangers: 4 };
    const http = new CseHttpClient({ endpoint: simulator.url, dispatcher, events: undefined, resilience, credentials, cache: config.cache });
    const call = { route: 'getEngine', path: paths.getEngine(DEMO_PROJECT_ID, SEED.engines.big), engineId: SEED.engines.big } as const;
    const verified = { token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined };
    await http.get(call, { credentials: verified });
    expect(http.cacheGenerationFor(verified)).toBeDefined();
    for (let i = 0; i < 20; i += 1) {
      const madeUp = { ...verified, token: `made-up-token-${i}` };
      await expect(http.get(call, { credentials: madeUp })).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    }
    simulator.resetCalls();
    expect(http.cacheGenerationFor(verified)).toBeDefined();
    expect((await http.get(call, { credentials: verified })).kind).toBe('ok');
    expect(simulator.calls).toHaveLength(0);
  });

  it("one token's made-up projects (each answered 403, which accepts the token) push out no other caller's scope", async () => {
    const config = loadConfig({ CACHE_ENGINE_TTL_MS: '60000' });
    const { resilience } = config.upstream;
    const credentials = { ...config.upstream.credentials, maxScopes: 4, maxStrangers: 4, maxScopesPerCaller: 2 };
    const http = new CseHttpClient({ endpoint: simulator.url, dispatcher, events: undefined, resilience, credentials, cache: config.cache });
    const call = { route: 'getEngine', path: paths.getEngine(DEMO_PROJECT_ID, SEED.engines.big), engineId: SEED.engines.big } as const;
    const victim = { token: SECOND_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined };
    await http.get(call, { credentials: victim });
    for (let i = 0; i < 20; i += 1) {
      const projectId = `made-up-project-${i}`;
      const elsewhere = { ...call, path: paths.getEngine(projectId, SEED.engines.big) };
      const attacker = { token: DEMO_TOKEN, projectId, enterpriseProjectId: undefined };
      await expect(http.get(elsewhere, { credentials: attacker })).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
      expect(http.isStranger(attacker)).toBe(false);
    }
    simulator.resetCalls();
    expect(http.cacheGenerationFor(victim)).toBeDefined();
    expect((await http.get(call, { credentials: victim })).kind).toBe('ok');
    expect(simulator.calls).toHaveLength(0);
  });
});
