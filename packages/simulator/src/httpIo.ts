import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimResponse } from './response';

/** Admin bodies are tiny; anything larger is a misuse, not a reason to hold memory. */
const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('admin request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // A request cut off before its end must not leave the handler waiting forever.
    req.on('close', () => {
      if (!req.complete) reject(new Error('admin request aborted'));
    });
  });
}

/**
 * Writes a response with the headers every upstream answer carries. Content-Length is always
 * exact, including for a deliberately malformed body: the body is wrong, not the framing.
 */
export function send(res: ServerResponse, requestId: string, response: SimResponse): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, { 'X-Request-Id': requestId, ...response.headers, 'Content-Length': String(body.length) });
  res.end(body);
}

/** Splits a request target without normalising it: `..` and `//` must reach the router as sent. */
export function splitTarget(target: string): { pathname: string; search: string } {
  const mark = target.indexOf('?');
  return mark === -1 ? { pathname: target, search: '' } : { pathname: target.slice(0, mark), search: target.slice(mark + 1) };
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
