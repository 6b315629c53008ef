import { apigError, ApigCode } from './errors';
import type { SimResponse } from './response';
import type { TokenGrant } from './types';

/**
 * Auth as the cloud API gateway in front of CSE does it: the token is checked before the request
 * reaches CSE, so auth failures carry the gateway's codes and a request_id, not CSE's codes.
 */

export type TokenCheck = { ok: true; grant: TokenGrant } | { ok: false; response: SimResponse };

export function checkToken(token: string | undefined, tokens: Readonly<Record<string, TokenGrant>>, requestId: string): TokenCheck {
  if (token === undefined || token === '') {
    return deny(401, ApigCode.TOKEN_INVALID, 'Incorrect IAM authentication information: x-auth-token not found', requestId);
  }
  const grant = Object.hasOwn(tokens, token) ? tokens[token] : undefined;
  if (!grant) {
    return deny(401, ApigCode.TOKEN_INVALID, 'Incorrect IAM authentication information: decrypt token fail', requestId);
  }
  if (grant.expired === true) {
    return deny(401, ApigCode.TOKEN_MUST_BE_RENEWED, 'The token must be updated.', requestId);
  }
  return { ok: true, grant };
}

export function checkProject(grant: TokenGrant, projectId: string, requestId: string): SimResponse | undefined {
  if (grant.projects.includes(projectId)) return undefined;
  return apigError(403, ApigCode.FORBIDDEN, 'The IAM user is not authorized to access the API.', requestId);
}

function deny(status: number, code: string, message: string, requestId: string): TokenCheck {
  return { ok: false, response: apigError(status, code, message, requestId) };
}
