/**
 * Deploying an image given as input 'image', through run(): resolved once, checked before any
 * write, deployed in place or copied into the deploying account and region, and never a docker
 * command.
 */
import { describe, expect, it, jest } from '@jest/globals'
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { awsError } from '../../__fixtures__/aws.js'
import { regionMocks, writesIn, type RegionMocks } from '../../__fixtures__/regions.js'
import {
  LOOPBACK_HTTP,
  testImage,
  useRegistryServers,
  type RegistryServer
} from '../../__fixtures__/registry-server.js'
import {
  ACCOUNT,
  commands,
  failure,
  installRunHarness,
  readOutputs,
  REGION,
  runAction,
  setInputs,
  useDocker
} from '../../__fixtures__/run-harness.js'
import type { Runner } from '../../src/docker/runner.js'
import { DOCKER_MANIFEST_LIST } from '../../src/registry/manifests.js'

installRunHarness()

const SOURCE_ACCOUNT = '111122223333'
const ECR_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`

const startRegistry = useRegistryServers()

function registry(password: string, mount = false): Promise<RegistryServer> {
  return startRegistry({ password, mount })
}

/** run() with the regions' clients, the loopback registries and a runner that must not run. */
async function promote(regions: RegionMocks[], inputs: Record<string, string>) {
  const runner = jest.fn<Runner>()
  const byRegion = new Map(regions.map((r) => [r.region, r.clients]))
  const clients = jest.fn((region: string) => {
    const found = byRegion.get(region)
    if (found === undefined) throw new Error(`no clients for ${region}`)
    return found
  })
  setInputs({ dockerfile: '', binary: '', ...inputs })
  const fake = useDocker()
  await runAction({ clients, runner, registryHttp: LOOPBACK_HTTP })
  // With 'image', no docker ran: neither the runner nor the docker on PATH.
  expect(runner).not.toHaveBeenCalled()
  expect(fake.calls()).toEqual([])
  expect(commands()).toEqual([])
  return { clients }
}

function imageParameter(mocks: RegionMocks): string | undefined {
  const input = mocks.cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input as {
    Parameters?: Array<{ ParameterKey?: string; ParameterValue?: string }>
  }
  return input?.Parameters?.find((p) => p.ParameterKey === 'CodeImageURI')?.ParameterValue
}

const registryWrites = (server: RegistryServer) =>
  server.requests.filter((r) => ['PUT', 'POST', 'PATCH'].includes(r.method))

describe('an image in the repository being deployed', () => {
  it('is deployed by digest as it is: read and checked, nothing copied, no docker', async () => {
    const server = await registry('home-pass-1')
    const image = testImage('amd64')
    server.store('hello-service', image)
    const home = regionMocks(REGION, server)

    await promote([home], { image: `${ECR_HOST}/hello-service@${image.digest}` })

    expect(failure()).toBeUndefined()
    expect(home.ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: [ACCOUNT]
    })
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /v2/hello-service/manifests/${image.digest}`,
      `GET /v2/hello-service/blobs/${image.configDigest}`
    ])
    const pinned = `${server.host}/hello-service@${image.digest}`
    expect(imageParameter(home)).toBe(pinned)
    expect(home.ecr.commandCalls(DescribeRepositoriesCommand)).toEqual([])
    const outputs = readOutputs()
    expect(outputs).toMatchObject({
      'image-uri': pinned,
      'image-digest': image.digest,
      'image-uri-pinned': pinned,
      'stack-status': 'CREATE_COMPLETE'
    })
    expect(JSON.parse(outputs['deployments'] ?? '')).toEqual({
      [REGION]: {
        stackId: home.stackId,
        stackStatus: 'CREATE_COMPLETE',
        imageUri: pinned,
        imageUriPinned: pinned,
        imageDigest: image.digest,
        outputs: { Region: REGION }
      }
    })
  })

  it('resolves a tag to its digest once and deploys that digest', async () => {
    const server = await registry('home-pass-2')
    const image = testImage('amd64')
    server.store('hello-service', image, ['rc1'])
    const home = regionMocks(REGION, server)

    await promote([home], { image: `${ECR_HOST}/hello-service:rc1`, 'pin-digest': 'true' })

    expect(failure()).toBeUndefined()
    const reads = server.requests.filter((r) => r.url.includes('/manifests/'))
    expect(reads.map((r) => r.url)).toEqual(['/v2/hello-service/manifests/rc1'])
    expect(imageParameter(home)).toBe(`${server.host}/hello-service@${image.digest}`)
    expect(readOutputs()['image-uri']).toBe(`${server.host}/hello-service:rc1`)
  })
})

