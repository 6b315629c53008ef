import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../src/errors/GatewayError';
import type { ContextServices } from '../../src/graphql/context';
import { credentialsFromHeaders } from '../../src/http/identity';
import { createRequestContextFactory } from '../../src/http/requestContext';

const TOKEN = 'MIIDtoken-0123456789';
const lookup = (headers: Record<string, string>) => (name: string) => headers[name];

describe('credentialsFromHeaders', () => {
  it.each([
    [{ 'x-auth-token': TOKEN }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: undefined }],
    [{ authorization: `Bearer ${TOKEN}` }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: undefined }],
    [{ authorization: `bearer   ${TOKEN}` }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: undefined }],
    [{ 'x-auth-token': TOKEN, authorization: 'Bearer other-token-123456' }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: undefined }],
    [{ 'x-auth-token': TOKEN, 'x-project-id': 'p2' }, { token: TOKEN, projectId: 'p2', enterpriseProjectId: undefined }],
    [{ 'x-auth-token': TOKEN, 'x-enterprise-project-id': '0' }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: '0' }],
    [{ 'x-auth-token': TOKEN, 'x-enterprise-project-id': '' }, { token: TOKEN, projectId: 'default-project', enterpriseProjectId: undefined }],
  ])('reads %j', (headers, expected) => {
    expect(credentialsFromHeaders(lookup(headers), 'default-project')).toEqual(expected);
  });

  it.each([
    [{}, 'UNAUTHENTICATED'],
    [{ 'x-auth-token': '' }, 'UNAUTHENTICATED'],
    [{ 'x-auth-token': 'short' }, 'UNAUTHENTICATED'],
    [{ 'x-auth-token': 'has space in it 0123' }, 'UNAUTHENTICATED'],
    [{ 'x-auth-token': 'x'.repeat(32769) }, 'UNAUTHENTICATED'],
    [{ authorization: 'Basic abcdefghijklmnop' }, 'UNAUTHENTICATED'],
    [{ authorization: 'Bearer' }, 'UNAUTHENTICATED'],
    [{ 'x-auth-token': TOKEN, 'x-project-id': 'a/b' }, 'BAD_USER_INPUT'],
    [{ 'x-auth-token': TOKEN, 'x-enterprise-project-id': 'x y' }, 'BAD_USER_INPUT'],
  ])('refuses %j with %s', (headers, code) => {
    let caught: unknown;
    try {
      credentialsFromHeaders(lookup(headers as Record<string, string>), 'default-project');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe(code);
    // The message never repeats what the caller sent.
    expect((caught as GatewayError).message).not.toContain('abcdefghijklmnop');
  });

  it('requires X-Project-Id when there is no default project', () => {
    expect(() => credentialsFromHeaders(lookup({ 'x-auth-token': TOKEN }), undefined)).toThrow('X-Project-Id');
  });
});

describe('credentialsOf on one keep-alive connection', () => {
  const { credentialsOf } = createRequestContextFactory({} as ContextServices, 'default-project');
  const socket = {};
  const request = (headers: Record<string, string>, on: object = socket) =>
    ({ headers, socket: on }) as unknown as IncomingMessage;

  it('reuses the connection’s credentials only while every identity header is the same', () => {
    const first = credentialsOf(request({ 'x-auth-token': TOKEN }));
    expect(credentialsOf(request({ 'x-auth-token': TOKEN }))).toBe(first);
    const other = credentialsOf(request({ 'x-auth-token': `${TOKEN}-other` }));
    expect(other.token).toBe(`${TOKEN}-other`);
    expect(credentialsOf(request({ 'x-auth-token': `${TOKEN}-other`, 'x-project-id': 'p2' })).projectId).toBe('p2');
    expect(credentialsOf(request({ 'x-auth-token': TOKEN, authorization: 'Bearer other-token-123456' })).token).toBe(TOKEN);
    expect(credentialsOf(request({ 'x-auth-token': TOKEN }, {}))).not.toBe(first);
  });

  it('refuses a malformed token sent after a good one on the same connection', () => {
    credentialsOf(request({ 'x-auth-token': TOKEN }));
    expect(() => credentialsOf(request({ 'x-auth-token': 'short' }))).toThrow(GatewayError);
    expect(() => credentialsOf(request({ 'x-auth-token': 'short' }))).toThrow(GatewayError);
  });
});
