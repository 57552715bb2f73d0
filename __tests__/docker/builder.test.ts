import { describe, expect, it } from '@jest/globals'
import { BUILD_ARGV_START, buildRequest, useDockerTest } from '../../__fixtures__/docker.js'
import type { FakeDocker } from '../../__fixtures__/fake-docker.js'
import { buildArgv, buildImage, type BuildRequest } from '../../src/docker/docker.js'
import { execRunner, type Runner } from '../../src/docker/runner.js'
import { supportsAttestationFlags } from '../../src/docker/builder.js'
import { DeployError } from '../../src/base/errors.js'

const request = buildRequest({ AWS_ACCOUNT_ID: '123456789012', SPARTA_BUILD_ID: 'b1' })
/** The argv of a build of `request` up to the options that follow the build args. */
const ARGV_TO_BUILD_ARGS = [
  ...BUILD_ARGV_START,
  '--build-arg',
  'AWS_ACCOUNT_ID=123456789012',
  '--build-arg',
  'SPARTA_BUILD_ID=b1'
]

const { useFake: installFake, lines: stdoutLines } = useDockerTest({
  labels: { 'io.sparta.ecr-name': 'hello' }
})

/** The fake docker, as BuildKit (buildx) or as the legacy builder. */
function useFake(builder: 'buildkit' | 'legacy'): FakeDocker {
  return installFake({ buildkit: builder === 'buildkit' })
}

describe('supportsAttestationFlags', () => {
  it('is true when docker build is BuildKit and lists --provenance and --sbom', async () => {
    const docker = useFake('buildkit')
    await expect(supportsAttestationFlags(execRunner)).resolves.toBe(true)
    expect(docker.argvs()).toEqual([['build', '--help']])
    // Asked silently: the help text stays out of the log.
    expect(stdoutLines().join('\n')).not.toContain('--provenance')
  })

  it('is false on the legacy builder, whose help has no --provenance', async () => {
    const docker = useFake('legacy')
    await expect(supportsAttestationFlags(execRunner)).resolves.toBe(false)
    expect(docker.argvs()).toEqual([['build', '--help']])
  })

  it('is false when docker build --help fails', async () => {
    const failing: Runner = async () => ({
      exitCode: 1,
      stdout: '--provenance --sbom',
      stderr: 'docker: unknown command'
    })
    await expect(supportsAttestationFlags(failing)).resolves.toBe(false)
  })

  it('is false when docker cannot be run at all', async () => {
    const missing: Runner = async () => {
      throw new DeployError("'docker' is not installed or not on PATH")
    }
    await expect(supportsAttestationFlags(missing)).resolves.toBe(false)
  })

  it('needs both flags: --provenance alone is not enough', async () => {
    const partial: Runner = async () => ({
      exitCode: 0,
      stdout: '      --provenance string   Shorthand for "--attest=type=provenance"\n',
      stderr: ''
    })
    await expect(supportsAttestationFlags(partial)).resolves.toBe(false)
  })
})

describe('buildArgv with attestation flags and cache sources', () => {
  it('puts --cache-from after --target and the attestation flags just before --iidfile and the context', () => {
    const argv = buildArgv(
      {
        ...request,
        platform: 'linux/arm64',
        target: 'runtime',
        cacheFrom: ['repo/hello:cache', 'repo/hello:b0'],
        attestationFlags: true
      },
      '/tmp/b/iid'
    )
    expect(argv).toEqual([
      ...ARGV_TO_BUILD_ARGS,
      '--platform',
      'linux/arm64',
      '--target',
      'runtime',
      '--cache-from',
      'repo/hello:cache',
      '--cache-from',
      'repo/hello:b0',
      '--provenance=false',
      '--sbom=false',
      '--iidfile',
      '/tmp/b/iid',
      '/repo/service'
    ])
  })

  it.each<[string, Partial<BuildRequest>]>([
    ['not asked for', {}],
    ['turned off', { attestationFlags: false, cacheFrom: [] }]
  ])('adds neither flag when %s', (_, extra) => {
    const argv = buildArgv({ ...request, ...extra }, '/tmp/b/iid')
    expect(argv).toEqual([...ARGV_TO_BUILD_ARGS, '--iidfile', '/tmp/b/iid', '/repo/service'])
  })
})

describe('building with the detected flags', () => {
  it('builds with --provenance=false --sbom=false on BuildKit', async () => {
    const docker = useFake('buildkit')
    const attestationFlags = await supportsAttestationFlags(execRunner)
    const built = await buildImage(execRunner, {
      ...request,
      attestationFlags,
      cacheFrom: ['repo/hello:cache']
    })

    const builds = docker.callsOf('build').filter((call) => !call.argv.includes('--help'))
    expect(builds).toHaveLength(1)
    const argv = builds[0]?.argv ?? []
    const iidFile = argv[argv.indexOf('--iidfile') + 1] ?? ''
    const metadataFile = argv[argv.indexOf('--metadata-file') + 1] ?? ''
    expect(iidFile).toMatch(/oci-stack-deploy-build-.*iid$/)
    expect(metadataFile).toBe(iidFile.replace(/iid$/, 'metadata.json'))
    expect(argv).toEqual(
      buildArgv(
        { ...request, attestationFlags: true, cacheFrom: ['repo/hello:cache'] },
        iidFile,
        metadataFile
      )
    )
    expect(argv.slice(-9)).toEqual([
      '--cache-from',
      'repo/hello:cache',
      '--metadata-file',
      metadataFile,
      '--provenance=false',
      '--sbom=false',
      '--iidfile',
      iidFile,
      '/repo/service'
    ])
    expect(built.labels).toEqual({ 'io.sparta.ecr-name': 'hello' })
    expect(built.imageId).toMatch(/^sha256:[a-f0-9]{64}$/)
  })

  it('builds without the flags on the legacy builder, which would reject them', async () => {
    const docker = useFake('legacy')
    const attestationFlags = await supportsAttestationFlags(execRunner)
    await buildImage(execRunner, { ...request, attestationFlags })

    const builds = docker.callsOf('build').filter((call) => !call.argv.includes('--help'))
    expect(builds).toHaveLength(1)
    expect(builds[0]?.argv.some((arg) => /^--(provenance|sbom)/.test(arg))).toBe(false)

    // Why the detection matters: forcing the flags on the legacy builder fails the build.
    await expect(buildImage(execRunner, { ...request, attestationFlags: true })).rejects.toThrow(
      new DeployError(
        "docker build failed (exit code 125): unknown flag: --provenance\nSee 'docker build --help'."
      )
    )
  })
})
