/**
 * Release pipelines against the local world (two accounts, two regions, a registry for each account
 * and region): a build deployed to staging, then its digest promoted (input `image`, no docker)
 * within the registry, to another region and to another account, and deploys fanned out to two
 * regions (input `regions`), one of them failing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createBucket,
  credentialsEnv,
  runAction,
  type ActionRun,
  type Credentials
} from '../../local/action-runner.mjs'
import {
  accountBCredentials,
  addFault,
  clearFaults,
  deploy,
  describeStackCli,
  dockerTrap,
  expectSuccess,
  logOf,
  registryHasBlob,
  registryLogOffset,
  registryManifest,
  registryOf,
  registryRequestsSince,
  root,
  stackParameter,
  uploadCounts,
  worldEnv,
  worldNames,
  type ServedManifest,
  type WorldRegistry
} from './world.js'

const unique = Date.now().toString(36)
const template = 'examples/hello/template.yaml'
/** The repository examples/hello's Dockerfile names (label io.sparta.ecr-name). */
const repository = 'spartaoci'

/** One region's entry of the `deployments` output. */
interface Deployment {
  stackId: string
  stackStatus: string
  imageUri: string
  imageUriPinned: string
  imageDigest: string
  outputs: Record<string, string>
  error?: string
}

/** What the copy reported: "… N blob(s) already there, N mounted, N copied (N bytes uploaded) …". */
interface CopyStats {
  present: number
  mounted: number
  copied: number
  bytes: number
}

let names: ReturnType<typeof worldNames>
let accountB: Credentials
/** The staging deploy everything is promoted from (account A, region 1). */
let staging: ActionRun
let source: ServedManifest
let sourceRegistry: WorldRegistry

const bucketA = (region: string): string => `release-${unique}-${region}`
const bucketB = (region: string): string => `release-b-${unique}-${region}`

function deploymentsOf(run: ActionRun): Record<string, Deployment> {
  const text = run.outputs['deployments']
  if (text === undefined) throw new Error(`no deployments output:\n${logOf(run)}`)
  return JSON.parse(text) as Record<string, Deployment>
}

/** The copy statistics the action logged for its copy into `host`. */
function copyStats(run: ActionRun, host: string): CopyStats {
  const line = run.stdout
    .split('\n')
    .find((l) => l.includes('Copied ') && l.includes(` to ${host}/`))
  const match =
    /(\d+) blob\(s\) already there, (\d+) mounted, (\d+) copied \((\d+) bytes uploaded\)/.exec(
      line ?? ''
    )
  if (match === null) throw new Error(`no copy into ${host} in the log:\n${run.stdout}`)
  const [present, mounted, copied, bytes] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number
  ]
  return { present, mounted, copied, bytes }
}

/**
 * The target registry serves the staging image byte for byte (manifest digest and every blob),
 * and the run reports it there under the same digest.
 */
async function expectSameImage(run: ActionRun, target: WorldRegistry): Promise<void> {
  const copied = await registryManifest(target, repository, source.digest ?? '')
  expect(copied).toEqual(source)
  expect(copied?.bytesDigest).toBe(source.digest)
  for (const blob of source.blobs)
    expect(await registryHasBlob(target, repository, blob)).toBe(true)
  expect(run.outputs['image-digest']).toBe(source.digest)
  expect(run.outputs['image-uri-pinned']).toBe(`${target.host}/${repository}@${source.digest}`)
}

/** Promotes `image` (no dockerfile, so no build) with the example template, docker trapped. */
async function promote(
  image: string,
  inputs: Record<string, string>,
  options: { credentials?: Credentials; workspace?: string } = {}
): Promise<{ run: ActionRun; dockerCalls: string[] }> {
  const trap = dockerTrap()
  const run = await runAction(
    root,
    // The build id names the template's key in the bucket (a workflow's default: the commit SHA).
    { template, 'create-repository': 'true', 'build-id': `release-${unique}`, image, ...inputs },
    {
      env: {
        ...trap.env,
        ...(options.credentials ? credentialsEnv(options.credentials) : {}),
        ...(options.workspace ? { GITHUB_WORKSPACE: options.workspace } : {})
      }
    }
  )
  return { run, dockerCalls: trap.calls() }
}

/**
 * The rows of the summary's Regions table, cell text by column header (the Stack column left
 * out: its ARN is checked against moto elsewhere).
 */
