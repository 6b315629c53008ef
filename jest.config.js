/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The gateway's tests and the simulator package's.
  roots: ['<rootDir>/test', '<rootDir>/packages/simulator/test'],
  testMatch: ['**/*.test.ts'],
  // The container image's test builds images for minutes: `npm run test:image`, a step of .ci/run of its own.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/image/'],
  // Type errors are caught once by `npm run typecheck` (the pretest step); here ts-jest only
  // transpiles, which keeps the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // In-process tests run the simulator from its sources; gateways built by a test load its build,
  // which the global setup brings up to date.
  moduleNameMapper: { '^@cse-jobs-gateway/simulator$': '<rootDir>/packages/simulator/src/index.ts' },
  globalSetup: '<rootDir>/test/support/buildSimulator.ts',
  testTimeout: 20000,
};