describe('an image copied into another repository of the same registry', () => {
  it('creates the repository when asked, mounts the blobs and puts the tags', async () => {
    const server = await registry('home-pass-3', true)
    const image = testImage('amd64')
    server.store('hello-service', image, ['rc1'])
    const home = regionMocks(REGION, server)
    home.ecr
      .on(DescribeRepositoriesCommand)
      .rejects(awsError('RepositoryNotFoundException', 'no repository'))

    await promote([home], {
      image: `${ECR_HOST}/hello-service:rc1`,
      repository: 'hello-prod',
      'create-repository': 'true',
      'image-tags': 'v1.0.0'
    })

    expect(failure()).toBeUndefined()
    expect(home.ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toMatchObject({
      repositoryName: 'hello-prod'
    })
    expect(server.manifest('hello-prod', 'rc1')?.bytes.equals(image.manifest)).toBe(true)
    expect(server.manifest('hello-prod', 'v1.0.0')?.bytes.equals(image.manifest)).toBe(true)
    expect(server.requests.filter((r) => r.method === 'PATCH')).toEqual([])
    expect(server.requests.filter((r) => r.url.includes('mount='))).toHaveLength(3)
    expect(imageParameter(home)).toBe(`${server.host}/hello-prod@${image.digest}`)
    expect(readOutputs()).toMatchObject({
      'image-uri': `${server.host}/hello-prod:rc1`,
      'image-digest': image.digest
    })
  })
})

describe('an image in another account and region', () => {
  it('logs in to the source registry with its account id and copies the same digest', async () => {
    const source = await registry('source-pass-4')
    const target = await registry('target-pass-4')
    const image = testImage('amd64', [Buffer.alloc(70_000, 3)])
    source.store('team/hello', image)
    const sourceRegion = regionMocks('us-east-1', source, SOURCE_ACCOUNT)
    const home = regionMocks(REGION, target)

    const { clients } = await promote([home, sourceRegion], {
      image: `${SOURCE_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/hello@${image.digest}`
    })

    expect(failure()).toBeUndefined()
    expect(clients.mock.calls.map(([region]) => region)).toEqual([REGION, 'us-east-1'])
    expect(sourceRegion.ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: [SOURCE_ACCOUNT]
    })
    // Nothing but the token was asked of the source region.
    expect([sourceRegion.sts, sourceRegion.s3, sourceRegion.cfn].flatMap((m) => m.calls())).toEqual(
      []
    )
    expect(registryWrites(source)).toEqual([])
    // The bytes in the target are the source's, under the build id as tag.
    const copied = target.manifest('team/hello', image.digest)
    expect(copied?.bytes.equals(image.manifest)).toBe(true)
    expect(target.blob('team/hello', image.layerDigests[0] ?? '')).toEqual(Buffer.alloc(70_000, 3))
    const outputs = readOutputs()
    expect(outputs['image-digest']).toBe(image.digest)
    expect(imageParameter(home)).toBe(`${target.host}/team/hello@${image.digest}`)
    expect(target.manifest('team/hello', outputs['build-id'] ?? '')).toBeDefined()
  })
})

