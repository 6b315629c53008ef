import type { TokenGrant } from './types';

/** Fixed credentials so that tests, the demo and benchmarks can hard-code them. */

export const DEMO_TOKEN = 'cse-demo-token-0000000000000001';
export const SECOND_TOKEN = 'cse-demo-token-0000000000000002';
export const OTHER_TOKEN = 'cse-other-token-000000000000003';

export const DEMO_PROJECT_ID = '0605767ecb00d4b12f2bc00d3a5b1a83';
export const OTHER_PROJECT_ID = '9d1c0c1f5e3a4b6c8d7e6f5a4b3c2d1e';

export function defaultTokens(): Record<string, TokenGrant> {
  return {
    [DEMO_TOKEN]: { projects: [DEMO_PROJECT_ID] },
    [SECOND_TOKEN]: { projects: [DEMO_PROJECT_ID] },
    [OTHER_TOKEN]: { projects: [OTHER_PROJECT_ID] },
  };
}
