import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

/** What the dashboard tells a person per code: the advice of docs/errors.md, shortened. */
export const ADVICE: Readonly<Record<string, string>> = {
  UNAUTHENTICATED: 'The token was refused. Sign in again or paste a valid token.',
  FORBIDDEN: 'This token may not see this project.',
  BAD_USER_INPUT: 'The request was refused; start the list again.',
  RATE_LIMITED: 'The service is busy; retry in a moment.',
  UPSTREAM_ERROR: 'CSE answered with an error; a retry later may help.',
  UPSTREAM_UNAVAILABLE: 'CSE is unavailable right now; retry with backoff.',
  UPSTREAM_TIMEOUT: 'CSE is taking longer than usual; retry with backoff.',
  UPSTREAM_BAD_RESPONSE: 'CSE answered something unreadable; report it.',
  QUERY_TOO_COMPLEX: 'That asks too much of CSE at once: choose a smaller page.',
  TOO_MANY_SUBSCRIPTIONS: 'Too many live views are open; close one.',
};

export interface ShownError {
  code: string;
  message: string;
  /** The field that failed, e.g. `engines.nodes.3.latestJob`; absent for a whole-request refusal. */
  path?: string;
}

/**
 * The gateway's errors from what Apollo Client reports. A GraphQL answer's errors (partial data
 * included, and the 4xx answers sent as `application/graphql-response+json`) are
 * CombinedGraphQLErrors; a refusal sent as plain `application/json` with a 4xx status is a
 * ServerError whose body still holds the GraphQL errors.
 */
export function shownErrors(error: unknown): ShownError[] {
  if (error === undefined || error === null) return [];
  let errors: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }> = [];
  if (CombinedGraphQLErrors.is(error)) errors = error.errors;
  else if (ServerError.is(error)) errors = bodyErrors(error.bodyText);
  if (errors.length === 0) return [{ code: 'NETWORK', message: error instanceof Error ? error.message : String(error) }];
  return errors.map((entry) => ({
    code: typeof entry.extensions?.code === 'string' ? entry.extensions.code : 'UNKNOWN',
    message: entry.message,
    ...(entry.path === undefined ? {} : { path: entry.path.join('.') }),
  }));
}

function bodyErrors(text: string): Array<{ message: string; extensions?: Record<string, unknown> }> {
  try {
    const body = JSON.parse(text) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
    return Array.isArray(body.errors) ? body.errors : [];
  } catch {
    return [];
  }
}
