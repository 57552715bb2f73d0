import { describe, expect, it, jest, test } from '@jest/globals'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUILD_ARGV_START, buildRequest, useDockerTest } from '../../__fixtures__/docker.js'
import {
  buildArgv,
  buildImage,
  checkDockerEngine,
  createDockerConfig,
  inspectImage,
  login,
  pushImage,
  tagImage,
  type DockerConfig
} from '../../src/docker/docker.js'
import { execRunner } from '../../src/docker/runner.js'
import { DeployError } from '../../src/base/errors.js'
import { HOSTILE, HOSTILE_ROWS, injectedCommands } from '../../__fixtures__/untrusted.js'

const REGISTRY = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const PASSWORD = 'ecr-password-7c41d0b2'

const request = buildRequest({
  AWS_ACCOUNT_ID: '123456789012',
  AWS_REGION: 'eu-west-2',
  SPARTA_BINARY: 'bootstrap',
  SPARTA_ECR_LABEL_NAME: 'io.sparta.ecr-name',
  SPARTA_BUILD_ID: 'b1'
})

const { useFake, lines: stdoutLines, text: stdoutText, afterTest } = useDockerTest()

function dockerConfig(): DockerConfig {
  const config = createDockerConfig()
  afterTest(() => config.dispose())
  return config
}

/** Builds `sparta/hello:b1` in the fake and tags it for the registry. */
async function builtAndTagged(reference: string): Promise<void> {
  await buildImage(execRunner, request)
  await tagImage(execRunner, request.localTag, reference)
}

describe('buildArgv', () => {
  it("puts Sparta's five build args first, then the extra ones, and the context last", () => {
    const argv = buildArgv(
      {
        ...request,
        buildArgs: [...request.buildArgs, { key: 'GOFLAGS', value: '-mod=vendor x=y' }],
        platform: 'linux/arm64',
        target: 'runtime'
      },
      '/tmp/b/iid'
    )
    expect(argv).toEqual([
      ...BUILD_ARGV_START,
      '--build-arg',
      'AWS_ACCOUNT_ID=123456789012',
      '--build-arg',
      'AWS_REGION=eu-west-2',
      '--build-arg',
      'SPARTA_BINARY=bootstrap',
      '--build-arg',
      'SPARTA_ECR_LABEL_NAME=io.sparta.ecr-name',
      '--build-arg',
      'SPARTA_BUILD_ID=b1',
      '--build-arg',
      'GOFLAGS=-mod=vendor x=y',
      '--platform',
      'linux/arm64',
      '--target',
      'runtime',
      '--iidfile',
      '/tmp/b/iid',
      '/repo/service'
    ])
  })

  it('leaves out --platform and --target when they are not given', () => {
    const argv = buildArgv(request, '/tmp/b/iid')
    expect(argv).not.toContain('--platform')
    expect(argv).not.toContain('--target')
    expect(argv.slice(-3)).toEqual(['--iidfile', '/tmp/b/iid', '/repo/service'])
  })
})

describe('buildImage', () => {
  it('builds through the docker CLI and reads the id, labels and platform of the image', async () => {
    const docker = useFake({ labels: { '${SPARTA_ECR_LABEL_NAME}': 'hello:${SPARTA_BUILD_ID}' } })
    const built = await buildImage(execRunner, request)

    const [build, inspect] = docker.calls()
    expect(build?.argv).toEqual(buildArgv(request, build?.argv.at(-2) ?? ''))
    const iidFile = build?.argv.at(-2) ?? ''
    expect(iidFile).toMatch(/oci-stack-deploy-build-.+\/iid$/)
    expect(existsSync(iidFile)).toBe(false)
    expect(built.imageId).toMatch(/^sha256:[a-f0-9]{64}$/)
    // By the id the build wrote, not the tag another build beside it may move.
    expect(inspect?.argv).toEqual(['image', 'inspect', built.imageId])
    expect(built).toEqual({
      localTag: 'sparta/hello:b1',
      imageId: built.imageId,
      // The legacy builder on the classic store: the image id is the config digest.
      configDigest: built.imageId,
      labels: { 'io.sparta.ecr-name': 'hello:b1' },
      architecture: 'amd64',
      os: 'linux'
    })
  })

  it('reads the image by its tag when the id the build wrote names no image', async () => {
    const docker = useFake({ buildkit: true, containerdStore: true, iidConfig: true })
    const built = await buildImage(execRunner, request)

    const inspects = docker.callsOf('image').map((c) => c.argv)
    expect(inspects).toEqual([
      ['image', 'inspect', built.configDigest],
      ['image', 'inspect', 'sparta/hello:b1']
    ])
    expect(built.imageId).toBe(docker.images()[0]?.id)
    expect(built.imageId).not.toBe(built.configDigest)
  })

  it("streams the build output and does not treat the legacy builder's warning as failure", async () => {
    useFake()
    await expect(buildImage(execRunner, request)).resolves.toMatchObject({ labels: {} })
    const log = stdoutLines().join('\n')
    expect(log).toContain('Successfully tagged sparta/hello:b1')
    expect(log).toContain('DEPRECATED: The legacy builder is deprecated')
  })

  it('fails with the exit code and the end of stderr when the build fails', async () => {
    useFake({ buildFail: true })
    const error = await buildImage(execRunner, request).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeployError)
    expect((error as Error).message).toBe(
      'docker build failed (exit code 1): ERROR: failed to solve: failed to compute cache key: "/bootstrap": not found\n' +
        'COPY failed: file not found in build context or excluded by .dockerignore: stat bootstrap: file does not exist'
    )
  })
})

