import { ApigCode, CseCode } from './errors';
import { jsonResponse, type SimResponse } from './response';
import type { ErrorDialect } from './types';

/**
 * Error bodies in every dialect the notes list, for injected faults: the gateway must classify
 * an error from its status and whatever code it can find, whichever dialect carries it.
 */

export function defaultErrorCode(status: number, dialect: ErrorDialect): string {
  const apig = dialect === 'apig';
  switch (status) {
    case 400:
      return CseCode.BAD_PARAMETER;
    case 401:
      return apig ? ApigCode.TOKEN_INVALID : CseCode.UNAUTHORIZED;
    case 403:
      return ApigCode.FORBIDDEN;
    case 404:
      return ApigCode.API_NOT_FOUND;
    case 429:
      return ApigCode.THROTTLED;
    case 502:
    case 503:
      return apig ? ApigCode.BACKEND_UNAVAILABLE : CseCode.BACKEND_UNAVAILABLE;
    case 504:
      return apig ? ApigCode.BACKEND_TIMEOUT : CseCode.BACKEND_UNAVAILABLE;
    default:
      return status >= 500 ? CseCode.INTERNAL : CseCode.BAD_PARAMETER;
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

export function dialectResponse(dialect: ErrorDialect, status: number, code: string, requestId: string): SimResponse {
  const message = `Simulated failure: ${reasonPhrase(status)}`;
  const detail = 'injected by the CSE simulator';
  switch (dialect) {
    case 'cse':
      return jsonResponse(status, { error_code: code, error_msg: message, detail });
    case 'camel':
      return jsonResponse(status, { errorCode: code, errorMessage: message, detail });
    case 'snake_message':
      return jsonResponse(status, { error_code: code, error_message: message });
    case 'code_message':
      return jsonResponse(status, { code, message });
    case 'apig':
      return jsonResponse(status, { error_code: code, error_msg: message, request_id: requestId });
    case 'empty':
      return { status, headers: {}, body: '' };
    case 'html': {
      const title = `${status} ${reasonPhrase(status)}`;
      return {
        status,
        headers: { 'Content-Type': 'text/html' },
        // What an nginx proxy in front of the API sends: no JSON anywhere.
        body: [
          '<html>',
          `<head><title>${title}</title></head>`,
          '<body>',
          `<center><h1>${title}</h1></center>`,
          '<hr><center>nginx</center>',
          '</body>',
          '</html>',
          '',
        ].join('\r\n'),
      };
    }
  }
}
