/**
 * The builders users build with: buildx drivers, the containerd image store, Docker contexts and
 * the build cache. Run against the fake docker (`__fixtures__/fake-docker/`); a docker-container
 * builder needs moby/buildkit from Docker Hub, which the local world cannot reach.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildRequest, useDockerTest } from '../../__fixtures__/docker.js'
import type { FakeDockerOptions } from '../../__fixtures__/fake-docker.js'
import {
  buildImage,
  configDigestFromMetadata,
  createDockerConfig,
  login,
  pushImage,
  tagImage,
  type BuildRequest,
  type DockerConfig
} from '../../src/docker/docker.js'
import { execRunner } from '../../src/docker/runner.js'
import {
  cacheLocation,
  canExportCache,
  detectBuilder,
  needsLoad,
  parseBuildxDriver,
  planBuildCache,
  type Builder
} from '../../src/docker/builder.js'
import { DeployError } from '../../src/base/errors.js'

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const CACHE_REF = `${REGISTRY}/hello:oci-stack-deploy-cache`
const PREVIOUS = `${REGISTRY}/hello@sha256:${'ab'.repeat(32)}`
const REGISTRY_CACHE_TO = `type=registry,ref=${CACHE_REF},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true`

const request = buildRequest({ SPARTA_BUILD_ID: 'b1' }, { attestationFlags: true })

const LEGACY: Builder = { buildkit: false, driver: '', containerdStore: false }
const DOCKER_CLASSIC: Builder = { buildkit: true, driver: 'docker', containerdStore: false }
const DOCKER_CONTAINERD: Builder = { buildkit: true, driver: 'docker', containerdStore: true }
const CONTAINER: Builder = { buildkit: true, driver: 'docker-container', containerdStore: false }

const { useFake, afterTest } = useDockerTest({ labels: { 'io.sparta.ecr-name': 'hello' } })

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  afterTest(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function privateConfig(source: string): DockerConfig {
  const config = createDockerConfig(source)
  afterTest(() => config.dispose())
  return config
}

describe('parseBuildxDriver', () => {
  it.each([
    ['Name:   default\nDriver: docker\n', 'docker'],
    [
      'Name:          builder\nDriver:        docker-container\nLast Activity: x\n',
      'docker-container'
    ],
    ['Name: b\nNodes:\n', '']
  ])('reads the driver of %j', (output, driver) => {
    expect(parseBuildxDriver(output)).toBe(driver)
  })
})

describe('detectBuilder', () => {
  it('asks no buildx question of the legacy builder', async () => {
    const docker = useFake({ buildkit: false })
    await expect(detectBuilder(execRunner)).resolves.toEqual(LEGACY)
    expect(docker.argvs()).toEqual([['build', '--help']])
  })

  /** A docker config directory of the test's own, with `buildx/current` when `selected`. */
  function userConfig(selected: boolean): void {
    const dir = tempDir('docker-config-')
    if (selected) {
      mkdirSync(join(dir, 'buildx'))
      writeFileSync(join(dir, 'buildx', 'current'), '{"Key":"","Name":"builder","Global":false}')
    }
    const saved = { config: process.env['DOCKER_CONFIG'], builder: process.env['BUILDX_BUILDER'] }
    process.env['DOCKER_CONFIG'] = dir
    delete process.env['BUILDX_BUILDER']
    afterTest(() => {
      for (const [name, value] of [
        ['DOCKER_CONFIG', saved.config],
        ['BUILDX_BUILDER', saved.builder]
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })
  }

  it.each<[string, FakeDockerOptions, Builder]>([
    ['the docker driver on the classic store', {}, DOCKER_CLASSIC],
    ['the docker driver on the containerd store', { containerdStore: true }, DOCKER_CONTAINERD]
  ])(
    'finds %s with two questions when no builder is selected',
    async (_what, options, expected) => {
      userConfig(false)
      const docker = useFake({ buildkit: true, ...options })
      await expect(detectBuilder(execRunner)).resolves.toEqual(expected)
      // The default builder's driver is docker: buildx inspect would say nothing new.
      expect(docker.argvs().map((argv) => argv.join(' '))).toEqual([
        'build --help',
        'info --format {{json .DriverStatus}}'
      ])
    }
  )

  it.each<[string, () => void]>([
    ['docker buildx use', () => userConfig(true)],
    [
      'BUILDX_BUILDER',
      () => {
        userConfig(false)
        process.env['BUILDX_BUILDER'] = 'builder'
      }
    ]
  ])('asks buildx for the driver of a builder selected by %s', async (_how, select) => {
    select()
    const docker = useFake({ buildkit: true, buildxDriver: 'docker-container' })
    await expect(detectBuilder(execRunner)).resolves.toEqual(CONTAINER)
    const [first, ...rest] = docker.argvs()
    expect(first).toEqual(['build', '--help'])
    // The two later questions run in parallel.
    expect(rest.map((argv) => argv.join(' ')).sort()).toEqual([
      'buildx inspect',
      'info --format {{json .DriverStatus}}'
    ])
  })
})