describe('inspectImage', () => {
  it('says which image docker could not find', async () => {
    useFake()
    await expect(inspectImage(execRunner, 'sparta/none:b1')).rejects.toThrow(
      'docker image inspect sparta/none:b1 failed (exit code 1): Error response from daemon: No such image: sparta/none:b1'
    )
  })
})

describe('login', () => {
  it('sends the password on stdin only and logs in inside the private DOCKER_CONFIG', async () => {
    const docker = useFake({ password: PASSWORD })
    const config = dockerConfig()
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })

    const [call] = docker.calls()
    expect(call?.argv).toEqual(['login', '--username', 'AWS', '--password-stdin', REGISTRY])
    expect(call?.stdin).toBe(PASSWORD)
    expect(call?.dockerConfig).toBe(config.env['DOCKER_CONFIG'])
    expect(Object.values(call?.env ?? {}).filter((value) => value.includes(PASSWORD))).toEqual([])
    expect(existsSync(join(config.env['DOCKER_CONFIG'] ?? '', 'config.json'))).toBe(true)
    expect(stdoutLines().join('\n')).not.toContain(PASSWORD)
  })

  it("fails with docker's answer when the registry refuses the password", async () => {
    useFake({ password: PASSWORD })
    await expect(
      login(execRunner, dockerConfig(), { registry: REGISTRY, username: 'AWS', password: 'wrong' })
    ).rejects.toThrow(
      `docker login ${REGISTRY} failed (exit code 1): Error response from daemon: Get "https://${REGISTRY}/v2/": unauthorized: authentication required`
    )
  })
})

describe('pushImage', () => {
  const reference = `${REGISTRY}/hello:b1`

  it('pushes with the private DOCKER_CONFIG and returns the digest the push printed, with no inspect', async () => {
    const docker = useFake({ password: PASSWORD })
    const config = dockerConfig()
    await builtAndTagged(reference)
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })
    const reauthenticate = jest.fn(async () => {})

    const digest = await pushImage(execRunner, config, reference, reauthenticate)

    expect(reauthenticate).not.toHaveBeenCalled()
    const pushes = docker.callsOf('push')
    expect(pushes.map((call) => call.argv)).toEqual([['push', reference]])
    expect(pushes[0]?.dockerConfig).toBe(config.env['DOCKER_CONFIG'])
    expect(docker.calls().at(-1)?.argv[0]).toBe('push')
    const inspected = await inspectImage(execRunner, reference)
    expect(inspected.repoDigests).toEqual([`${REGISTRY}/hello@${digest}`])
    expect(stdoutLines().join('\n')).toContain(`b1: digest: ${digest} size: 528`)
  })

  it('logs in again and pushes once more when the first push is refused', async () => {
    const docker = useFake({ password: PASSWORD, pushFailOnce: true })
    const config = dockerConfig()
    await builtAndTagged(reference)
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })
    const reauthenticate = jest.fn(() =>
      login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })
    )

    const digest = await pushImage(execRunner, config, reference, reauthenticate)

    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(reauthenticate).toHaveBeenCalledTimes(1)
    expect(docker.calls().map((call) => call.argv[0])).toEqual([
      'build',
      'image',
      'tag',
      'login',
      'push',
      'login',
      'push'
    ])
    expect(stdoutLines().join('\n')).toContain(
      `::warning::docker push ${reference} failed (denied: Your authorization token has expired. Reauthenticate and try again.); logging in again and retrying once.`
    )
  })

  it('needs the reauthentication: a push without a login succeeds only after it', async () => {
    const docker = useFake({ password: PASSWORD })
    const config = dockerConfig()
    await builtAndTagged(reference)
    const reauthenticate = jest.fn(() =>
      login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })
    )

    await expect(pushImage(execRunner, config, reference, reauthenticate)).resolves.toMatch(
      /^sha256:/
    )
    expect(docker.callsOf('push')).toHaveLength(2)
    expect(stdoutLines().join('\n')).toContain(
      'failed (no basic auth credentials); logging in again'
    )
  })

  it('fails after one retry when the push keeps failing', async () => {
    const docker = useFake({ pushFail: true })
    const config = dockerConfig()
    await builtAndTagged(reference)
    const reauthenticate = jest.fn(async () => {})

    await expect(pushImage(execRunner, config, reference, reauthenticate)).rejects.toThrow(
      `docker push ${reference} failed (exit code 1): denied: Your authorization token has expired. Reauthenticate and try again.`
    )
    expect(reauthenticate).toHaveBeenCalledTimes(1)
    expect(docker.callsOf('push')).toHaveLength(2)
  })
})

