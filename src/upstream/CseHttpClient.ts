import type { Dispatcher } from 'undici';
import { GatewayError, type UpstreamErrorInfo } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import type { Credentials } from './credentials';
import { classifyResponse, classifyTransportError } from './errorMapping';
import { parseUpstreamJson, UpstreamBodyError } from './parseJson';
import type { UpstreamEvents } from '../observability/events';
import type { Route } from './paths';

/** A successful answer, or the upstream's "not found" (HTTP 400 with a not-found code). */
export type UpstreamAnswer =
  | { kind: 'ok'; body: unknown; requestId: string | undefined }
  | { kind: 'not-found'; upstream: UpstreamErrorInfo };

export interface UpstreamCall {
  route: Route;
  path: string;
  query?: Readonly<Record<string, string | undefined>>;
}

/**
 * Everything about one GraphQL operation that its upstream calls carry: whose credentials,
 * when to give up, which headers to propagate (trace context), and who counts the calls.
 */
export interface UpstreamRequestContext {
  readonly credentials: Credentials;
  /** Aborts every call of the operation (client gone, operation deadline). */
  readonly signal?: AbortSignal;
  /** Extra headers to send with every call, e.g. a W3C `traceparent`. */
  readonly propagate?: Readonly<Record<string, string>>;
  /** The operation's own event sink (per-operation counts). */
  readonly events?: UpstreamEvents;
}

export interface CseHttpClientOptions {
  /** Base URL: scheme, host and an optional path prefix, no trailing slash. */
  endpoint: string;
  dispatcher: Dispatcher;
  /** Larger successful bodies are refused as UPSTREAM_BAD_RESPONSE (memory bound). */
  maxBodyBytes?: number;
  /** The process-wide event sink (metrics); each operation may add its own. */
  events?: UpstreamEvents;
}

/** Error bodies are only read for their code; a proxy's HTML page need not be read whole. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * GETs JSON from the upstream with the caller's credentials. Every failure leaves as a
 * GatewayError with a code from the closed set; "not found" is an answer, not an error, because
 * most fields turn it into `null`.
 */
export class CseHttpClient {
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly dispatcher: Dispatcher;
  private readonly maxBodyBytes: number;
  private readonly events: UpstreamEvents | undefined;

  constructor(options: CseHttpClientOptions) {
    const url = new URL(options.endpoint);
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.events = options.events;
  }

  async get(call: UpstreamCall, request: UpstreamRequestContext): Promise<UpstreamAnswer> {
    const started = performance.now();
    const seen: { status?: number } = {};
    let outcome: 'ok' | 'not-found' | 'error' = 'error';
    try {
      const answer = await this.attempt(call, request, seen);
      outcome = answer.kind;
      return answer;
    } finally {
      const event = { route: call.route, status: seen.status, durationMs: performance.now() - started, outcome, attempt: 0 };
      this.events?.attempt?.(event);
      request.events?.attempt?.(event);
    }
  }

  /** One HTTP exchange; records the status it saw in `seen` for the attempt event. */
  private async attempt(call: UpstreamCall, request: UpstreamRequestContext, seen: { status?: number }): Promise<UpstreamAnswer> {
    const { credentials, signal } = request;
    const headers: Record<string, string> = {
      ...request.propagate,
      'x-auth-token': credentials.token,
      accept: 'application/json',
      'content-type': 'application/json;charset=UTF-8',
    };
    if (credentials.enterpriseProjectId !== undefined) {
      headers['x-enterprise-project-id'] = credentials.enterpriseProjectId;
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatcher.request({
        origin: this.origin,
        path: this.pathPrefix + call.path + queryString(call.query),
        method: 'GET',
        headers,
        signal,
      });
    } catch (error) {
      throw classifyTransportError(error);
    }

    const { statusCode, headers: responseHeaders, body } = response;
    seen.status = statusCode;
    if (statusCode >= 200 && statusCode < 300) {
      const requestId = headerValue(responseHeaders['x-request-id']);
      let text: string;
      try {
        text = await readText(body, this.maxBodyBytes, true);
      } catch (error) {
        throw error instanceof GatewayError ? error : classifyTransportError(error);
      }
      try {
        return { kind: 'ok', body: parseUpstreamJson(text), requestId };
      } catch (error) {
        if (!(error instanceof UpstreamBodyError)) throw error;
        throw badResponse(statusCode, requestId, error);
      }
    }

    let text = '';
    try {
      text = await readText(body, MAX_ERROR_BODY_BYTES, false);
    } catch {
      // The status alone classifies the failure; a body cut off mid-way only loses its code.
    }
    const failure = classifyResponse(statusCode, responseHeaders, text);
    if (failure.kind === 'not-found') return failure;
    throw failure.error;
  }
}

/** A 2xx answer whose body is not the JSON the upstream documents. */
export function badResponse(status: number, requestId: string | undefined, cause: unknown): GatewayError {
  const upstream: UpstreamErrorInfo = { status };
  if (requestId !== undefined) upstream.requestId = requestId;
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answered with a body the gateway cannot read.', {
    upstream,
    cause,
  });
}

function queryString(query: UpstreamCall['query']): string {
  if (query === undefined) return '';
  let out = '';
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    out += `${out === '' ? '?' : '&'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  }
  return out;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a body as UTF-8 text up to `maxBytes`. Past the bound a successful body is an error
 * (we would hold an unbounded amount of memory for one call); an error body is just truncated.
 */
async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number, strict: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      if (strict) {
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answer is larger than the gateway accepts.');
      }
      chunks.push(buffer.subarray(0, buffer.length - (size - maxBytes)));
      break;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, Math.min(size, maxBytes)).toString('utf8');
}
