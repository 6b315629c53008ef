import type { IncomingHttpHeaders } from 'node:http';
import type { RouteMatch } from './routes';
import type { CallFilter, RecordedCall } from './types';

/** The request headers a gateway test may assert on; others are not kept. */
const RECORDED_HEADERS = ['x-auth-token', 'x-enterprise-project-id', 'accept', 'content-type', 'traceparent', 'x-request-id'] as const;

export class CallLog {
  private entries: RecordedCall[] = [];
  private inFlight = 0;
  private peak = 0;

  /** The most API requests that were being answered at the same moment since the last clear. */
  get peakInFlight(): number {
    return this.peak;
  }

  /** Marks an API request as being answered; `leave` when its answer is sent (or abandoned). */
  enter(): void {
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
  }

  leave(): void {
    this.inFlight -= 1;
  }

  /** The call is logged on arrival, so a request held by latency is already visible (status 0). */
  record(method: string, path: string, query: Record<string, string>, headers: IncomingHttpHeaders, match: RouteMatch): RecordedCall {
    const call: RecordedCall = { method, route: match.route, path, query, headers: pickHeaders(headers), status: 0 };
    if (match.projectId !== undefined) call.projectId = match.projectId;
    if (match.engineId !== undefined) call.engineId = match.engineId;
    if (match.jobId !== undefined) call.jobId = match.jobId;
    this.entries.push(call);
    return call;
  }

  snapshot(): RecordedCall[] {
    return this.entries.map((call) => ({ ...call, query: { ...call.query }, headers: { ...call.headers } }));
  }

  count(filter: CallFilter = {}): number {
    const criteria = Object.entries(filter).filter(([, value]) => value !== undefined) as Array<[keyof CallFilter, string]>;
    return this.entries.filter((call) => criteria.every(([key, value]) => call[key] === value)).length;
  }

  clear(): void {
    this.entries = [];
    this.peak = this.inFlight;
  }
}

function pickHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {};
  for (const name of RECORDED_HEADERS) {
    const value = headers[name];
    picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

/** The first value of each query parameter, as the upstream's framework binds a single value. */
export function queryRecord(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of params) {
    // defineProperty, so a parameter named __proto__ is data like any other.
    if (!Object.hasOwn(query, name)) Object.defineProperty(query, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return query;
}
