/**
 * The bundled action (`node dist/index.js`, as GitHub runs it) against the local world: real docker
 * builds and pushes to a real registry under the ECR host name, and deploys into moto.
 */
import { describe, expect, it } from '@jest/globals'
import { runAction } from '../../local/action-runner.mjs'
import {
  addFault,
  awsCli,
  deploy,
  describeStackCli,
  expectSuccess,
  faultLog,
  logOf,
  objectKeys,
  registryCatalog,
  registryDigest,
  root,
  stackParameter,
  useWorld,
  worldEnv
} from './world.js'

const bucket = 'integration-artifacts'
const unique = Date.now().toString(36)

useWorld(bucket, { clearFaultRules: true })

describe('deploying the example service', () => {
  const stackName = `hello-${unique}`
  /** The update's inputs; the redeploy runs them again. */
  const build2 = {
    bucket,
    'stack-name': stackName,
    'build-id': 'build-2',
    'parameter-overrides': 'Stage=prod'
  }

  it('creates the stack, pushes the image and reports every output', async () => {
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'build-1' })
    expectSuccess(run)

    const { LOCAL_REGISTRY_HOST, LOCAL_ACCOUNT_ID } = worldEnv()
    expect(run.outputs['image-uri']).toBe(`${LOCAL_REGISTRY_HOST}/spartaoci:build-1`)
    expect(run.outputs['image-digest']).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(run.outputs['build-id']).toBe('build-1')
    expect(run.outputs['stack-status']).toBe('CREATE_COMPLETE')
    expect(run.outputs['stack-id']).toContain(`:${LOCAL_ACCOUNT_ID}:stack/${stackName}/`)
    expect(run.outputs['template-url']).toBe(
      `https://${bucket}.s3.us-east-1.amazonaws.com/${stackName}/build-1/${stackName}-cftemplate.yaml`
    )
    // Stack outputs, each also its own step output.
    const outputs = JSON.parse(run.outputs['outputs'] ?? '{}') as Record<string, string>
    expect(outputs['DeployedImage']).toBe(run.outputs['image-uri-pinned'])
    expect(run.outputs['image-uri-pinned']).toBe(
      `${LOCAL_REGISTRY_HOST}/spartaoci@${run.outputs['image-digest']}`
    )
    expect(outputs['Stage']).toBe('dev')
    expect(run.outputs['FunctionName']).toBe(outputs['FunctionName'])
    expect(run.outputs['FunctionArn']).toContain(':function:')

    // The registry holds the manifest under the reported digest.
    expect(await registryDigest('spartaoci', 'build-1')).toBe(run.outputs['image-digest'])
    // moto's stack received the reported image URI and the build id tag.
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
    expect(describeStackCli(stackName).Tags).toContainEqual({
      Key: 'io:sparta:buildId',
      Value: 'build-1'
    })
    // The summary a person reads.
    expect(run.summary).toContain(`Deployed ${stackName}: CREATE_COMPLETE`)
    expect(run.summary).toContain('AWS::Lambda::Function')
    expect(run.summary).toContain('DeployedImage')
    // The SDK's "move to Node 22" notice is about action.yml's runtime, not the user's to act on.
    expect(run.stderr).not.toContain('NodeVersionSupportWarning')
  })

  it('updates the stack with a new build id: new tag, new template key, new function image', async () => {
    const run = await deploy(build2)
    expectSuccess(run)
    expect(run.outputs['image-uri']).toMatch(/\/spartaoci:build-2$/)
    expect(run.outputs['template-url']).toContain(`/${stackName}/build-2/`)
    expect(run.outputs['stack-status']).toBe('UPDATE_COMPLETE')
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
    expect(stackParameter(stackName, 'Stage')).toBe('prod')

    const functionName = run.outputs['FunctionName'] as string
    const fn = awsCli(['lambda', 'get-function', '--function-name', functionName]) as {
      Code: { ImageUri: string }
    }
    expect(fn.Code.ImageUri).toBe(run.outputs['image-uri-pinned'])
    expect(await registryDigest('spartaoci', 'build-2')).toBe(run.outputs['image-digest'])
    // Both templates are kept: the older deploy's object was not overwritten.
    expect(objectKeys(bucket, `${stackName}/`).sort()).toEqual([
      `${stackName}/build-1/${stackName}-cftemplate.yaml`,
      `${stackName}/build-2/${stackName}-cftemplate.yaml`
    ])
  })

  it('redeploys the same build with nothing changed as a success without a stack update', async () => {
    const before = describeStackCli(stackName)
    const run = await deploy(build2)
    expectSuccess(run)
    expect(logOf(run)).toContain(`No changes: stack ${stackName} already matches`)
    // The registry already held this exact image under the tag: no push at all.
    expect(logOf(run)).toContain(`${run.outputs['image-uri']} already holds this image`)
    expect(logOf(run)).not.toContain('[command]docker push')
    expect(run.outputs['stack-status']).toBe(before.StackStatus)
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
  })
})

