import { HeaderMap } from '@apollo/server';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import { PROJECT_ID_PATTERN } from '../config/loadConfig';
import type { HeaderLookup } from '../observability/traceHeaders';
import type { Credentials } from '../upstream/credentials';

/** What credentialsFromHeaders reads: equal headers, equal credentials. */
export const IDENTITY_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'x-enterprise-project-id'] as const;

/** IAM tokens are 10 to 32,768 characters. */
const TOKEN = /^[\x21-\x7e]{10,32768}$/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const ID_PROBLEM = 'must be 1 to 64 letters, digits, "_" or "-"';

/** `X-Auth-Token`, else `Authorization: Bearer` (OAuth-style clients). Throws UNAUTHENTICATED (401)
 * without a usable token and BAD_USER_INPUT for a malformed project header, before any upstream call. */
export function credentialsFromHeaders(header: HeaderLookup, defaultProjectId: string | undefined): Credentials {
  const token = tokenFrom(header);
  const projectHeader = header('x-project-id')?.trim();
  const projectId = projectHeader === undefined || projectHeader === '' ? defaultProjectId : projectHeader;
  if (projectId === undefined) {
    throw badHeader('X-Project-Id', 'is required: this gateway has no default project (CSE_PROJECT_ID)');
  }
  if (!PROJECT_ID_PATTERN.test(projectId)) throw badHeader('X-Project-Id', ID_PROBLEM);
  const eps = header('x-enterprise-project-id')?.trim();
  if (eps !== undefined && eps !== '' && !PROJECT_ID_PATTERN.test(eps)) throw badHeader('X-Enterprise-Project-ID', ID_PROBLEM);
  return Object.freeze({ token, projectId, enterpriseProjectId: eps === '' ? undefined : eps });
}

function tokenFrom(header: HeaderLookup): string {
  const direct = header('x-auth-token')?.trim();
  if (direct !== undefined && direct !== '') return checkedToken(direct);
  const authorization = header('authorization');
  if (authorization !== undefined && authorization.trim() !== '') {
    const bearer = BEARER.exec(authorization);
    if (bearer?.[1] === undefined) throw unauthenticated('The Authorization header must be "Bearer <token>".');
    return checkedToken(bearer[1]);
  }
  throw unauthenticated('A token is required: send it in the X-Auth-Token header.');
}

function checkedToken(token: string): string {
  if (TOKEN.test(token)) return token;
  throw unauthenticated('The token is malformed.');
}

// RFC 9110 15.5.2: a 401 names how to authenticate; the token may come as `Authorization: Bearer`.
const CHALLENGE = new HeaderMap([['www-authenticate', 'Bearer realm="cse-jobs-gateway"']]);

const unauthenticated = (message: string) =>
  new GatewayError(ErrorCode.UNAUTHENTICATED, message, { details: { http: { status: 401, headers: CHALLENGE } } });

function badHeader(name: string, problem: string): GatewayError {
  return new GatewayError(ErrorCode.BAD_USER_INPUT, `The ${name} header ${problem}.`, { details: { header: name, http: { status: 400 } } });
}
