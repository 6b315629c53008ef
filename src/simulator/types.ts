import type { CseJob } from '../upstream/types';

/**
 * The simulator's public contract. The gateway's tests depend on these names, so they change
 * only together with those tests.
 */

export type RouteName = 'listEngines' | 'getEngine' | 'listJobs' | 'getJob' | 'unknown';

export interface TokenGrant {
  projects: string[];
  expired?: boolean;
}

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: the OS picks a free port, so parallel test files never collide. */
  port?: number;
  /**
   * Replaces (does not extend) the default tokens: DEMO_TOKEN and SECOND_TOKEN for
   * DEMO_PROJECT_ID, OTHER_TOKEN for OTHER_PROJECT_ID.
   */
  tokens?: Record<string, TokenGrant>;
  /** Default 100: a larger `limit` is answered with 400. */
  maxLimit?: number;
  /**
   * Default 0: added before every API answer (not the `/__sim/` controls), on top of any fault's
   * latency. Benchmarks use it to stand in for the network distance to the real upstream.
   */
  latencyMs?: number;
}

export interface RecordedCall {
  method: string;
  route: RouteName;
  path: string;
  query: Record<string, string>;
  /** Lower-cased: x-auth-token, x-enterprise-project-id, accept, content-type, traceparent, x-request-id. */
  headers: Record<string, string | undefined>;
  projectId?: string;
  engineId?: string;
  jobId?: string;
  /** The status sent; 0 while the answer is pending (injected latency) or when the socket was destroyed. */
  status: number;
}

export type ErrorDialect = 'cse' | 'camel' | 'snake_message' | 'code_message' | 'apig' | 'empty' | 'html';

export interface Fault {
  route?: RouteName;
  engineId?: string;
  jobId?: string;
  /** Default: unlimited. */
  times?: number;
  latencyMs?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  dialect?: ErrorDialect;
  errorCode?: string;
  malformed?: boolean;
  destroy?: boolean;
}

export type CallFilter = Partial<Pick<RecordedCall, 'route' | 'engineId' | 'jobId' | 'projectId'>>;

export interface Simulator {
  readonly url: string;
  /** A snapshot: later calls do not appear in an array already obtained. */
  readonly calls: readonly RecordedCall[];
  callCount(filter?: CallFilter): number;
  /** The most API requests answered at the same moment since the last resetCalls()/reset(). */
  readonly peakInFlight: number;
  resetCalls(): void;
  injectFault(fault: Fault): () => void;
  clearFaults(): void;
  addJobs(engineId: string, count: number, overrides?: Partial<CseJob>): CseJob[];
  reset(): void;
  close(): Promise<void>;
}
