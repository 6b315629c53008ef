import { toJson } from './json';

/** An answer before it is written: handlers stay pure and the server adds the common headers. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_CONTENT_TYPE = 'application/json';

export function jsonResponse(status: number, value: unknown): SimResponse {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: toJson(value) };
}

export function emptyResponse(status: number): SimResponse {
  return { status, headers: {}, body: '' };
}

/** Thrown by request parsing and lookups deep in a handler; the dispatcher sends its response. */
export class SimFailure extends Error {
  constructor(readonly response: SimResponse) {
    super(`simulated failure ${response.status}`);
  }
}
