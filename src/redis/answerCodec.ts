import type { UpstreamAnswer } from '../upstream/exchange';

/**
 * Upstream answers as text in Redis. The body is JSON the upstream sent, as parsed: ids beyond
 * 2^53 are already exact decimal strings (see parseUpstreamJson), so `JSON.stringify` and
 * `JSON.parse` give it back as it was.
 *
 * Reading is defensive: Redis is shared, and a value that is not what this version writes (an
 * older replica, a hand edit) reads as nothing, never as a wrong answer.
 */
export function encodeAnswer(answer: UpstreamAnswer, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    answer.kind === 'ok'
      ? { ...extra, kind: 'ok', body: answer.body, requestId: answer.requestId ?? null, bytes: answer.bytes }
      : { ...extra, kind: 'not-found', upstream: answer.upstream },
  );
}

export interface DecodedValue {
  readonly answer: UpstreamAnswer;
  /** The record the answer was written in, for the fields {@link encodeAnswer} was given. */
  readonly record: Readonly<Record<string, unknown>>;
}

export function decodeAnswer(text: string): DecodedValue | undefined {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const value = record as Record<string, unknown>;
  if (value.kind === 'ok' && typeof value.bytes === 'number' && 'body' in value) {
    const requestId = typeof value.requestId === 'string' ? value.requestId : undefined;
    return { answer: { kind: 'ok', body: value.body, requestId, bytes: value.bytes }, record: value };
  }
  if (value.kind === 'not-found' && typeof value.upstream === 'object' && value.upstream !== null) {
    return { answer: { kind: 'not-found', upstream: value.upstream }, record: value };
  }
  return undefined;
}
