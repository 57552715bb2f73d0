/**
 * Several regions from one run, through run(): one build pushed once and copied to the other
 * regions, each region's own bucket, change set and event stream, every check in every region
 * before the first write in any, a failed region not stopping the others, and the results:
 * `deployments`, the summary's table, log lines prefixed by region.
 */
import { describe, expect, it, jest } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { awsError } from '../../__fixtures__/aws.js'
import type { FakeDockerOptions } from '../../__fixtures__/fake-docker.js'
import { regionMocks, writesIn, type RegionMocks } from '../../__fixtures__/regions.js'
import {
  LOOPBACK_HTTP,
  testImage,
  useRegistryServers,
  type RegistryServer,
  type TestImage
} from '../../__fixtures__/registry-server.js'
import {
  ACCOUNT,
  BUILD_ID,
  commands,
  failure,
  harness,
  installRunHarness,
  PASSWORD,
  readOutputs,
  runAction,
  setInputs,
  STACK,
  summary,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'

installRunHarness()

const HOME = 'eu-west-2'
const OTHER = 'us-east-1'
const THIRD = 'ap-southeast-2'

const startRegistry = useRegistryServers()

/** A region with its own registry (the home registry takes the fake docker's password). */
async function region(name: string): Promise<{ mocks: RegionMocks; registry: RegistryServer }> {
  const registry = await startRegistry({ password: name === HOME ? PASSWORD : `p-${name}` })
  return { mocks: regionMocks(name, registry), registry }
}

interface World {
  regions: Array<{ mocks: RegionMocks; registry: RegistryServer }>
  image: TestImage
}

/** Regions, the first being home; the home registry holds what the fake docker "pushes". */
async function world(names: string[]): Promise<World> {
  const regions = await Promise.all(names.map(region))
  const image = testImage('amd64')
  regions[0]?.registry.store('hello-service', image)
  return { regions, image }
}

/** run() building once and deploying to the world's regions. */
async function fanOut(
  w: World,
  inputs: Record<string, string> = {},
  docker: FakeDockerOptions = {}
) {
  const byRegion = new Map(w.regions.map((r) => [r.mocks.region, r.mocks.clients]))
  setInputs({
    region: '',
    regions: w.regions.map((r) => r.mocks.region).join(', '),
    bucket: 'artifacts-{region}',
    ...inputs
  })
  const fake = useDocker({ pushDigest: w.image.digest, ...docker })
  await runAction({
    clients: (name) => {
      const clients = byRegion.get(name)
      if (clients === undefined) throw new Error(`no clients for ${name}`)
      return clients
    },
    registryHttp: LOOPBACK_HTTP
  })
  return fake
}

const mocksOf = (w: World, i: number): RegionMocks => w.regions[i]?.mocks as RegionMocks
const registryOf = (w: World, i: number): RegistryServer => w.regions[i]?.registry as RegistryServer

describe('a build deployed to two regions', () => {
  it('builds and pushes once, copies to the other region, deploys both with their own change sets', async () => {
    const w = await world([HOME, OTHER])
    const fake = await fanOut(w)

    expect(failure()).toBeUndefined()
    const builds = fake.callsOf('build').filter((c) => c.argv.includes('--tag'))
    expect(builds).toHaveLength(1)
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', `${registryOf(w, 0).host}/hello-service:${BUILD_ID}`]
    ])
    // The other region got the same bytes, under the same tag.
    const copied = registryOf(w, 1).manifest('hello-service', BUILD_ID)
    expect(copied?.bytes.equals(w.image.manifest)).toBe(true)
    for (const [i, name] of [HOME, OTHER].entries()) {
      const mocks = mocksOf(w, i)
      expect(mocks.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Bucket).toBe(
        `artifacts-${name}`
      )
      expect(mocks.cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1)
      expect(mocks.cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
      const parameters = mocks.cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Parameters
      expect(parameters?.find((p) => p.ParameterKey === 'CodeImageURI')?.ParameterValue).toBe(
        `${registryOf(w, i).host}/hello-service@${w.image.digest}`
      )
    }
  })

  it('sets the outputs of the first region and deployments for both', async () => {
    const w = await world([HOME, OTHER])
    await fanOut(w)

    const outputs = readOutputs()
    const home = registryOf(w, 0).host
    const other = registryOf(w, 1).host
    expect(outputs).toMatchObject({
      'image-uri': `${home}/hello-service:${BUILD_ID}`,
      'image-digest': w.image.digest,
      'stack-id': mocksOf(w, 0).stackId,
      'stack-status': 'CREATE_COMPLETE'
    })
    expect(JSON.parse(outputs['deployments'] ?? '')).toEqual({
      [HOME]: {
        stackId: mocksOf(w, 0).stackId,
        stackStatus: 'CREATE_COMPLETE',
        imageUri: `${home}/hello-service:${BUILD_ID}`,
        imageUriPinned: `${home}/hello-service@${w.image.digest}`,
        imageDigest: w.image.digest,
        outputs: { Region: HOME }
      },
      [OTHER]: {
        stackId: mocksOf(w, 1).stackId,
        stackStatus: 'CREATE_COMPLETE',
        imageUri: `${other}/hello-service:${BUILD_ID}`,
        imageUriPinned: `${other}/hello-service@${w.image.digest}`,
        imageDigest: w.image.digest,
        outputs: { Region: OTHER }
      }
    })
  })

  it("prefixes each region's lines, and opens no log group inside a region", async () => {
    const w = await world([HOME, OTHER])
    await fanOut(w)

    const lines = harness.stdout.lines()
    const groups = lines.filter((l) => l.startsWith('::group::'))
    expect(groups).toEqual([
      '::group::Preflight checks',
      '::group::Build image',
      '::group::Deploy to 2 regions'
    ])
    expect(lines).toContain(`[${OTHER}] ▸ Copy image and upload template`)
    expect(lines).toContain(`[${HOME}] ▸ Push image and upload template`)
    expect(lines).toContain(`[${OTHER}] ▸ Deploy stack`)
    expect(lines.some((l) => l.startsWith(`[${OTHER}] Copied ${registryOf(w, 0).host}/`))).toBe(
      true
    )
    expect(
      lines.some((l) => l.startsWith(`[${OTHER}] Template URL: https://artifacts-${OTHER}.`))
    ).toBe(true)
    // Stack events stream per region, each under its name.
    // Each region's own change set, under its name.
    for (const name of [HOME, OTHER]) {
      expect(lines).toContain(`[${name}] Executing change set ${STACK}-${BUILD_ID}`)
      expect(lines).toContain(`[${name}]   Add HelloFunction (AWS::Lambda::Function)`)
    }
  })

  it('shows each region in one summary table', async () => {
    const w = await world([HOME, OTHER])
    await fanOut(w)

    const text = summary()
    expect(text).toContain(`<h2>Deployed ${STACK} in 2 regions: all succeeded</h2>`)
    expect(text).toContain(
      '<h3>Regions</h3>\n<table><tr><th>Region</th><th>Account</th><th>Stack</th><th>Status</th><th>Digest</th><th>Error</th></tr>'
    )
    for (const [i, name] of [HOME, OTHER].entries()) {
      expect(text).toContain(
        `<tr><td>${name}</td><td>${ACCOUNT}</td><td><code>${mocksOf(w, i).stackId}</code></td><td>CREATE_COMPLETE</td><td><code>${w.image.digest}</code></td><td>-</td></tr>`
      )
    }
  })
})

