import type { IncomingHttpHeaders } from 'node:http';
import type { RouteMatch } from './routes';
import type { CallFilter, RecordedCall } from './types';

/** The request headers a gateway test may assert on; others are not kept. */
const RECORDED_HEADERS = ['x-auth-token', 'x-enterprise-project-id', 'accept', 'content-type', 'traceparent', 'tracestate', 'baggage', 'x-request-id'] as const;

/**
 * Calls kept for inspection; older ones are dropped (the total still counts them). The demo
 * (`npm start`) runs the simulator for as long as the gateway, so the log must not grow with it.
 */
export const MAX_RECORDED_CALLS = 20_000;
/** A recorded header value longer than this is kept as its length only (tokens run to 32 KB). */
const MAX_RECORDED_HEADER_LENGTH = 512;

export class CallLog {
  private entries: RecordedCall[] = [];
  /** Every call since the last clear, including those no longer kept. */
  private total = 0;
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
    this.total += 1;
    // Dropped in halves, not one by one: the log stays an array, and dropping stays cheap.
    if (this.entries.length > MAX_RECORDED_CALLS) this.entries = this.entries.slice(this.entries.length - MAX_RECORDED_CALLS / 2);
    return call;
  }

  snapshot(): RecordedCall[] {
    return this.entries.map((call) => ({ ...call, query: { ...call.query }, headers: { ...call.headers } }));
  }

  /** Calls matching `filter` among those kept; without a filter, every call since the last clear. */
  count(filter: CallFilter = {}): number {
    const criteria = Object.entries(filter).filter(([, value]) => value !== undefined) as Array<[keyof CallFilter, string]>;
    if (criteria.length === 0) return this.total;
    return this.entries.filter((call) => criteria.every(([key, value]) => call[key] === value)).length;
  }

  clear(): void {
    this.entries = [];
    this.total = 0;
    this.peak = this.inFlight;
  }
}

function pickHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {};
  for (const name of RECORDED_HEADERS) {
    const value = headers[name];
    const text = Array.isArray(value) ? value.join(', ') : value;
    picked[name] = text !== undefined && text.length > MAX_RECORDED_HEADER_LENGTH ? `<${text.length} characters>` : text;
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