function regionRows(summary: string): Array<Record<string, string>> {
  const table = /<h3>Regions<\/h3>\s*<table>([\s\S]*?)<\/table>/.exec(summary)?.[1]
  if (table === undefined) throw new Error(`no Regions table in the summary:\n${summary}`)
  const cells = (row: string, tag: string): string[] =>
    [...row.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) =>
      (m[1] ?? '').replace(/<[^>]+>/g, '').trim()
    )
  const [head = '', ...rows] = table.split('<tr>').filter(Boolean)
  const headers = cells(head, 'th')
  return rows.map((row) => {
    const values = cells(row, 'td')
    return Object.fromEntries(
      headers.flatMap((h, i) => (h === 'Stack' ? [] : [[h, values[i] ?? '']]))
    )
  })
}

beforeAll(async () => {
  worldEnv()
  names = worldNames()
  accountB = await accountBCredentials()
  for (const region of [names.region1, names.region2]) {
    await createBucket(bucketA(region), { region })
    await createBucket(bucketB(region), { region, credentials: accountB })
  }
  staging = await deploy({
    bucket: bucketA(names.region1),
    'stack-name': `release-staging-${unique}`,
    'build-id': `release-${unique}`
  })
  expectSuccess(staging)
  sourceRegistry = registryOf(names.a, names.region1)
  const served = await registryManifest(sourceRegistry, repository, `release-${unique}`)
  if (served === null) throw new Error('the staging build is not in the registry')
  source = served
})

beforeEach(async () => {
  await clearFaults()
})

