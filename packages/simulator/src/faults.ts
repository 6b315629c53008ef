import { defaultErrorCode, dialectResponse } from './dialects';
import { JSON_CONTENT_TYPE, jsonResponse, type SimResponse } from './response';
import type { ErrorDialect, Fault, RouteName } from './types';

/**
 * Injected misbehaviour. The first fault (in injection order) that matches a request and has
 * applications left answers it; `times` counts down per matching request.
 */

export interface FaultTarget {
  route: RouteName;
  engineId?: string;
  jobId?: string;
}

interface Entry {
  id: number;
  fault: Fault;
  remaining: number;
}

export class FaultBook {
  private entries: Entry[] = [];
  private nextId = 1;

  add(fault: Fault): number {
    const checked = validateFault(fault);
    const id = this.nextId++;
    this.entries.push({ id, fault: checked, remaining: checked.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  remove(id: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.id !== id);
    return this.entries.length !== before;
  }

  clear(): void {
    this.entries = [];
  }

  take(target: FaultTarget): Fault | undefined {
    const entry = this.entries.find((candidate) => matches(candidate.fault, target));
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.remove(entry.id);
    return entry.fault;
  }
}

function matches(fault: Fault, target: FaultTarget): boolean {
  return (
    (fault.route === undefined || fault.route === target.route) &&
    (fault.engineId === undefined || fault.engineId === target.engineId) &&
    (fault.jobId === undefined || fault.jobId === target.jobId)
  );
}

/** What a fault answers instead of the endpoint, or undefined when it only delays or breaks. */
export function faultResponse(fault: Fault, requestId: string): SimResponse | undefined {
  if (fault.body !== undefined) {
    const status = fault.status ?? 200;
    return typeof fault.body === 'string'
      ? { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: fault.body }
      : jsonResponse(status, fault.body);
  }
  if (fault.status === undefined && fault.dialect === undefined) return undefined;
  const status = fault.status ?? 500;
  const dialect = fault.dialect ?? 'cse';
  return dialectResponse(dialect, status, fault.errorCode ?? defaultErrorCode(status, dialect), requestId);
}

/**
 * A 200 whose body is cut in half. Cutting the real answer keeps it plausible (the gateway sees
 * the start of the JSON it expects); a prefix of a JSON object is never valid JSON.
 */
export function malformedResponse(normal: SimResponse): SimResponse {
  const looksLikeJson = normal.body.startsWith('{') || normal.body.startsWith('[');
  const body = looksLikeJson ? normal.body.slice(0, Math.max(1, Math.floor(normal.body.length / 2))) : '{"total":1,"data":[{"id":';
  return { status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body };
}

const ROUTES: readonly RouteName[] = ['listEngines', 'getEngine', 'listJobs', 'getJob', 'unknown'];
const DIALECTS: readonly ErrorDialect[] = ['cse', 'camel', 'snake_message', 'code_message', 'apig', 'empty', 'html'];
const KEYS: ReadonlySet<string> = new Set<keyof Fault>([
  'route',
  'engineId',
  'jobId',
  'times',
  'latencyMs',
  'status',
  'headers',
  'body',
  'dialect',
  'errorCode',
  'malformed',
  'destroy',
]);

/**
 * Faults also arrive as JSON over the admin API, so they are checked field by field: a typo in a
 * benchmark's fault would otherwise silently match every request or none.
 */
export function validateFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('A fault must be an object');
  const fault = input as Record<string, unknown>;
  for (const key of Object.keys(fault)) {
    if (!KEYS.has(key)) throw new TypeError(`Unknown fault field "${key}"`);
  }
  const check = (ok: boolean, message: string): void => {
    if (!ok) throw new TypeError(`Invalid fault: ${message}`);
  };
  const optional = (key: string, test: (value: unknown) => boolean, message: string): void => {
    if (fault[key] !== undefined) check(test(fault[key]), `${key} ${message}`);
  };
  const isString = (value: unknown): boolean => typeof value === 'string';
  const isBoolean = (value: unknown): boolean => typeof value === 'boolean';
  optional('route', (value) => ROUTES.includes(value as RouteName), `must be one of ${ROUTES.join(', ')}`);
  optional('engineId', isString, 'must be a string');
  optional('jobId', isString, 'must be a string');
  optional('times', (value) => Number.isSafeInteger(value) && (value as number) > 0, 'must be a positive integer');
  optional('latencyMs', (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0, 'must be a non-negative number');
  optional('status', (value) => Number.isInteger(value) && (value as number) >= 200 && (value as number) <= 599, 'must be an HTTP status 200..599');
  optional(
    'headers',
    (value) => typeof value === 'object' && value !== null && Object.values(value).every(isString),
    'must map names to strings',
  );
  optional('body', (value) => typeof value === 'string' || (typeof value === 'object' && value !== null), 'must be a string or JSON');
  optional('dialect', (value) => DIALECTS.includes(value as ErrorDialect), `must be one of ${DIALECTS.join(', ')}`);
  optional('errorCode', isString, 'must be a string');
  optional('malformed', isBoolean, 'must be a boolean');
  optional('destroy', isBoolean, 'must be a boolean');
  return { ...(fault as Fault), headers: fault.headers ? { ...(fault.headers as Record<string, string>) } : undefined };
}