describe('a region that fails', () => {
  it('does not stop the others; the step fails at the end naming it, the summary shows both', async () => {
    const w = await world([HOME, OTHER])
    const { mockNewStack } = await import('../../__fixtures__/regions.js')
    mockNewStack(mocksOf(w, 1), 'ROLLBACK_COMPLETE')
    await fanOut(w)

    const error = failure() ?? ''
    expect(error.split('\n').slice(0, 2)).toEqual([
      `The deploy failed in 1 of 2 regions: ${OTHER}.`,
      `[${OTHER}] Stack ${STACK} ended in ROLLBACK_COMPLETE`
    ])
    expect(process.exitCode).toBe(1)
    // The first region deployed all the same.
    expect(mocksOf(w, 0).cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
    const outputs = readOutputs()
    expect(outputs['stack-status']).toBe('CREATE_COMPLETE')
    const deployments = JSON.parse(outputs['deployments'] ?? '') as Record<
      string,
      { stackStatus: string; error?: string }
    >
    expect(deployments[HOME]?.error).toBeUndefined()
    expect(deployments[OTHER]).toMatchObject({ stackStatus: 'ROLLBACK_COMPLETE' })
    expect(deployments[OTHER]?.error).toMatch(/^Stack Hello-Service ended in ROLLBACK_COMPLETE\n/)
    const text = summary()
    expect(text).toContain(`<h2>Deployed ${STACK} in 2 regions: 1 failed</h2>`)
    expect(text).toContain(`<tr><td>${OTHER}</td><td>${ACCOUNT}</td>`)
    expect(text).toContain(
      `<td>ROLLBACK_COMPLETE</td><td><code>${w.image.digest}</code></td><td>Stack ${STACK} ended in ROLLBACK_COMPLETE`
    )
    expect(text).not.toContain('failed: ') // no single-region failure summary on top
  })

  it('fails the regions that copy from the first one when its push failed', async () => {
    const w = await world([HOME, OTHER])
    await fanOut(w, {}, { pushFail: true })

    const error = failure() ?? ''
    expect(error.split('\n')[0]).toBe(`The deploy failed in 2 of 2 regions: ${HOME}, ${OTHER}.`)
    expect(error).toContain(
      `[${OTHER}] The image was not pushed to ${HOME}, the first region, so there is nothing to copy here:`
    )
    expect(mocksOf(w, 1).cfn.commandCalls(CreateChangeSetCommand)).toEqual([])
    expect(registryOf(w, 1).requests).toEqual([])
  })
})

describe('every check in every region before the first write in any', () => {
  it('reports every region that fails preflight, one line each, and writes nowhere', async () => {
    const w = await world([HOME, OTHER, THIRD])
    mocksOf(w, 1).s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-west-1' })
    mocksOf(w, 2)
      .cfn.on(DescribeStacksCommand, { StackName: STACK })
      .resolves({
        Stacks: [
          {
            StackName: STACK,
            StackStatus: 'UPDATE_ROLLBACK_FAILED',
            CreationTime: new Date()
          }
        ]
      })
    await fanOut(w)

    expect(failure()).toBe(
      [
        `[${OTHER}] Input 'bucket': S3 bucket 'artifacts-${OTHER}' is in eu-west-1, but the stack deploys to ${OTHER}; CloudFormation needs the template in the same region: use a bucket in ${OTHER}, or set 'region' to eu-west-1.`,
        `[${THIRD}] Stack ${STACK} is in UPDATE_ROLLBACK_FAILED and cannot be updated. The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run \`aws cloudformation continue-update-rollback --stack-name <stack>\` (optionally with --resources-to-skip) before deploying again.`
      ].join('\n')
    )
    expect(commands()).toEqual(['version'])
    for (const i of [0, 1, 2]) expect(writesIn(mocksOf(w, i))).toEqual([])
    expect(readOutputs()).toEqual({})
  })

  it('refuses a repository missing in one region after the build, before the push', async () => {
    const w = await world([HOME, OTHER])
    mocksOf(w, 1)
      .ecr.on(DescribeRepositoriesCommand)
      .rejects(awsError('RepositoryNotFoundException', 'none'))
    const fake = await fanOut(w)

    expect(failure()).toBe(
      `[${OTHER}] ECR repository 'hello-service' (from label io.sparta.ecr-name) does not exist in account ${ACCOUNT}, ${OTHER}: create it, or set 'create-repository: true'.`
    )
    expect(fake.callsOf('push')).toEqual([])
    expect(fake.callsOf('login')).toEqual([])
    for (const i of [0, 1]) expect(writesIn(mocksOf(w, i))).toEqual([])
    for (const i of [0, 1]) expect(registryOf(w, i).requests).toEqual([])
  })

  it('creates the missing repository when asked, in that region only', async () => {
    const w = await world([HOME, OTHER])
    mocksOf(w, 1)
      .ecr.on(DescribeRepositoriesCommand)
      .rejects(awsError('RepositoryNotFoundException', 'none'))
    await fanOut(w, { 'create-repository': 'true' })

    expect(failure()).toBeUndefined()
    expect(writesIn(mocksOf(w, 0))).not.toContain('CreateRepositoryCommand')
    expect(writesIn(mocksOf(w, 1))).toContain('CreateRepositoryCommand')
  })
})

describe('other modes with regions', () => {
  it('review creates a change set in each region (express in each) and executes none', async () => {
    const w = await world([HOME, OTHER])
    await fanOut(w, { mode: 'review', express: 'true' })

    expect(failure()).toBeUndefined()
    for (const i of [0, 1]) {
      const created = mocksOf(w, i).cfn.commandCalls(CreateChangeSetCommand)
      expect(created.map((c) => c.args[0].input.DeploymentConfig)).toEqual([
        { Mode: 'EXPRESS', DisableRollback: false }
      ])
      expect(mocksOf(w, i).cfn.commandCalls(ExecuteChangeSetCommand)).toEqual([])
    }
    expect(Object.keys(JSON.parse(readOutputs()['deployments'] ?? '{}') as object)).toEqual([
      HOME,
      OTHER
    ])
  })

  it('noop checks every region and says what it would do in each, writing nothing', async () => {
    const w = await world([HOME, OTHER])
    const fake = await fanOut(w, { mode: 'noop' })

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('push')).toEqual([])
    for (const i of [0, 1]) expect(writesIn(mocksOf(w, i))).toEqual([])
    const lines = harness.stdout.lines()
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^\\[${OTHER}\\] noop: would copy the image to ${ACCOUNT}\\.dkr\\.ecr\\.${OTHER}\\.amazonaws\\.com/hello-service:${BUILD_ID}, upload the template to https://artifacts-${OTHER}\\.s3\\.${OTHER}\\.amazonaws\\.com/.* and deploy stack ${STACK} \\(new\\); nothing was changed\\.$`
        )
      )
    )
    expect(readOutputs()['deployments']).toBeUndefined()
    expect(warnings()).toEqual([])
  })

  it('one bucket for several regions is refused before anything', async () => {
    const w = await world([HOME, OTHER])
    const clients = jest.fn()
    setInputs({ region: '', regions: `${HOME},${OTHER}`, bucket: 'artifacts' })
    useDocker()
    await runAction({ clients: clients as never })

    expect(failure()).toBe(
      "Input 'bucket' ('artifacts') names one bucket, but 'regions' lists 2 regions and a bucket is in one region (CloudFormation reads the template from the stack's region): put {region} in the name, e.g. 'artifacts-{region}', with one bucket per region."
    )
    expect(clients).not.toHaveBeenCalled()
    expect(commands()).toEqual([])
    expect(w.regions).toHaveLength(2)
  })
})
