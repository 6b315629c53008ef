import { request } from 'undici';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** One raw HTTP request (any method, headers, body), for what `Harness.gql` cannot express. */
export async function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers ?? {},
    body: options.body,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A GraphQL POST with the demo token and an arbitrary JSON body (APQ extensions, batches …). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN, ...headers },
    body: JSON.stringify(body),
  });
}
