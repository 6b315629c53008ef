import { ConfigError, loadConfig } from '../../src/config/loadConfig';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: undefined,
      cseEndpoint: undefined,
      cseProjectId: undefined,
      csePageBase: 1,
      cseMaxPageSize: 100,
      cseRequestConcurrency: 8,
      nodeEnv: 'development',
      logLevel: 'info',
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it.each([
    [{ PORT: '8080' }, { port: 8080 }],
    [{ CSE_ENDPOINT: 'https://cse.example.com/' }, { cseEndpoint: 'https://cse.example.com' }],
    [{ CSE_ENDPOINT: 'http://127.0.0.1:9000/prefix' }, { cseEndpoint: 'http://127.0.0.1:9000/prefix' }],
    [{ CSE_PROJECT_ID: '0605767ecb00d4b12f2bc00d3a5b1a83' }, { cseProjectId: '0605767ecb00d4b12f2bc00d3a5b1a83' }],
    [{ CSE_PAGE_BASE: '0' }, { csePageBase: 0 }],
    [{ CSE_MAX_PAGE_SIZE: '50' }, { cseMaxPageSize: 50 }],
    [{ NODE_ENV: 'production' }, { nodeEnv: 'production', logLevel: 'info' }],
    [{ NODE_ENV: 'test' }, { nodeEnv: 'test', logLevel: 'silent' }],
    [{ LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    [{ PORT: '  ' }, { port: 4000 }],
  ])('reads %j', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['CSE_ENDPOINT', 'not a url'],
    ['CSE_ENDPOINT', 'ftp://cse.example.com'],
    ['CSE_ENDPOINT', 'https://user:secret@cse.example.com'],
    ['CSE_ENDPOINT', 'https://cse.example.com/?x=1'],
    ['CSE_PROJECT_ID', 'a/b'],
    ['CSE_PROJECT_ID', 'x'.repeat(65)],
    ['CSE_PAGE_BASE', '2'],
    ['CSE_MAX_PAGE_SIZE', '0'],
    ['CSE_MAX_PAGE_SIZE', '1.5'],
    ['CSE_REQUEST_CONCURRENCY', '0'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%j, naming the variable and the value', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
    expect(() => loadConfig({ [name]: value })).toThrow(JSON.stringify(value));
  });
});
