/**
 * The stack-only modes through run(): delete (and delete-image) and execute-change-set, no docker.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { BatchDeleteImageCommand } from '@aws-sdk/client-ecr'
import { htmlProblems } from '../../__fixtures__/html-check.js'
import {
  ACCOUNT,
  BUILD_ID,
  cfn,
  CHANGE_SET_ID,
  createdStack,
  ecr,
  failure,
  FUNCTION_CHANGE,
  harness,
  IMAGE_URI,
  installRunHarness,
  readOutputs,
  REGION,
  runAction,
  s3,
  setOnlyInputs,
  STACK,
  STACK_ID,
  sts,
  summary,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'
import {
  FUNCTION_CHANGE_OUTPUTS,
  NO_ARTIFACT_OUTPUTS,
  OLD_DIGEST,
  OLD_PINNED,
  readyChangeSet,
  STACK_OUTPUT_VALUES
} from '../../__fixtures__/run-scenarios.js'

installRunHarness()

describe('delete mode', () => {
  const DELETE_INPUTS = { mode: 'delete', 'stack-name': STACK, region: REGION }

  /** The stack as found, then DELETE_IN_PROGRESS and DELETE_COMPLETE by id; `order` logs the calls. */
  function mockDelete(stack: Stack, order: string[] = []): void {
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [stack] })
    const statuses = ['DELETE_IN_PROGRESS', 'DELETE_COMPLETE'] as const
    let polls = 0
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).callsFake(() => {
      const status = statuses[Math.min(polls++, statuses.length - 1)]
      order.push(`DescribeStacks ${status}`)
      return { Stacks: [{ ...stack, StackStatus: status }] }
    })
    cfn.on(DeleteStackCommand).callsFake(() => {
      order.push('DeleteStack')
      return {}
    })
    cfn
      .on(DescribeStackEventsCommand)
      .resolvesOnce({ StackEvents: [] })
      .resolves({
        StackEvents: [
          {
            EventId: 'd1',
            StackId: STACK_ID,
            StackName: STACK,
            LogicalResourceId: 'HelloFunction',
            ResourceType: 'AWS::Lambda::Function',
            ResourceStatus: 'DELETE_COMPLETE',
            Timestamp: new Date('2024-05-02T09:30:00Z')
          }
        ]
      })
    ecr.on(BatchDeleteImageCommand).callsFake((input: { imageIds: unknown[] }) => {
      order.push('BatchDeleteImage')
      return { imageIds: input.imageIds, failures: [] }
    })
  }

  /** A delete with delete-image on, of a stack whose CodeImageURI is `image`. */
  function deleteStackAndImage(image: string, order?: string[]): void {
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    mockDelete(
      createdStack({ Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: image }] }),
      order
    )
  }

  it('deletes the stack and waits until it is gone, without any docker call', async () => {
    setOnlyInputs(DELETE_INPUTS)
    mockDelete(createdStack())
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(fake.calls()).toEqual([])
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK_ID, ClientRequestToken: expect.stringMatching(/^oci-delete-[\w-]+$/) }
    ])
    expect(cfn.commandCalls(DescribeStacksCommand, { StackName: STACK_ID })).toHaveLength(2)
    for (const mock of [sts, ecr, s3]) expect(mock.calls()).toHaveLength(0)
    expect(readOutputs()).toEqual({
      ...NO_ARTIFACT_OUTPUTS,
      'stack-id': STACK_ID,
      'stack-status': 'DELETE_COMPLETE',
      'change-set-id': '',
      outputs: '{}'
    })
    const lines = harness.stdout.lines()
    expect(lines).toContain('09:30:00 HelloFunction AWS::Lambda::Function DELETE_COMPLETE')
    expect(lines).toContain(`Deleted ${STACK}: DELETE_COMPLETE`)
    expect(lines).toContain('Image: kept in ECR (delete-image is off).')
    expect(summary()).toContain(`<h2>Deleted ${STACK}: DELETE_COMPLETE</h2>`)
  })

  it('succeeds with DOES_NOT_EXIST when there is no stack to delete', async () => {
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0)
    expect(ecr.calls()).toHaveLength(0)
    expect(readOutputs()).toMatchObject({ 'stack-id': '', 'stack-status': 'DOES_NOT_EXIST' })
    const said = `Stack ${STACK} does not exist: nothing to delete.`
    expect(harness.stdout.lines().filter((line) => line === said)).toEqual([said])
    expect(harness.stdout.lines()).toContain(`Stack ${STACK} did not exist: nothing to delete`)
    expect(summary()).toContain(`<h2>Stack ${STACK} did not exist: nothing to delete</h2>`)
    expect(warnings()).toEqual([])
  })

  it('refuses a termination-protected stack and keeps its image', async () => {
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    mockDelete(
      createdStack({
        EnableTerminationProtection: true,
        Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI }]
      })
    )
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `Stack ${STACK} has termination protection enabled, so it was not deleted. Turn it off first: \`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${STACK}\` (or in the console: Stack actions → Edit termination protection).`
    )
    expect(process.exitCode).toBe(1)
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0)
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0)
  })

  it("delete-image: deletes the tag the stack's CodeImageURI names, after the stack is gone", async () => {
    const order: string[] = []
    deleteStackAndImage(IMAGE_URI, order)
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(BatchDeleteImageCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'hello-service', imageIds: [{ imageTag: BUILD_ID }], registryId: ACCOUNT }
    ])
    expect(order).toEqual([
      'DeleteStack',
      'DescribeStacks DELETE_IN_PROGRESS',
      'DescribeStacks DELETE_COMPLETE',
      'BatchDeleteImage'
    ])
    expect(fake.calls()).toEqual([])
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
    expect(harness.stdout.lines()).toContain(`Image: deleted ${IMAGE_URI} from ECR.`)
  })

  it('delete-image: deletes by digest when the stack ran a digest-pinned URI', async () => {
    deleteStackAndImage(OLD_PINNED)
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(BatchDeleteImageCommand).map((c) => c.args[0].input)).toEqual([
      {
        repositoryName: 'hello-service',
        imageIds: [{ imageDigest: OLD_DIGEST }],
        registryId: ACCOUNT
      }
    ])
    expect(readOutputs()['image-uri']).toBe(OLD_PINNED)
    expect(harness.stdout.lines()).toContain(`Image: deleted ${OLD_PINNED} from ECR.`)
  })

  it('delete-image: says so when the image was not in ECR any more, and outputs no image-uri', async () => {
    deleteStackAndImage(IMAGE_URI)
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [],
      failures: [
        { imageId: { imageTag: BUILD_ID }, failureCode: 'ImageNotFound', failureReason: 'gone' }
      ]
    })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(warnings()).toEqual([])
    expect(readOutputs()['image-uri']).toBe('')
    expect(harness.stdout.lines()).toContain(
      `Image: ${IMAGE_URI} was not in ECR (deleted already?); nothing to delete.`
    )
    expect(summary()).toContain(
      `<tr><td>Image</td><td>not found in ECR (already deleted?): <code>${IMAGE_URI}</code></td></tr>`
    )
  })

  it('delete-image: keeps the image with a warning when ECR refuses to delete it', async () => {
    deleteStackAndImage(IMAGE_URI)
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [],
      failures: [
        {
          imageId: { imageTag: BUILD_ID },
          failureCode: 'ImageReferencedByManifestList',
          failureReason: 'in use by an index'
        }
      ]
    })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(warnings()).toEqual([
      `Could not delete image hello-service {"imageTag":"${BUILD_ID}"}: in use by an index`
    ])
    expect(readOutputs()['image-uri']).toBe('')
    expect(harness.stdout.lines()).toContain(
      `Image: kept ${IMAGE_URI} (the delete failed; see the warning above).`
    )
    expect(summary()).toContain(`<tr><td>Image</td><td>kept <code>${IMAGE_URI}</code></td></tr>`)
  })

  it('a delete that fails writes a failure summary naming the resource that stayed, and keeps the image', async () => {
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    const stack = createdStack({
      Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI }]
    })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [stack] })
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolves({ Stacks: [{ ...stack, StackStatus: 'DELETE_FAILED' }] })
    cfn
      .on(DescribeStackEventsCommand)
      .resolvesOnce({ StackEvents: [] })
      .resolves({
        StackEvents: [
          {
            EventId: 'f1',
            StackId: STACK_ID,
            StackName: STACK,
            LogicalResourceId: 'Assets',
            ResourceType: 'AWS::S3::Bucket',
            ResourceStatus: 'DELETE_FAILED',
            ResourceStatusReason: 'The bucket you tried to delete is not empty',
            Timestamp: new Date('2024-05-02T09:30:00Z')
          }
        ]
      })
    useDocker()
    await runAction()

    expect(failure()).toMatch(new RegExp(`^Deleting stack ${STACK} ended in DELETE_FAILED\n`))
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0)
    const html = summary()
    expect(htmlProblems(html)).toEqual([])
    expect(html).toContain(`<h2>Delete of ${STACK} failed: Delete stack</h2>`)
    expect(html).toContain('<tr><td>Stack status now</td><td>DELETE_FAILED</td></tr>')
    expect(html).toContain(
      '<tr><td>Assets</td><td>AWS::S3::Bucket</td><td>DELETE_FAILED</td><td>The bucket you tried to delete is not empty</td></tr>'
    )
  })

  it('delete-image: leaves an image in another region or registry alone, with a warning', async () => {
    const foreign = 'public.ecr.aws/acme/hello-service:v1'
    deleteStackAndImage(foreign)
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1)
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0)
    expect(warnings()).toContain(
      `delete-image: ${foreign} is not in a private ECR registry of ${REGION}; no image is deleted.`
    )
  })
})

