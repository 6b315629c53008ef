import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/loadConfig';
import { shutdownDeadlineMs } from '../../src/gateway';
import { HEALTH_PATH, METRICS_PATH, READY_PATH } from '../../src/http/operationalRoutes';
import { startHarness, type Harness } from '../support/harness';

/**
 * deploy/kubernetes against the Kubernetes API schemas (kubernetes-models) and against the
 * gateway itself: the variables the manifests set are ones loadConfig reads, the probes and ports
 * are what the gateway serves, and the grace period and probe timings follow from the shutdown
 * defaults loadConfig applies in production.
 */

const DIR = join(__dirname, '..', '..', 'deploy', 'kubernetes');
const KUSTOMIZATION = 'kustomization.yaml';

/** The schema of each kind the manifests may hold: a kind without one fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

interface Manifest {
  readonly file: string;
  readonly object: { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
}

function readYaml(file: string): unknown[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    return document.toJS();
  });
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml') && file !== KUSTOMIZATION)
  .sort()
  .flatMap((file) => readYaml(file).map((object) => ({ file, object: object as Manifest['object'] })));

function only<T>(kind: string): T {
  const found = manifests.filter((manifest) => manifest.object.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!.object as T;
}

const deployment = only<IDeployment>('Deployment');
const podSpec = deployment.spec!.template.spec!;
const container: IContainer = podSpec.containers[0]!;
const configMap = only<{ metadata: { name: string }; data: Record<string, string> }>('ConfigMap');

/** The environment the container gets from the ConfigMap (the Secret's values are not known here). */
const manifestEnv: Record<string, string> = { ...configMap.data };

/** Every variable loadConfig reads, recorded as it reads them: the gateway's own list, not a copy. */
function settingNames(): Set<string> {
  const names = new Set<string>();
  const recorder = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  loadConfig(recorder);
  return names;
}

function containerPort(name: string | number | undefined): number | undefined {
  if (typeof name === 'number') return name;
  return container.ports?.find((port) => port.name === name)?.containerPort;
}

describe('the manifests against the Kubernetes API schemas', () => {
  it('finds the manifests', () => {
    expect(manifests.map((manifest) => manifest.object.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service'],
    );
  });

  it.each(manifests.map((manifest) => [`${manifest.file}: ${manifest.object.kind}`, manifest] as const))('%s is valid', (_name, { object }) => {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (Model === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
    expect(() => new Model(object as never).validate()).not.toThrow();
  });

  it('lists every manifest in the kustomization but the NetworkPolicy sketch, and the image under images', () => {
    const [kustomization] = readYaml(KUSTOMIZATION) as Array<{ resources: string[]; images: Array<{ name: string }> }>;
    const files = [...new Set(manifests.map((manifest) => manifest.file))];
    expect([...kustomization!.resources].sort()).toEqual(files.filter((file) => file !== 'networkpolicy.yaml'));
    expect(kustomization!.images.map((image) => image.name)).toEqual([container.image]);
  });

  it('refuses what the schema forbids (the validation has teeth)', () => {
    const broken = structuredClone(deployment);
    broken.spec!.template.spec!.containers[0]!.resources = { limits: { memory: 'a lot' } };
    expect(() => new Deployment(broken).validate()).toThrow(/quantity/);
  });
});

describe('the manifests against the gateway', () => {
  it('sets only variables loadConfig reads, with values it accepts', () => {
    const known = settingNames();
    const set = [...Object.keys(manifestEnv), ...(container.env ?? []).map((variable) => variable.name)];
    expect(set.filter((name) => !known.has(name))).toEqual([]);
    expect(() => loadConfig(manifestEnv)).not.toThrow();
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
  });

  it('takes the Redis URL and the encryption key from a Secret, not the ConfigMap', () => {
    const fromSecret = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.valueFrom?.secretKeyRef?.name]));
    expect(fromSecret).toEqual({ REDIS_URL: 'cse-jobs-gateway-redis', REDIS_ENCRYPTION_KEY: 'cse-jobs-gateway-redis' });
    expect(Object.keys(manifestEnv)).not.toEqual(expect.arrayContaining(['REDIS_URL']));
    expect(Object.keys(manifestEnv)).not.toEqual(expect.arrayContaining(['REDIS_ENCRYPTION_KEY']));
  });

  it('probes /healthz (liveness) and /readyz (readiness) on PORT, and exposes METRICS_PORT apart', () => {
    const config = loadConfig(manifestEnv);
    expect(container.livenessProbe?.httpGet?.path).toBe(HEALTH_PATH);
    expect(container.readinessProbe?.httpGet?.path).toBe(READY_PATH);
    expect(containerPort(container.livenessProbe?.httpGet?.port)).toBe(config.http.port);
    expect(containerPort(container.readinessProbe?.httpGet?.port)).toBe(config.http.port);
    expect(containerPort('metrics')).toBe(config.http.metricsPort);
    expect(config.http.metricsPort).not.toBe(config.http.port);
    const annotations = deployment.spec!.template.metadata!.annotations!;
    expect([Number(annotations['prometheus.io/port']), annotations['prometheus.io/path']]).toEqual([config.http.metricsPort, METRICS_PATH]);
    const service = only<{ spec: { ports: Array<{ name: string; targetPort: string }>; selector: Record<string, string> } }>('Service');
    expect(Object.fromEntries(service.spec.ports.map((port) => [port.name, containerPort(port.targetPort)]))).toEqual({ http: config.http.port, metrics: config.http.metricsPort });
    expect(service.spec.selector).toEqual(deployment.spec!.selector.matchLabels);
  });

  it('runs non-root on a read-only root filesystem, without privilege escalation or capabilities', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(podSpec.automountServiceAccountToken).toBe(false);
  });

  it('requests memory and CPU within its limits', () => {
    const { requests, limits } = container.resources!;
    const bytes = (quantity: unknown) => Number(/^(\d+)Mi$/.exec(String(quantity))?.[1]) * 1024 * 1024;
    expect(bytes(requests!.memory)).toBeLessThanOrEqual(bytes(limits!.memory));
    expect(bytes(requests!.memory)).toBeGreaterThan(0);
    expect(requests!.cpu).toBeDefined();
  });

  it('keeps two replicas or more, one at most disrupted, and scales the Deployment', () => {
    const pdb = only<{ spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget');
    const hpa = only<{ spec: { minReplicas: number; maxReplicas: number; scaleTargetRef: { kind: string; name: string } } }>('HorizontalPodAutoscaler');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec!.selector.matchLabels);
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(deployment.spec!.selector.matchLabels!);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata!.name });
  });
});