describe('refused before any write', () => {
  async function refused(
    store: (server: RegistryServer) => string,
    inputs: Record<string, string> = {}
  ): Promise<{ home: RegionMocks; server: RegistryServer; image: string }> {
    const server = await registry('home-pass-5')
    const image = store(server)
    const home = regionMocks(REGION, server)
    await promote([home], { image, ...inputs })
    expect(writesIn(home)).toEqual([])
    expect(registryWrites(server)).toEqual([])
    expect(readOutputs()).toEqual({})
    return { home, server, image }
  }

  it('an image whose architecture the function does not run', async () => {
    await refused((server) => {
      const image = testImage('arm64')
      server.store('hello-service', image)
      return `${ECR_HOST}/hello-service@${image.digest}`
    })
    expect(failure()).toBe(
      "Function 'HelloFunction' (AWS::Lambda::Function) runs on x86_64, but input 'image' is an image for arm64: set the function's Architectures: [arm64] in the template, or give input 'image' an image built for linux/amd64."
    )
  })

  it('a multi-platform index', async () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_LIST,
        manifests: [
          { digest: `sha256:${'1'.repeat(64)}`, platform: { os: 'linux', architecture: 'amd64' } },
          { digest: `sha256:${'2'.repeat(64)}`, platform: { os: 'linux', architecture: 'arm64' } }
        ]
      })
    )
    const { image } = await refused((server) => {
      server.storeManifest('hello-service', index, DOCKER_MANIFEST_LIST, 'multi')
      return `${ECR_HOST}/hello-service:multi`
    })
    expect(failure()).toBe(
      `Input 'image': ${image} is a multi-platform image index (${DOCKER_MANIFEST_LIST}: platforms linux/amd64, linux/arm64). Lambda accepts only a single-platform image manifest and would fail the deploy with "The image manifest, config or layer media type for the source image ${image} is not supported": give the digest of the one platform's image manifest the index lists (docker buildx imagetools inspect ${image} shows them) that matches the function's Architectures.`
    )
  })

  it('a tag that does not exist', async () => {
    const { image } = await refused(() => `${ECR_HOST}/hello-service:nope`)
    expect(failure()).toBe(
      `Input 'image': ${image} does not exist: repository 'hello-service' of account ${ACCOUNT} in ${REGION} has no image nope. Give the 'image-uri-pinned' output of the run that pushed it.`
    )
  })

  it('a target repository that is missing without create-repository', async () => {
    const server = await registry('home-pass-6')
    const image = testImage()
    server.store('hello-service', image)
    const home = regionMocks(REGION, server)
    home.ecr
      .on(DescribeRepositoriesCommand)
      .rejects(awsError('RepositoryNotFoundException', 'no repository'))

    await promote([home], {
      image: `${ECR_HOST}/hello-service@${image.digest}`,
      repository: 'hello-prod'
    })

    expect(failure()).toBe(
      `ECR repository 'hello-prod' (input 'repository') does not exist in account ${ACCOUNT}, ${REGION}: create it, or set 'create-repository: true'.`
    )
    expect(writesIn(home)).toEqual([])
    expect(registryWrites(server)).toEqual([])
  })

  it('a source the credentials may not read: the permission and the policy, no password', async () => {
    const source = await registry('source-pass-7')
    const image = testImage()
    source.store('team/hello', image)
    source.faults.push({ method: 'GET', path: /manifests/, status: 403, times: 9 })
    const home = regionMocks(REGION, await registry('target-pass-7'))
    const sourceRegion = regionMocks('us-east-1', source, SOURCE_ACCOUNT)
    const uri = `${SOURCE_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/hello@${image.digest}`

    await promote([home, sourceRegion], { image: uri })

    expect(failure()).toBe(
      `Access denied reading the manifest ${image.digest} of repository 'team/hello' on ${source.host} (HTTP 403 (DENIED: refused)): grant the deploy role (and the policy of repository 'team/hello' in account ${SOURCE_ACCOUNT}, to account ${ACCOUNT}) ecr:BatchGetImage on repository 'team/hello'.`
    )
    expect(failure()).not.toContain('source-pass-7')
    expect(writesIn(home)).toEqual([])
  })
})