describe('execute-change-set', () => {
  const EXECUTE_INPUTS = {
    'stack-name': STACK,
    region: REGION,
    'execute-change-set': CHANGE_SET_ID
  }

  function mockReviewedChangeSet(overrides: Partial<DescribeChangeSetCommandOutput> = {}): void {
    cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID })
      .resolves(readyChangeSet({ Changes: [FUNCTION_CHANGE], ...overrides }))
  }

  it('executes the reviewed change set by ARN and waits for the stack, without docker', async () => {
    setOnlyInputs(EXECUTE_INPUTS)
    mockReviewedChangeSet()
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolvesOnce({ Stacks: [createdStack({ StackStatus: 'UPDATE_IN_PROGRESS' })] })
      .resolves({ Stacks: [createdStack({ StackStatus: 'UPDATE_COMPLETE' })] })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.calls()).toEqual([])
    expect(cfn.commandCalls(DescribeChangeSetCommand)[0]?.args[0].input).toEqual({
      ChangeSetName: CHANGE_SET_ID
    })
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      {
        ChangeSetName: CHANGE_SET_ID,
        StackName: STACK_ID,
        ClientRequestToken: expect.stringMatching(/^oci-execute-[\w-]+$/)
      }
    ])
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    for (const mock of [sts, ecr, s3]) expect(mock.calls()).toHaveLength(0)
    expect(readOutputs()).toEqual({
      ...NO_ARTIFACT_OUTPUTS,
      'stack-id': STACK_ID,
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID,
      'deployment-config': 'STANDARD',
      ...FUNCTION_CHANGE_OUTPUTS,
      ...STACK_OUTPUT_VALUES
    })
    expect(harness.stdout.lines()).toContain(`Deployed ${STACK}: UPDATE_COMPLETE`)
  })

  it("fails with CloudFormation's reason when the change set went OBSOLETE", async () => {
    setOnlyInputs(EXECUTE_INPUTS)
    mockReviewedChangeSet({
      ExecutionStatus: 'OBSOLETE',
      StatusReason: 'The stack was updated after this change set was created.'
    })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBe(
      `Change set ${CHANGE_SET_ID} of stack ${STACK} cannot be executed: it is OBSOLETE (the stack changed after it was created): The stack was updated after this change set was created.. Create and review a new change set.`
    )
    expect(process.exitCode).toBe(1)
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(fake.calls()).toEqual([])
  })
})