describe('promoting a tested digest', () => {
  it('deploys a new stack from the staging digest within one registry, without docker', async () => {
    const pinned = staging.outputs['image-uri-pinned'] ?? ''
    expect(pinned).toBe(`${sourceRegistry.host}/${repository}@${source.digest}`)
    const offset = registryLogOffset(sourceRegistry)
    const stackName = `release-same-${unique}`

    const { run, dockerCalls } = await promote(pinned, {
      bucket: bucketA(names.region1),
      'stack-name': stackName
    })

    expectSuccess(run)
    expect(dockerCalls).toEqual([])
    expect(run.outputs['image-digest']).toBe(staging.outputs['image-digest'])
    expect(run.outputs['image-uri-pinned']).toBe(pinned)
    expect(run.outputs['stack-status']).toBe('CREATE_COMPLETE')
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(pinned)
    // Nothing to copy: no blob uploaded, no manifest put.
    expect(uploadCounts(registryRequestsSince(sourceRegistry, offset))).toEqual({
      blobUploads: 0,
      blobMounts: 0,
      manifestPuts: 0
    })
  })

  it('resolves a tag once, then deploys by digest', async () => {
    const stackName = `release-tag-${unique}`
    const { run, dockerCalls } = await promote(
      `${sourceRegistry.host}/${repository}:release-${unique}`,
      { bucket: bucketA(names.region1), 'stack-name': stackName }
    )

    expectSuccess(run)
    expect(dockerCalls).toEqual([])
    expect(run.outputs['image-digest']).toBe(source.digest)
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(
      `${sourceRegistry.host}/${repository}@${source.digest}`
    )
  })

  it('mounts every blob into another repository of the same registry, uploading none', async () => {
    const target = `spartaoci-prod-${unique}`
    const offset = registryLogOffset(sourceRegistry)
    const stackName = `release-repo-${unique}`

    const { run, dockerCalls } = await promote(staging.outputs['image-uri-pinned'] ?? '', {
      bucket: bucketA(names.region1),
      repository: target,
      'stack-name': stackName
    })

    expectSuccess(run)
    expect(dockerCalls).toEqual([])
    const copied = await registryManifest(sourceRegistry, target, source.digest ?? '')
    expect(copied).toEqual(source)
    expect(run.outputs['image-uri-pinned']).toBe(
      `${sourceRegistry.host}/${target}@${source.digest}`
    )
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
    expect(copyStats(run, sourceRegistry.host)).toEqual({
      present: 0,
      mounted: source.blobs.length,
      copied: 0,
      bytes: 0
    })
    expect(uploadCounts(registryRequestsSince(sourceRegistry, offset))).toEqual({
      blobUploads: 0,
      blobMounts: source.blobs.length,
      manifestPuts: 1
    })
  })

  it("in express mode under CloudFormation's timing, makes the change set while the image is copied", async () => {
    await addFault({ timing: { changeSet: 2, configure: 1, stabilise: 30 } })
    const stackName = `release-express-${unique}`
    const { run } = await promote(staging.outputs['image-uri-pinned'] ?? '', {
      bucket: bucketA(names.region1),
      repository: `spartaoci-express-${unique}`,
      'stack-name': stackName,
      express: 'true'
    })

    expectSuccess(run)
    const log = logOf(run).split('\n')
    const at = (text: string) => log.findIndex((line) => line.includes(text))
    expect(
      at(`Digest ${source.digest ?? ''} is known before the image is in place`)
    ).toBeGreaterThan(-1)
    expect(at('Image in place after')).toBeLessThan(at('Executing change set'))
    expect(at(`for stack ${stackName} in express mode`)).toBeGreaterThan(-1)
    expect(at('Deployed with CloudFormation express mode')).toBeGreaterThan(-1)
    expect(run.outputs['deployment-config']).toBe('EXPRESS')
    expect(run.outputs['stack-status']).toBe('CREATE_COMPLETE')
    // Express skips T3 (30 s here): the step ends long before a standard deploy would.
    expect(run.timing.exitedAt - run.timing.spawnedAt).toBeLessThan(20_000)
  })

  it('copies the image to the other region: same manifest bytes, every blob, nothing twice', async () => {
    const target = registryOf(names.a, names.region2)
    const offset = registryLogOffset(target)
    const stackName = `release-region-${unique}`
    // Blobs other runs of the suite (a stack set's copy of the same layer) may have left there.
    const held = await Promise.all(
      source.blobs.map((blob) => registryHasBlob(target, repository, blob))
    )
    const missing = source.blobs.filter((_, i) => !held[i])

    const { run, dockerCalls } = await promote(staging.outputs['image-uri-pinned'] ?? '', {
      bucket: bucketA(names.region2),
      regions: names.region2,
      'stack-name': stackName
    })

    expectSuccess(run)
    expect(dockerCalls).toEqual([])
    await expectSameImage(run, target)
    expect(stackParameter(stackName, 'CodeImageURI', { region: names.region2 })).toBe(
      run.outputs['image-uri-pinned']
    )
    // Every blob the region's repository lacked went over once, measured at the registry too;
    // none it held was sent again.
    const total = source.sizes.reduce((sum, size, i) => sum + (held[i] ? 0 : size), 0)
    expect(missing.length).toBeGreaterThan(0)
    expect(copyStats(run, target.host)).toEqual({
      present: source.blobs.length - missing.length,
      mounted: 0,
      copied: missing.length,
      bytes: total
    })
    expect(uploadCounts(registryRequestsSince(target, offset))).toEqual({
      blobUploads: missing.length,
      blobMounts: 0,
      manifestPuts: 1
    })

    // Promoted again (another stack): the target already holds every blob, none is uploaded.
    const again = registryLogOffset(target)
    const second = await promote(staging.outputs['image-uri-pinned'] ?? '', {
      bucket: bucketA(names.region2),
      regions: names.region2,
      'stack-name': `release-region-again-${unique}`
    })
    expectSuccess(second.run)
    expect(uploadCounts(registryRequestsSince(target, again)).blobUploads).toBe(0)
    expect(copyStats(second.run, target.host)).toMatchObject({
      present: source.blobs.length,
      copied: 0,
      bytes: 0
    })
  })

  it('copies the image to another account, deploying with that account’s credentials', async () => {
    const target = registryOf(names.b, names.region1)
    const offset = registryLogOffset(target)
    const stackName = `release-account-${unique}`

    const { run, dockerCalls } = await promote(
      staging.outputs['image-uri-pinned'] ?? '',
      { bucket: bucketB(names.region1), 'stack-name': stackName },
      { credentials: accountB }
    )

    expectSuccess(run)
    expect(dockerCalls).toEqual([])
    await expectSameImage(run, target)
    expect(copyStats(run, target.host)).toMatchObject({ copied: source.blobs.length })
    expect(uploadCounts(registryRequestsSince(target, offset))).toEqual({
      blobUploads: source.blobs.length,
      blobMounts: 0,
      manifestPuts: 1
    })
    // The stack is account B's, and account A has none of that name.
    const stack = describeStackCli(stackName, { credentials: accountB })
    expect(stack.StackStatus).toBe('CREATE_COMPLETE')
    expect(stack.StackId).toContain(`:${names.b}:stack/${stackName}/`)
    expect(run.outputs['stack-id']).toBe(stack.StackId)
    expect(() => describeStackCli(stackName)).toThrow()
  })
})

