// ESM throughout: @actions/* 3.x are ESM-only, so tests run under
// `node --experimental-vm-modules` and ts-jest emits ES modules.
const shared = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Its "import" build is ES syntax in a package without "type": "module", which
    // Jest 29 would load as CommonJS; the CommonJS build imports cleanly.
    '^aws-sdk-client-mock-jest$': '<rootDir>/node_modules/aws-sdk-client-mock-jest/dist/cjs/jest.js'
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  }
}

/** @type {import('jest').Config} */
export default {
  verbose: false,
  // The run() tests start the fake docker and real child processes; on a loaded 2-core machine they
  // can take longer than Jest's 5 s default without anything being wrong.
  testTimeout: 30000,
  collectCoverageFrom: ['src/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/integration/']
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/integration/*.test.ts']
    }
  ]
}