describe('what a builder needs', () => {
  it.each([
    ['legacy', LEGACY, false, false],
    ['docker driver, classic store', DOCKER_CLASSIC, false, false],
    ['docker driver, containerd store', DOCKER_CONTAINERD, false, true],
    ['docker-container driver', CONTAINER, true, true],
    ['remote driver', { ...CONTAINER, driver: 'remote' }, true, true]
  ])('%s: --load %s, cache export %s', (_what, builder, load, exportCache) => {
    expect(needsLoad(builder)).toBe(load)
    expect(canExportCache(builder)).toBe(exportCache)
  })
})

describe('cacheLocation', () => {
  it('is the repository of the image the stack runs, under the cache tag', () => {
    expect(cacheLocation(PREVIOUS, REGISTRY)).toEqual({ ref: CACHE_REF, image: PREVIOUS })
  })

  it.each([
    ['a new stack', undefined],
    ['an image in another registry', `public.ecr.aws/x/hello:1`],
    ['something that is not an image URI', 'hello']
  ])('is undefined for %s', (_what, previous) => {
    expect(cacheLocation(previous, REGISTRY)).toBeUndefined()
  })
})

describe('planBuildCache', () => {
  const location = { ref: CACHE_REF, image: PREVIOUS }

  it('takes the registry cache on auto where the builder exports caches', () => {
    expect(planBuildCache('auto', DOCKER_CONTAINERD, location)).toEqual({
      cacheFrom: [`type=registry,ref=${CACHE_REF}`],
      cacheTo: [REGISTRY_CACHE_TO],
      needsLogin: true,
      warnings: [],
      summary: `build cache: registry, ${CACHE_REF}`
    })
    expect(planBuildCache('registry', CONTAINER, location).cacheTo).toEqual([REGISTRY_CACHE_TO])
  })

  it('falls back to the inline cache on the docker driver with the classic store', () => {
    expect(planBuildCache('auto', DOCKER_CLASSIC, location)).toEqual({
      cacheFrom: [PREVIOUS],
      cacheTo: ['type=inline'],
      needsLogin: true,
      warnings: [],
      summary: `build cache: inline, reusing ${PREVIOUS}`
    })
    expect(planBuildCache('registry', DOCKER_CLASSIC, location).warnings).toEqual([
      'build-cache: registry needs a builder that exports caches (the docker driver on the classic image store does not); using the inline cache. Turn on the containerd image store, or use a docker-container builder (docker/setup-buildx-action).'
    ])
  })

  it('writes the inline cache even before there is an image to read it from', () => {
    expect(planBuildCache('inline', CONTAINER, undefined)).toEqual({
      cacheFrom: [],
      cacheTo: ['type=inline'],
      needsLogin: false,
      warnings: [],
      summary: 'build cache: inline (no earlier image to reuse yet)'
    })
  })

  it('has no registry cache for a new stack (no repository to keep it in yet)', () => {
    expect(planBuildCache('auto', CONTAINER, undefined)).toMatchObject({
      cacheFrom: [],
      cacheTo: [],
      needsLogin: false,
      summary: 'build cache: registry, from the next run on (the stack names no image yet)'
    })
  })

  it('gives the legacy builder no cache flags, and says so when a cache was asked for', () => {
    expect(planBuildCache('auto', LEGACY, location)).toMatchObject({
      cacheFrom: [],
      cacheTo: [],
      warnings: []
    })
    expect(planBuildCache('registry', LEGACY, location).warnings).toEqual([
      'build-cache: registry needs BuildKit, but docker build is the legacy builder here; building without it. Install the buildx plugin (docker/setup-buildx-action).'
    ])
  })

  it('uses no cache when off', () => {
    expect(planBuildCache('off', CONTAINER, location)).toMatchObject({
      cacheFrom: [],
      cacheTo: [],
      needsLogin: false,
      summary: 'build cache: off'
    })
  })
})

describe('building on a docker-container builder', () => {
  it('without --load, the image stays in the builder: inspect finds no image', async () => {
    useFake({ buildkit: true, buildxDriver: 'docker-container' })
    await expect(buildImage(execRunner, request)).rejects.toThrow(
      new DeployError(
        'docker image inspect sparta/hello:b1 failed (exit code 1): Error response from daemon: No such image: sparta/hello:b1'
      )
    )
  })

  it('with --load, the image reaches the engine', async () => {
    const docker = useFake({ buildkit: true, buildxDriver: 'docker-container' })
    const built = await buildImage(execRunner, { ...request, load: true })
    const argv = docker.callsOf('build')[0]?.argv ?? []
    expect(argv).toContain('--load')
    expect(built.labels).toEqual({ 'io.sparta.ecr-name': 'hello' })
    expect(built.configDigest).toBe(built.imageId)
  })
})

