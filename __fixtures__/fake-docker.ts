/**
 * Puts the fake `docker` (`__fixtures__/fake-docker/docker`) first on PATH for a test and reads
 * back what it was asked to do. See that script for what it answers.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FAKE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fake-docker')

/** One recorded `docker` invocation. */
export interface DockerCall {
  argv: string[]
  /** What came on stdin (read only for `--password-stdin`), else null. */
  stdin: string | null
  /** The environment the command got, without the FAKE_DOCKER_* settings. */
  env: Record<string, string>
  dockerConfig: string | null
  /** The Docker context the call would reach (DOCKER_CONTEXT, else the config's currentContext). */
  context: string
}

/** How the fake behaves (each maps to a FAKE_DOCKER_* variable). */
export interface FakeDockerOptions {
  /** Image labels; `${NAME}` is replaced by the build arg NAME. */
  labels?: Record<string, string>
  /** The only password `login` accepts. */
  password?: string
  noDaemon?: boolean
  buildFail?: boolean
  /** Text `build` writes raw to stdout and stderr (what a RUN step may print). */
  buildOutput?: string
  pushFailOnce?: boolean
  pushFail?: boolean
  /** The digest `push` reports (a loopback registry holds an image of that digest). */
  pushDigest?: string
  /** `--iidfile` gets the config digest, as buildx writes it when the engine reports one. */
  iidConfig?: boolean
  /** The first this many pushes find the tag moved to another build's image, and push that. */
  retagBeforePush?: number
  /** `docker build` is BuildKit's (buildx); the legacy builder otherwise. */
  buildkit?: boolean
  /** The active buildx builder's driver (with `buildkit`); `docker` when unset. */
  buildxDriver?: string
  /** The engine uses the containerd image store. */
  containerdStore?: boolean
}

export interface FakeDocker {
  /** Temp dir holding the record file and its state. */
  dir: string
  /** Every invocation so far, in order. */
  calls(): DockerCall[]
  /** The argv of every invocation so far. */
  argvs(): string[][]
  /** Invocations whose first argument is `command`. */
  callsOf(command: string): DockerCall[]
  /** The images built so far (id as the engine names it, config digest, tags), oldest first. */
  images(): Array<{ id: string; configDigest: string; tags: string[] }>
  /** Restores PATH and the FAKE_DOCKER_* variables and removes the temp dir. */
  restore(): void
}

const SETTINGS = [
  'PATH',
  'FAKE_DOCKER_LOG',
  'FAKE_DOCKER_LABELS',
  'FAKE_DOCKER_PASSWORD',
  'FAKE_DOCKER_NO_DAEMON',
  'FAKE_DOCKER_BUILD_FAIL',
  'FAKE_DOCKER_BUILD_OUTPUT',
  'FAKE_DOCKER_PUSH_FAIL_ONCE',
  'FAKE_DOCKER_PUSH_FAIL',
  'FAKE_DOCKER_PUSH_DIGEST',
  'FAKE_DOCKER_RETAG_BEFORE_PUSH',
  'FAKE_DOCKER_IID_CONFIG',
  'FAKE_DOCKER_BUILDKIT',
  'FAKE_DOCKER_BUILDX_DRIVER',
  'FAKE_DOCKER_CONTAINERD_STORE'
] as const

/** Installs the fake `docker` on PATH (in `process.env`, which child processes inherit). */
export function installFakeDocker(options: FakeDockerOptions = {}): FakeDocker {
  // A checkout may lose the executable bit.
  chmodSync(join(FAKE_DIR, 'docker'), 0o755)
  const saved = new Map(SETTINGS.map((name) => [name, process.env[name]]))
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'))
  const logFile = join(dir, 'calls.jsonl')
  const set = (name: (typeof SETTINGS)[number], value: string | undefined): void => {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  const flag = (on: boolean | undefined): string | undefined => (on ? '1' : undefined)
  set('PATH', `${FAKE_DIR}${delimiter}${process.env['PATH'] ?? ''}`)
  set('FAKE_DOCKER_LOG', logFile)
  set('FAKE_DOCKER_LABELS', options.labels && JSON.stringify(options.labels))
  set('FAKE_DOCKER_PASSWORD', options.password)
  set('FAKE_DOCKER_NO_DAEMON', flag(options.noDaemon))
  set('FAKE_DOCKER_BUILD_FAIL', flag(options.buildFail))
  set('FAKE_DOCKER_BUILD_OUTPUT', options.buildOutput)
  set('FAKE_DOCKER_PUSH_FAIL_ONCE', flag(options.pushFailOnce))
  set('FAKE_DOCKER_PUSH_FAIL', flag(options.pushFail))
  set('FAKE_DOCKER_PUSH_DIGEST', options.pushDigest)
  set('FAKE_DOCKER_RETAG_BEFORE_PUSH', options.retagBeforePush?.toString())
  set('FAKE_DOCKER_IID_CONFIG', flag(options.iidConfig))
  // Left as they are unless asked: some tests set FAKE_DOCKER_BUILDKIT themselves.
  if (options.buildkit !== undefined) set('FAKE_DOCKER_BUILDKIT', flag(options.buildkit))
  set('FAKE_DOCKER_BUILDX_DRIVER', options.buildxDriver)
  set('FAKE_DOCKER_CONTAINERD_STORE', flag(options.containerdStore))

  const calls = (): DockerCall[] =>
    existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as DockerCall)
      : []
  return {
    dir,
    calls,
    argvs: () => calls().map((call) => call.argv),
    callsOf: (command) => calls().filter((call) => call.argv[0] === command),
    images: () =>
      existsSync(`${logFile}.state.json`)
        ? (
            JSON.parse(readFileSync(`${logFile}.state.json`, 'utf8')) as {
              images: Array<{ id: string; configDigest: string; tags: string[] }>
            }
          ).images
        : [],
    restore: () => {
      for (const [name, value] of saved) set(name, value)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
