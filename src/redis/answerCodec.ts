import { parseUpstreamBody } from '../upstream/parseJson';
import type { UpstreamAnswer } from '../upstream/stages/types';

/**
 * Upstream answers as text in Redis: a JSON header line, then an "ok" answer's body as the upstream
 * sent it (serialising the parsed page again is what a miss would otherwise spend its CPU on). Read
 * back as the exchange reads a body (big ids, depth bound); a value this version did not write
 * reads as nothing, never as a wrong answer.
 */
export function encodeAnswer(answer: UpstreamAnswer): string {
  if (answer.kind === 'not-found') return JSON.stringify({ kind: 'not-found', upstream: answer.upstream });
  const header = JSON.stringify({ kind: 'ok', requestId: answer.requestId ?? null, bytes: answer.bytes });
  return `${header}\n${answer.text ?? JSON.stringify(answer.body)}`;
}

export function decodeAnswer(text: string): UpstreamAnswer | undefined {
  const end = text.indexOf('\n');
  let header: unknown;
  let body: unknown;
  try {
    header = JSON.parse(end < 0 ? text : text.slice(0, end));
    if (end >= 0) body = parseUpstreamBody(text.slice(end + 1));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null) return undefined;
  const value = header as Record<string, unknown>;
  if (value.kind === 'ok' && typeof value.bytes === 'number' && end >= 0) {
    const requestId = typeof value.requestId === 'string' ? value.requestId : undefined;
    return { kind: 'ok', body, requestId, bytes: value.bytes };
  }
  if (value.kind === 'not-found' && end < 0 && typeof value.upstream === 'object' && value.upstream !== null) {
    return { kind: 'not-found', upstream: value.upstream };
  }
  return undefined;
}