describe('fanning out to two regions', () => {
  it('builds once and deploys a stack in each region, reporting both', async () => {
    const stackName = `release-fan-${unique}`
    const second = registryOf(names.a, names.region2)

    const run = await deploy({
      bucket: `release-${unique}-{region}`,
      regions: `${names.region1},${names.region2}`,
      'stack-name': stackName,
      'build-id': `fan-${unique}`
    })

    expectSuccess(run)
    const digest = run.outputs['image-digest'] ?? ''
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    const deployments = deploymentsOf(run)
    expect(Object.keys(deployments).sort()).toEqual([names.region1, names.region2].sort())
    for (const region of [names.region1, names.region2]) {
      const host = registryOf(names.a, region).host
      const stack = describeStackCli(stackName, { region })
      expect(deployments[region]).toEqual({
        stackId: stack.StackId,
        stackStatus: 'CREATE_COMPLETE',
        imageUri: `${host}/${repository}:fan-${unique}`,
        imageUriPinned: `${host}/${repository}@${digest}`,
        imageDigest: digest,
        outputs: expect.objectContaining({ DeployedImage: `${host}/${repository}@${digest}` })
      })
      expect(stack.StackStatus).toBe('CREATE_COMPLETE')
      expect(stack.StackId).toContain(`:cloudformation:${region}:${names.a}:stack/${stackName}/`)
    }
    // The single-region outputs are the first region's.
    expect(run.outputs['stack-id']).toBe(deployments[names.region1]?.stackId)
    expect(run.outputs['image-uri-pinned']).toBe(deployments[names.region1]?.imageUriPinned)
    // The second region's registry serves the very digest that was pushed to the first.
    const first = await registryManifest(sourceRegistry, repository, digest)
    expect(await registryManifest(second, repository, digest)).toEqual(first)
    expect(regionRows(run.summary)).toEqual(
      [names.region1, names.region2].map((region) => ({
        Region: region,
        Account: names.a,
        Status: 'CREATE_COMPLETE',
        Digest: digest,
        Error: '-'
      }))
    )
  })

  describe('when one region fails after the deploy started', () => {
    let workspace: string
    const takenBucket = `release-taken-${unique}`

    beforeAll(async () => {
      // A template whose bucket name is taken in the second region only: CloudFormation creates the
      // first region's stack and rolls the second back (BucketAlreadyExists), as AWS does when a
      // named resource exists.
      workspace = mkdtempSync(join(tmpdir(), 'release-fail-'))
      writeFileSync(
        join(workspace, 'template.yaml'),
        [
          'AWSTemplateFormatVersion: "2010-09-09"',
          'Parameters:',
          '  CodeImageURI: { Type: String }',
          'Resources:',
          '  FunctionRole:',
          '    Type: AWS::IAM::Role',
          '    Properties:',
          '      AssumeRolePolicyDocument:',
          '        Version: "2012-10-17"',
          '        Statement:',
          '          - { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }',
          '  Function:',
          '    Type: AWS::Lambda::Function',
          '    Properties:',
          '      PackageType: Image',
          '      Code: { ImageUri: !Ref CodeImageURI }',
          '      Role: !GetAtt FunctionRole.Arn',
          '  Assets:',
          '    Type: AWS::S3::Bucket',
          `    Properties: { BucketName: !Sub "${takenBucket}-\${AWS::Region}" }`,
          'Outputs:',
          '  DeployedImage: { Value: !Ref CodeImageURI }',
          ''
        ].join('\n')
      )
      await createBucket(`${takenBucket}-${names.region2}`, { region: names.region2 })
    })

    afterAll(() => {
      rmSync(workspace, { recursive: true, force: true })
    })

    it('finishes the healthy region, fails the step and reports both regions', async () => {
      const stackName = `release-fanfail-${unique}`

      const { run, dockerCalls } = await promote(
        staging.outputs['image-uri-pinned'] ?? '',
        {
          template: 'template.yaml',
          bucket: `release-${unique}-{region}`,
          regions: `${names.region1},${names.region2}`,
          'stack-name': stackName
        },
        { workspace }
      )

      expect(run.exitCode).toBe(1)
      expect(dockerCalls).toEqual([])
      const deployments = deploymentsOf(run)
      expect(deployments[names.region1]).toMatchObject({
        stackStatus: 'CREATE_COMPLETE',
        imageDigest: source.digest
      })
      expect(deployments[names.region1]?.error).toBeUndefined()
      expect(deployments[names.region2]).toMatchObject({ stackStatus: 'ROLLBACK_COMPLETE' })
      expect(deployments[names.region2]?.error).toContain('BucketAlreadyExists')
      expect(describeStackCli(stackName, { region: names.region1 }).StackStatus).toBe(
        'CREATE_COMPLETE'
      )
      expect(describeStackCli(stackName, { region: names.region2 }).StackStatus).toBe(
        'ROLLBACK_COMPLETE'
      )
      const error = run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? ''
      expect(error).toContain(`1 of 2 regions: ${names.region2}`)
      expect(error).toContain('BucketAlreadyExists')
      // One table in the summary, a row per region.
      expect(regionRows(run.summary)).toEqual([
        {
          Region: names.region1,
          Account: names.a,
          Status: 'CREATE_COMPLETE',
          Digest: source.digest,
          Error: '-'
        },
        {
          Region: names.region2,
          Account: names.a,
          Status: 'ROLLBACK_COMPLETE',
          Digest: source.digest,
          Error: expect.stringContaining('BucketAlreadyExists')
        }
      ])
    })
  })
})
