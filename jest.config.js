/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The container image's test builds images for minutes: `npm run test:image`, a step of .ci/run of its own.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/image/'],
  // Type errors are caught once by `npm run typecheck` (the pretest step); here ts-jest only
  // transpiles, which keeps the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 20000,
};
