const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The gateway's tests and the simulator package's.
  roots: ['<rootDir>/test', '<rootDir>/packages/simulator/test'],
  testMatch: ['**/*.test.ts'],
  // Run as steps of .ci/run of their own: the container image's test builds images for minutes
  // (`npm run test:image`), and the benchmark harness's drives every benchmark CLI under load
  // (`npm run test:bench`).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/image/', '<rootDir>/test/bench\\.test\\.ts$'],
  // Type errors are caught once by `npm run typecheck` (the pretest step): tsconfig.json's
  // isolatedModules makes ts-jest transpile each file on its own, without a type check.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // In-process tests run the simulator from its sources; gateways built by a test load its build,
  // which the global setup brings up to date.
  moduleNameMapper: { '^@cse-jobs-gateway/simulator$': '<rootDir>/packages/simulator/src/index.ts' },
  globalSetup: '<rootDir>/test/support/buildSimulator.ts',
  // Most suites wait on sockets, timers and child processes rather than the CPU, so one worker
  // more than the cores keeps them busy (jest's default, one fewer, runs one on two cores); more
  // would starve the suites that assert timings and throughput.
  maxWorkers: availableParallelism() + 1,
  testSequencer: '<rootDir>/test/support/testSequencer.js',
  testTimeout: 20000,
};
