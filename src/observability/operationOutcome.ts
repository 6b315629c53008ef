import type { OperationOutcome } from './metrics';

export interface OperationEnd {
  /** The caller went away (or shutdown cut the connection) before the response was complete. */
  readonly aborted: boolean;
  /** Errors reported for the request: field errors, request errors, or a refused context. */
  readonly errorCount: number;
  /** Whether the response carried `data` (partial data is normal with field errors). */
  readonly hasData: boolean;
  /** The HTTP status sent. */
  readonly httpStatus: number;
}

/**
 * success: no error. partial: data with field errors. error: no data (a refused or invalid
 * request, or every field failed), or an HTTP error without a GraphQL error (413, bad JSON).
 * aborted: the response never reached the caller, whatever it would have been.
 */
export function operationOutcome(end: OperationEnd): OperationOutcome {
  if (end.aborted) return 'aborted';
  if (end.errorCount > 0) return end.hasData ? 'partial' : 'error';
  return end.httpStatus >= 400 ? 'error' : 'success';
}
