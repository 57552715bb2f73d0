/**
 * Stand-ins for the tests of src/docker/: a build request for `/repo/service`, the argv a build of
 * it starts with, and the hooks that capture stdout and remove the fake docker after each test.
 */
import { afterEach, beforeEach } from '@jest/globals'
import type { BuildRequest } from '../src/docker/docker.js'
import { captureStdout } from './aws.js'
import { installFakeDocker, type FakeDocker, type FakeDockerOptions } from './fake-docker.js'

/**
 * A build of `/repo/service/Dockerfile` in `/repo/service`, tagged `sparta/hello:b1`, with
 * `buildArgs` (name → value) in their order.
 */
export function buildRequest(
  buildArgs: Record<string, string>,
  overrides: Partial<BuildRequest> = {}
): BuildRequest {
  return {
    dockerfile: '/repo/service/Dockerfile',
    context: '/repo/service',
    localTag: 'sparta/hello:b1',
    buildArgs: Object.entries(buildArgs).map(([key, value]) => ({ key, value })),
    platform: '',
    target: '',
    ...overrides
  }
}

/** The argv of a build of a `buildRequest()` up to its build args. */
export const BUILD_ARGV_START = [
  'build',
  '--tag',
  'sparta/hello:b1',
  '--file',
  '/repo/service/Dockerfile'
]

/** What a docker test file gets from `useDockerTest()`. */
export interface DockerTest {
  /** Installs the fake docker for the running test (removed after it). */
  useFake(options?: FakeDockerOptions): FakeDocker
  /** What the running test wrote to stdout so far, as lines. */
  lines(): string[]
  /** The same, as written (lone CRs included). */
  text(): string
  /** Runs `cleanup` once the running test is over. */
  afterTest(cleanup: () => void): void
}

/**
 * Registers the hooks of a docker test file: stdout captured before each test; after it stdout
 * restored, the fake docker removed and the test's cleanups run. `defaults` are the fake's options
 * under those a test gives.
 */
export function useDockerTest(defaults: FakeDockerOptions = {}): DockerTest {
  let stdout: ReturnType<typeof captureStdout> | undefined
  let fake: FakeDocker | undefined
  const cleanups: Array<() => void> = []
  beforeEach(() => {
    stdout = captureStdout()
  })
  afterEach(() => {
    stdout?.restore()
    fake?.restore()
    fake = undefined
    for (const cleanup of cleanups.splice(0)) cleanup()
  })
  return {
    useFake: (options = {}) => (fake = installFakeDocker({ ...defaults, ...options })),
    lines: () => stdout?.lines() ?? [],
    text: () => stdout?.text() ?? '',
    afterTest: (cleanup) => {
      cleanups.push(cleanup)
    }
  }
}