describe('refusing to push', () => {
  it('fails on an image without the label and pushes nothing', async () => {
    const before = await registryCatalog()
    const stackName = `nolabel-${unique}`
    const run = await deploy({
      dockerfile: '__fixtures__/services/no-label/Dockerfile',
      bucket,
      'stack-name': stackName,
      'build-id': 'nolabel-1'
    })
    expect(run.exitCode).toBe(1)
    expect(logOf(run)).toContain(
      "::error::The built image has no 'io.sparta.ecr-name' label, so there is no ECR repository to push to"
    )
    expect(await registryCatalog()).toEqual(before)
    expect(() => describeStackCli(stackName)).toThrow()
  })

  it('fails on a missing repository without create-repository, then creates it when asked', async () => {
    const repository = `missing-${unique}`
    const stackName = `missingrepo-${unique}`
    const common = {
      dockerfile: '__fixtures__/services/other-repo/Dockerfile',
      bucket,
      'stack-name': stackName,
      'build-id': 'repo-1',
      'build-args': `REPOSITORY=${repository}`
    }
    const refused = await deploy({ ...common, 'create-repository': 'false' })
    expect(refused.exitCode).toBe(1)
    expect(logOf(refused)).toContain(
      `::error::ECR repository '${repository}' (from label io.sparta.ecr-name) does not exist`
    )
    expect(logOf(refused)).toContain("set 'create-repository: true'")
    expect(await registryCatalog()).not.toContain(repository)

    const created = await deploy({ ...common, 'create-repository': 'true' })
    expectSuccess(created)
    const repositories = awsCli(['ecr', 'describe-repositories']) as {
      repositories: Array<{ repositoryName: string }>
    }
    expect(repositories.repositories.map((r) => r.repositoryName)).toContain(repository)
    expect(await registryDigest(repository, 'repo-1')).toBe(created.outputs['image-digest'])
  })
})

describe('surviving faults', () => {
  it('retries throttled and failing AWS calls and still deploys', async () => {
    await addFault({ operation: 'DescribeStacks', error: 'throttle', times: 2 })
    await addFault({ operation: 'CreateChangeSet', error: '5xx', status: 500, times: 1 })
    await addFault({ operation: 'PutObject', error: '5xx', status: 503, times: 1 })
    const stackName = `faulty-${unique}`
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'faulty-1' })
    expectSuccess(run)
    expect(run.outputs['stack-status']).toBe('CREATE_COMPLETE')

    const log = await faultLog()
    const hits = (operation: string) => log.filter((entry) => entry.operation === operation)
    // Each fault was served, and the call was made again after it.
    for (const [operation, faults] of [
      ['DescribeStacks', 2],
      ['CreateChangeSet', 1],
      ['PutObject', 1]
    ] as const) {
      expect(hits(operation).filter((entry) => entry.rule).length).toBe(faults)
      expect(hits(operation).length).toBeGreaterThan(faults)
    }
  })

  it('cancels the update it started when the workflow is cancelled (SIGTERM)', async () => {
    const stackName = `cancel-${unique}`
    const first = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'cancel-1' })
    expect(first.exitCode).toBe(0)

    // CloudFormation's operation time: the update shows UPDATE_IN_PROGRESS for a minute after
    // ExecuteChangeSet; the runner cancels the job two seconds into the wait.
    await addFault({
      holdStatus: { stackName, status: 'UPDATE_IN_PROGRESS', seconds: 60, startOn: 'execute' }
    })
    const started = Date.now()
    const run = await runAction(
      root,
      {
        dockerfile: 'examples/hello/Dockerfile',
        binary: 'bootstrap',
        template: 'examples/hello/template.yaml',
        bucket,
        'stack-name': stackName,
        'build-id': 'cancel-2'
      },
      { signal: { pattern: /Executing change set/, delayMs: 2000, name: 'SIGTERM' } }
    )
    expect(run.exitCode).toBe(1)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(logOf(run)).toContain('::warning::Received SIGTERM: the workflow was cancelled.')
    // moto 5.2.1 has no CancelUpdateStack (it answers 500, which the SDK retries): what counts
    // here is that the action asked for it before exiting.
    const cancels = (await faultLog()).filter((entry) => entry.operation === 'CancelUpdateStack')
    expect(cancels.length).toBeGreaterThanOrEqual(1)
    expect(logOf(run)).toMatch(
      /::warning::Could not cancel the update of arn:aws:cloudformation:[^ ]+:stack\/cancel-/
    )
  })

  it('waits for a stack busy with another operation, then deploys', async () => {
    const stackName = `busy-${unique}`
    const first = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'busy-1' })
    expect(first.exitCode).toBe(0)

    // Long enough to outlast the build on a loaded 2-core machine: the hold must still be on when the
    // action reaches the change set.
    await addFault({ holdStatus: { stackName, status: 'UPDATE_IN_PROGRESS', seconds: 8 } })
    const started = Date.now()
    const run = await deploy({ bucket, 'stack-name': stackName, 'build-id': 'busy-2' })
    expectSuccess(run)
    expect(logOf(run)).toContain(
      `Stack ${stackName} is busy (UPDATE_IN_PROGRESS); waiting for that operation to finish first.`
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
    expect(run.outputs['stack-status']).toBe('UPDATE_COMPLETE')
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(run.outputs['image-uri-pinned'])
  })
})