describe('checkDockerEngine', () => {
  it('returns the engine version', async () => {
    const docker = useFake()
    await expect(checkDockerEngine(execRunner)).resolves.toBe('27.3.1')
    expect(docker.argvs()).toEqual([['version', '--format', '{{.Server.Version}}']])
  })

  it('says the engine is not running when the CLI cannot reach it', async () => {
    useFake({ noDaemon: true })
    await expect(checkDockerEngine(execRunner)).rejects.toThrow(
      'The Docker engine is not running or not reachable (docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start the daemon, or check DOCKER_HOST.'
    )
  })

  it('says docker is not installed when it is not on PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-docker-'))
    const path = process.env['PATH']
    process.env['PATH'] = empty
    try {
      const error = await checkDockerEngine(execRunner).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DeployError)
      expect((error as Error).message).toBe(
        "'docker' is not installed or not on PATH: this action needs the docker CLI and a running Docker engine (GitHub's ubuntu runners have both)."
      )
    } finally {
      process.env['PATH'] = path
      rmSync(empty, { recursive: true, force: true })
    }
  })
})

describe('createDockerConfig', () => {
  it('makes a directory only the runner user can read, and dispose removes it with the login', async () => {
    useFake({ password: PASSWORD })
    const config = createDockerConfig()
    const dir = config.env['DOCKER_CONFIG'] ?? ''
    expect(statSync(dir).isDirectory()).toBe(true)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: PASSWORD })
    expect(existsSync(join(dir, 'config.json'))).toBe(true)

    config.dispose()

    expect(existsSync(dir)).toBe(false)
  })
})

describe('execRunner with hostile text (the real @actions/exec path)', () => {
  // A child that echoes its argument and prints hostile lines on both streams, ended by LF, CR and CRLF.
  const SCRIPT = [
    "process.stdout.write(process.argv[1] + '\\n')",
    "process.stdout.write('out\\r::warning::PWNED\\r\\n  ::error::PWNED\\n')",
    "process.stderr.write('err\\n::stop-commands::token\\n##[warning]PWNED')"
  ].join(';')

  it('prints its own command line and every output line, none able to start a workflow command', async () => {
    const result = await execRunner(process.execPath, ['-e', SCRIPT, HOSTILE['lf'] ?? ''])

    expect(result.exitCode).toBe(0)
    // The caller still reads the output as the child wrote it.
    expect(result.stdout).toBe('app\n::warning::PWNED\nout\r::warning::PWNED\r\n  ::error::PWNED\n')
    expect(injectedCommands(stdoutText())).toEqual([])
    const lines = stdoutLines()
    expect(lines.filter((line) => line.startsWith('[command]'))).toEqual([
      `[command]${process.execPath} -e ${SCRIPT.replace('##[', '##\\[')} app␊::warning::PWNED`
    ])
    expect(lines).toEqual(
      expect.arrayContaining([
        'app',
        '\\::warning::PWNED',
        'out␍::warning::PWNED',
        '  \\::error::PWNED',
        '\\::stop-commands::token',
        '##\\[warning]PWNED'
      ])
    )
  })

  test.each(HOSTILE_ROWS)(
    'docker build with a %s target (past the input checks) prints no workflow command',
    async (_name, hostile) => {
      useFake({
        labels: { '${SPARTA_ECR_LABEL_NAME}': 'hello:${SPARTA_BUILD_ID}' },
        buildOutput: `Step 1/1 : RUN echo\n${hostile}\n`
      })
      await buildImage(execRunner, { ...request, target: hostile })

      expect(injectedCommands(stdoutText())).toEqual([])
      expect(stdoutLines().filter((line) => line.startsWith('[command]docker build'))).toHaveLength(
        1
      )
    }
  )

  it('prints nothing of a silent command', async () => {
    const result = await execRunner(process.execPath, ['-e', SCRIPT, 'x'], { silent: true })

    expect(result.stdout).toContain('::warning::PWNED')
    expect(stdoutLines().filter((line) => !line.startsWith('::debug::'))).toEqual([])
  })
})
