import type { Dispatcher } from 'undici';
import { boundedSignal } from '../boundedSignal';
import { exchange, type ExchangeResult } from '../exchange';
import { remainingMs, type AttemptHandler, type UpstreamRequestContext } from './types';

export interface ExchangeStageOptions {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly attemptTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Keep each body's text on its answer, for Redis. */
  readonly keepText: boolean;
}

/**
 * The innermost stage: one GET, bounded by the attempt's time (clipped by the operation's
 * deadline) and the call's signal. One that ran into the deadline, or whose callers all left, is
 * `cancelled`: it says nothing about the upstream.
 */
export function exchangeStage(options: ExchangeStageOptions): AttemptHandler {
  return async (attempt) => {
    const budget = Math.min(options.attemptTimeoutMs, remainingMs(attempt.request.deadline));
    const bounded = boundedSignal(attempt.signal, Math.max(1, budget));
    let result: ExchangeResult;
    try {
      result = await exchange(options.dispatcher, {
        origin: options.origin,
        path: attempt.path,
        headers: upstreamHeaders(attempt.request),
        signal: bounded.signal,
        maxBodyBytes: options.maxBodyBytes,
        keepText: options.keepText,
      });
    } finally {
      bounded.dispose();
    }
    if (!result.ok && (attempt.signal.aborted || (bounded.signal.aborted && budget < options.attemptTimeoutMs))) {
      return { ...result, kind: 'cancelled', retry: false };
    }
    return result;
  };
}

/** The caller's own credentials, plus what the operation propagates (`traceparent`). */
function upstreamHeaders(request: UpstreamRequestContext): Record<string, string> {
  const { credentials } = request;
  const headers: Record<string, string> = {
    ...request.propagate,
    'x-auth-token': credentials.token,
    accept: 'application/json',
    'content-type': 'application/json;charset=UTF-8',
  };
  if (credentials.enterpriseProjectId !== undefined) headers['x-enterprise-project-id'] = credentials.enterpriseProjectId;
  return headers;
}