describe('building on the containerd image store', () => {
  it('takes the config digest from --metadata-file: the image id is the manifest digest', async () => {
    const docker = useFake({ buildkit: true, containerdStore: true })
    const built = await buildImage(execRunner, request)
    const image = docker.images()[0]
    expect(built.imageId).toBe(image?.id)
    expect(built.configDigest).toBe(image?.configDigest)
    expect(built.configDigest).not.toBe(built.imageId)
  })

  it.each([
    [
      '{"containerimage.config.digest": "sha256:' + 'cd'.repeat(32) + '"}',
      `sha256:${'cd'.repeat(32)}`
    ],
    ['{"containerimage.digest": "sha256:' + 'cd'.repeat(32) + '"}', ''],
    ['not json', '']
  ])('reads the config digest of metadata %s', (metadata, digest) => {
    expect(configDigestFromMetadata(metadata)).toBe(digest)
  })
})

describe('the registry build cache', () => {
  const cached: BuildRequest = {
    ...request,
    cacheFrom: [`type=registry,ref=${CACHE_REF}`],
    cacheTo: [REGISTRY_CACHE_TO]
  }

  it('passes --cache-from and --cache-to as planned', async () => {
    const docker = useFake({ buildkit: true, containerdStore: true })
    const config = privateConfig(tempDir('user-docker-'))
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: 'pw' })
    await buildImage(execRunner, cached, config)
    const argv = docker.callsOf('build')[0]?.argv ?? []
    expect(argv.slice(argv.indexOf('--cache-from'), argv.indexOf('--cache-from') + 4)).toEqual([
      '--cache-from',
      `type=registry,ref=${CACHE_REF}`,
      '--cache-to',
      REGISTRY_CACHE_TO
    ])
  })

  it('needs the ECR login in the build: the cache is pushed by the build itself', async () => {
    useFake({ buildkit: true, containerdStore: true })
    const config = privateConfig(tempDir('user-docker-'))
    await expect(buildImage(execRunner, cached, config)).rejects.toThrow(
      `failed to push ${CACHE_REF}: no basic auth credentials`
    )
  })

  it('is refused by the docker driver on the classic store (why auto takes the inline cache there)', async () => {
    useFake({ buildkit: true })
    await expect(buildImage(execRunner, cached)).rejects.toThrow(
      'Cache export is not supported for the docker driver.'
    )
  })
})

describe('the private DOCKER_CONFIG', () => {
  /** A user's docker config using context `world`, a buildx builder and a CLI plugin dir. */
  function userConfig(extra: Record<string, unknown> = {}): string {
    const dir = tempDir('user-docker-')
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        currentContext: 'world',
        auths: { 'ghcr.io': { auth: 'dXNlcjpwdw==' } },
        ...extra
      })
    )
    for (const sub of ['contexts/meta/abc', 'buildx/instances', 'cli-plugins']) {
      mkdirSync(join(dir, sub), { recursive: true })
    }
    return dir
  }

  it("carries the user's current context, contexts, builders and plugins", () => {
    const source = userConfig()
    const config = privateConfig(source)
    const dir = config.env['DOCKER_CONFIG'] ?? ''
    expect(dir).not.toBe(source)
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({
      currentContext: 'world',
      auths: { 'ghcr.io': { auth: 'dXNlcjpwdw==' } }
    })
    for (const entry of ['contexts', 'buildx', 'cli-plugins']) {
      expect(readlinkSync(join(dir, entry))).toBe(join(source, entry))
    }
  })

  it('starts empty when the user has no docker config', () => {
    const config = privateConfig(join(tempDir('none-'), 'missing'))
    const dir = config.env['DOCKER_CONFIG'] ?? ''
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({})
  })

  it('makes build, login and push reach the same context', async () => {
    const docker = useFake({ buildkit: true })
    const config = privateConfig(userConfig())
    const reference = `${REGISTRY}/hello:b1`
    await buildImage(execRunner, request, config)
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: 'pw' })
    await tagImage(execRunner, request.localTag, reference)
    await pushImage(execRunner, config, reference, async () => undefined)
    const withConfig = docker
      .calls()
      .filter((call) => call.dockerConfig === config.env['DOCKER_CONFIG'])
    expect(withConfig.map((call) => [call.argv[0], call.context])).toEqual([
      ['build', 'world'],
      ['login', 'world'],
      ['push', 'world']
    ])
  })

  it("keeps the ECR login in its own file, not in the user's credential store", async () => {
    useFake({})
    const config = privateConfig(
      userConfig({ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } })
    )
    await login(execRunner, config, { registry: REGISTRY, username: 'AWS', password: 'pw' })
    const file = JSON.parse(
      readFileSync(join(config.env['DOCKER_CONFIG'] ?? '', 'config.json'), 'utf8')
    ) as Record<string, unknown>
    expect(file['credHelpers']).toEqual({ 'gcr.io': 'gcloud', [REGISTRY]: '' })
    expect(file['credsStore']).toBe('desktop')
  })
})
