import { jsonResponse, SimFailure, type SimResponse } from './response';

/** The codes the simulated upstream answers with, as listed in the shared API notes. */
export const CseCode = {
  ENGINE_NOT_FOUND: 'SVCSTG.00501116',
  ENGINE_GONE: 'SVCSTG.00501125',
  MALFORMED_JOB_ID: 'SVCSTG.00501152',
  JOB_NOT_FOUND: 'SVCSTG.00501153',
  BAD_PARAMETER: 'SVCSTG.00500400',
  UNAUTHORIZED: 'SVCSTG.00300401',
  INTERNAL: 'SVCSTG.00300500',
  BACKEND_UNAVAILABLE: 'SVCSTG.00300501',
} as const;

/** Codes of the API gateway in front of CSE, which answers auth failures itself. */
export const ApigCode = {
  TOKEN_INVALID: 'APIG.0301',
  TOKEN_MUST_BE_RENEWED: 'APIGW.0307',
  FORBIDDEN: 'APIG.0302',
  API_NOT_FOUND: 'APIG.0101',
  THROTTLED: 'APIG.0308',
  BACKEND_UNAVAILABLE: 'APIG.0201',
  BACKEND_TIMEOUT: 'APIG.0202',
} as const;

/** CSE's own error body. "Not found" is HTTP 400 with a code, never 404: the upstream does it so. */
export function cseError(code: string, message: string, detail: string, status = 400): SimResponse {
  return jsonResponse(status, { error_code: code, error_msg: message, detail });
}

export function apigError(status: number, code: string, message: string, requestId: string): SimResponse {
  return jsonResponse(status, { error_code: code, error_msg: message, request_id: requestId });
}

export function badParameter(name: string, value: string, expected: string): SimFailure {
  const message = ['offset', 'limit'].includes(name) ? `Invalid paging parameter ${name}` : `Invalid parameter ${name}`;
  return new SimFailure(cseError(CseCode.BAD_PARAMETER, message, `${name}=${JSON.stringify(value)}: ${expected}`));
}
