import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createMetrics } from '../../src/observability/metrics';
import { createRedisMetrics } from '../../src/redis/redisMetrics';

/**
 * deploy/prometheus and deploy/grafana name only metrics the gateway exports (read from its
 * registry, Redis metrics and prom-client's default process metrics included), and the alert
 * rules pass their promtool unit tests.
 */

const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy', 'prometheus', 'tests.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'cse-jobs-gateway.json');

/** What PromQL spells in identifier shape but is not a metric. */
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression (or a Grafana `label_values(...)` query) selects: label
 * matchers, grouping clauses, ranges, strings, Grafana variables and function names set aside.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:])(\s*\()?/g)) {
    const [, call] = match;
    const word = match[0].replace(/\s*\($/, '');
    if (call !== undefined || PROMQL_WORDS.has(word.toLowerCase())) continue;
    // A digit's exponent (1e3) or a duration (5m) is no name.
    if (match.index! > 0 && /[0-9.]/.test(bare[match.index! - 1]!)) continue;
    names.add(word);
  }
  return [...names];
}

/** Every series name a scrape of the gateway can show: histograms' and summaries' parts spelled out. */
async function exportedNames(): Promise<Set<string>> {
  const { registry } = createMetrics({ maxOperationNames: 10 });
  // Registered only where REDIS_URL is set: on the same registry then.
  createRedisMetrics(registry as Registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const { name } = metric;
    const type = String(metric.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

interface Rule {
  alert: string;
  expr: string;
}

const rules: Rule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
};
const panelQueries: Array<[string, string]> = dashboard.panels
  .flatMap((panel) => [panel, ...(panel.panels ?? [])])
  .flatMap((panel) => (panel.targets ?? []).map((target) => [panel.title, target.expr] as [string, string]));
const variableQueries: Array<[string, string]> = dashboard.templating.list
  .filter((variable) => variable.type === 'query')
  .map((variable) => [variable.name, (variable.query as { query: string }).query]);

describe('metricNames', () => {
  it.each<[string, string[]]>([
    ['gateway_redis_up == 0', ['gateway_redis_up']],
    ['sum by (job, le) (rate(gateway_operation_duration_seconds_bucket{job=~"$job", le="+Inf"}[5m])) > 2.5', ['gateway_operation_duration_seconds_bucket']],
    ['histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval])))', ['a_bucket']],
    ['sum(rate(x_total{status=~"5..|none"}[5m])) / sum(rate(y_total[5m])) > 0.05', ['x_total', 'y_total']],
    ['max by (instance) (nodejs_eventloop_lag_p99_seconds) > 2e-1', ['nodejs_eventloop_lag_p99_seconds']],
    ['(sum(rate(a[5m])) or vector(0)) + on (job) group_left (version) b offset 5m', ['a', 'b']],
    ['label_values(gateway_build_info{job=~"$job"}, instance)', ['gateway_build_info', 'instance']],
  ])('%s names %j', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('the alerts and the dashboard name only what the gateway exports', () => {
  let exported: Set<string>;
  beforeAll(async () => {
    exported = await exportedNames();
  });

  it('reads the exported names from the registry, process metrics included', () => {
    for (const name of ['gateway_operations_total', 'gateway_operation_duration_seconds_bucket', 'gateway_redis_up', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
      expect(exported.has(name)).toBe(true);
    }
  });

  it.each(rules.map((rule) => [rule.alert, rule.expr]))('alert %s', (_alert, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !exported.has(name))).toEqual([]);
  });

  it.each(panelQueries)('panel %s: %s', (_title, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !exported.has(name))).toEqual([]);
  });

  it.each(variableQueries)('variable %s: %s', (_name, query) => {
    // label_values(metric, label): the metric is the first name, the label the second.
    const [metric] = metricNames(query);
    expect(exported.has(metric!)).toBe(true);
  });

  it('pages on each concern of the issue: upstream errors, breaker, shedding, p99, Redis, subscription refusals, event-loop lag', () => {
    const used = new Set(rules.flatMap((rule) => metricNames(rule.expr)));
    for (const name of [
      'gateway_upstream_requests_total',
      'gateway_upstream_breaker_state',
      'gateway_upstream_shed_total',
      'gateway_operation_duration_seconds_bucket',
      'gateway_redis_up',
      'gateway_subscriptions_refused_total',
      'gateway_subscription_sockets_refused_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect([name, used.has(name)]).toEqual([name, true]);
    }
  });
});

const PROMTOOL = '/usr/bin/promtool';
const havePromtool = existsSync(PROMTOOL);
if (!havePromtool && process.env.CI === 'true') {
  // CI installs Debian's prometheus package (.ci/run): its absence there is a broken setup.
  throw new Error(`${PROMTOOL} is missing under CI=true: .ci/run should have installed Debian's prometheus package.`);
}
if (!havePromtool) console.warn(`Skipping the promtool checks: ${PROMTOOL} is absent (apt-get install prometheus).`);

(havePromtool ? describe : describe.skip)('promtool', () => {
  const run = (args: string[]) => promisify(execFile)(PROMTOOL, args, { cwd: ROOT });

  it('checks the rules', async () => {
    const { stdout } = await run(['check', 'rules', RULES]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('passes the rules unit tests (deploy/prometheus/tests.yml)', async () => {
    const { stdout, stderr } = await run(['test', 'rules', RULE_TESTS]);
    expect(`${stdout}${stderr}`).toContain('SUCCESS');
  });
});