describe("the README's Secret against the NetworkPolicy", () => {
  it('names a Redis on a port the NetworkPolicy lets the pods reach', () => {
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const url = new URL(/--from-literal=redis-url='([^']+)'/.exec(readme)![1]!);
    expect(() => loadConfig({ REDIS_URL: url.href })).not.toThrow();
    const policy = only<{ spec: { egress: Array<{ to: Array<{ podSelector?: { matchLabels: Record<string, string> } }>; ports: Array<{ port: number }> }> } }>('NetworkPolicy');
    const toRedis = policy.spec.egress.filter((rule) => rule.to.some((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/name'] === 'redis'));
    expect(toRedis.flatMap((rule) => rule.ports.map((port) => port.port))).toContain(Number(url.port || 6379));
  });
});

describe('shutdown timings from the production defaults', () => {
  const config = loadConfig(manifestEnv);
  const preStopMs = (container.lifecycle?.preStop?.sleep?.seconds ?? Number.NaN) * 1000;

  it('applies the production SHUTDOWN_DELAY_MS to the manifests', () => {
    expect(config.nodeEnv).toBe('production');
    expect(config.http.shutdownDelayMs).toBe(5000);
    expect(preStopMs).toBeGreaterThan(0);
  });

  it('fails readiness within SHUTDOWN_DELAY_MS, so traffic stops before connections are refused', () => {
    const probe = container.readinessProbe!;
    expect(probe.periodSeconds! * probe.failureThreshold! * 1000).toBeLessThan(config.http.shutdownDelayMs);
  });

  it("gives terminationGracePeriodSeconds room for preStop and the process's own shutdown deadline, and a margin", () => {
    // The deadline main.ts holds the process to: SHUTDOWN_DELAY_MS, the drain and the pool close, the last lines.
    const needMs = preStopMs + shutdownDeadlineMs(config.http);
    expect(needMs).toBe(preStopMs + config.http.shutdownDelayMs + 2 * config.http.shutdownTimeoutMs + 5000);
    expect(podSpec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(needMs);
  });

  it("states the grace period's figures in the README as the manifest has them", () => {
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const seconds = (ms: number) => ms / 1000;
    const stated = /`terminationGracePeriodSeconds` (\d+) = (\d+) \(preStop\) \+ (\d+) \(the process's deadline\) \+ a margin of (\d+)/.exec(readme);
    expect(stated?.slice(1).map(Number)).toEqual([
      podSpec.terminationGracePeriodSeconds,
      seconds(preStopMs),
      seconds(shutdownDeadlineMs(config.http)),
      podSpec.terminationGracePeriodSeconds! - seconds(preStopMs + shutdownDeadlineMs(config.http)),
    ]);
  });
});

describe('what the probes and the scrape reach, served for real with the ConfigMap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...manifestEnv, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers /healthz and /readyz on PORT, /metrics on METRICS_PORT alone', async () => {
    const api = new URL(h.gateway.url).origin;
    const status = async (url: string) => {
      const response = await request(url);
      await response.body.dump();
      return response.statusCode;
    };
    expect(await status(`${api}${HEALTH_PATH}`)).toBe(200);
    expect(await status(`${api}${READY_PATH}`)).toBe(200);
    expect(await status(h.gateway.metricsUrl!)).toBe(200);
    expect(new URL(h.gateway.metricsUrl!).pathname).toBe(METRICS_PATH);
    expect(await status(`${api}${METRICS_PATH}`)).toBe(404);
  });
});
