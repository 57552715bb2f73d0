/**
 * run() through each mode (review, noop, delete, execute-change-set, zip) and through the checks
 * that make an image Lambda-ready (architecture, manifest type, attestation flags, push skip),
 * plus the pull-request comment and the Session that cancels an update on SIGINT/SIGTERM.
 */
import { describe, expect, it, jest } from '@jest/globals'
import * as github from '@actions/github'
import {
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Parameter,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { BatchDeleteImageCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsError } from '../__fixtures__/aws.js'
import { fakeOctokit, OWNER, PR_NUMBER, REPO } from '../__fixtures__/github.js'
import {
  ACCOUNT,
  BUCKET,
  BUILD_ID,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  cfn,
  clients,
  commands,
  createdStack,
  DB_PASSWORD,
  ecr,
  failure,
  FUNCTION_ARN,
  harness,
  IMAGE_URI,
  installRunHarness,
  LOCAL_TAG,
  PINNED_URI,
  readOutputs,
  REGION,
  REGISTRY,
  runAction,
  s3,
  setInputs,
  setOnlyInputs,
  STACK,
  STACK_ID,
  sts,
  summary,
  TEMPLATE,
  TEMPLATE_KEY,
  TEMPLATE_URL,
  useDocker,
  warnings
} from '../__fixtures__/run-harness.js'
import type { ManifestReader } from '../src/deploy-flow.js'
import type { Dependencies } from '../src/main.js'
import { postPullRequestComment, type CommentContent } from '../src/pr-comment.js'
import type { ManifestInfo } from '../src/registry.js'
import { Session } from '../src/session.js'

installRunHarness()

const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const OLD_DIGEST = `sha256:${'0a'.repeat(32)}`
const OLD_PINNED = `${REGISTRY}/hello-service@${OLD_DIGEST}`
const FUNCTION_CHANGE = {
  Type: 'Resource' as const,
  ResourceChange: {
    Action: 'Add' as const,
    LogicalResourceId: 'HelloFunction',
    ResourceType: 'AWS::Lambda::Function'
  }
}
const STACK_OUTPUTS = JSON.stringify({
  FunctionArn: FUNCTION_ARN,
  DeployedImage: IMAGE_URI,
  Docs: 'https://example.com/hello'
})
/** The outputs every deploy-like run writes for the stack's outputs. */
const STACK_OUTPUT_VALUES = {
  outputs: STACK_OUTPUTS,
  FunctionArn: FUNCTION_ARN,
  DeployedImage: IMAGE_URI,
  Docs: 'https://example.com/hello'
}

/** The stack after an earlier deploy of OLD_PINNED, as DescribeStacks shows it by name and id. */
function existingStack(overrides: Partial<Stack> = {}): Stack {
  const stack = createdStack({
    StackStatus: 'UPDATE_COMPLETE',
    Parameters: [
      { ParameterKey: 'CodeImageURI', ParameterValue: OLD_PINNED },
      { ParameterKey: 'Stage', ParameterValue: 'prod' },
      { ParameterKey: 'DbPassword', ParameterValue: '****' }
    ],
    ...overrides
  })
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [stack] })
  cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({ Stacks: [stack] })
  return stack
}

/**
 * An UPDATE change set: no earlier one under the same name; DescribeChangeSet answers with the
 * parameters CreateChangeSet sent, resolved as CloudFormation shows them (previous values filled
 * in, NoEcho masked).
 */
function mockUpdateChangeSet(stack: Stack): void {
  cfn
    .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
    .rejects(
      awsError('ChangeSetNotFoundException', `ChangeSet [${CHANGE_SET_NAME}] does not exist`)
    )
  cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).callsFake(() => {
    const sent = cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Parameters ?? []
    const previous = new Map(stack.Parameters?.map((p) => [p.ParameterKey, p.ParameterValue]))
    const resolved: Parameter[] = sent.map((p) => ({
      ParameterKey: p.ParameterKey,
      ParameterValue:
        p.ParameterKey === 'DbPassword'
          ? '****'
          : p.UsePreviousValue
            ? previous.get(p.ParameterKey)
            : p.ParameterValue
    }))
    return {
      ChangeSetId: CHANGE_SET_ID,
      ChangeSetName: CHANGE_SET_NAME,
      StackId: STACK_ID,
      StackName: STACK,
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: 'AVAILABLE',
      Parameters: resolved,
      Changes: [
        {
          Type: 'Resource',
          ResourceChange: {
            Action: 'Modify',
            LogicalResourceId: 'HelloFunction',
            ResourceType: 'AWS::Lambda::Function',
            Replacement: 'False'
          }
        }
      ]
    }
  })
}

/** A ManifestReader over `answer`, recording every reference read. */
function registry(answer: (reference: string) => ManifestInfo | undefined): {
  getManifest: ManifestReader
  reads: string[]
} {
  const reads: string[] = []
  return {
    reads,
    getManifest: async (_login, repository, reference) => {
      reads.push(`${repository}:${reference}`)
      return answer(reference)
    }
  }
}

function writeTemplate(text: string): void {
  writeFileSync(join(harness.workspace, 'template.yaml'), text)
}

function createChangeSetInputs() {
  return cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input)
}

function imageParameterSent(): string | undefined {
  return createChangeSetInputs()[0]?.Parameters?.find((p) => p.ParameterKey === 'CodeImageURI')
    ?.ParameterValue
}

/** A fake `comment` dependency that records its calls. */
function fakeComment(impl: Dependencies['comment'] = async () => 'created') {
  return jest.fn<Dependencies['comment']>(impl)
}

describe('review mode', () => {
  it('pushes, uploads and creates the change set of a new stack, and does not execute it', async () => {
    setInputs({ mode: 'review' })
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolves({ Stacks: [createdStack({ StackStatus: 'REVIEW_IN_PROGRESS', Outputs: [] })] })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'image'
    ])
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      TEMPLATE_KEY
    ])
    expect(createChangeSetInputs()).toEqual([
      {
        StackName: STACK,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'CREATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
          { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
        ],
        Capabilities: ['CAPABILITY_IAM'],
        Tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'io:sparta:buildId', Value: BUILD_ID }
        ],
        Description: `oci-stack-deploy build ${BUILD_ID}`
      }
    ])
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)

    const outputs = readOutputs()
    expect(outputs).toEqual({
      'image-uri': IMAGE_URI,
      'image-digest': expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
      'image-uri-pinned': `${REGISTRY}/hello-service@${outputs['image-digest']}`,
      'build-id': BUILD_ID,
      'template-url': TEMPLATE_URL,
      'stack-id': STACK_ID,
      'stack-status': 'REVIEW_IN_PROGRESS',
      'change-set-id': CHANGE_SET_ID,
      'has-changes': 'true',
      'changes-count': '1',
      'changes-summary':
        '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
      'changes-markdown':
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |',
      outputs: '{}'
    })
    const lines = harness.stdout.lines()
    expect(lines).toContain(
      `Review mode: change set ${CHANGE_SET_NAME} is ready and was not executed. Execute it with 'execute-change-set: ${CHANGE_SET_ID}'.`
    )
    expect(lines).toContain(`Change set for ${STACK}: ready, not executed`)
    expect(summary()).toContain(`<h2>Change set for ${STACK}: ready, not executed</h2>`)
  })

  it("shows an update's image parameter change, old URI → new URI, without executing", async () => {
    setInputs({ mode: 'review' })
    mockUpdateChangeSet(existingStack())
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(createChangeSetInputs()[0]).toMatchObject({
      ChangeSetType: 'UPDATE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
        { ParameterKey: 'Stage', UsePreviousValue: true },
        { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
      ]
    })
    const outputs = readOutputs()
    const pinned = outputs['image-uri-pinned'] ?? ''
    expect(pinned).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-2\.amazonaws\.com\/hello-service@sha256:/)
    expect(pinned).not.toBe(OLD_PINNED)
    expect(harness.stdout.lines()).toContain(`  Parameter CodeImageURI: ${OLD_PINNED} → ${pinned}`)
    expect(outputs['changes-markdown']).toBe(
      [
        '| Action | Logical id | Type | Replacement |',
        '| --- | --- | --- | --- |',
        '| Modify | HelloFunction | AWS::Lambda::Function | False |',
        '',
        '| Parameter | Old value | New value |',
        '| --- | --- | --- |',
        `| CodeImageURI | ${OLD_PINNED} | ${pinned} |`
      ].join('\n')
    )
    expect(outputs).toMatchObject({
      'stack-status': 'UPDATE_COMPLETE',
      'has-changes': 'true',
      'changes-count': '1',
      ...STACK_OUTPUT_VALUES
    })
    const text = summary()
    expect(text).toContain(`<h2>Change set for ${STACK}: ready, not executed</h2>`)
    expect(text).toContain(
      `<tr><td>CodeImageURI</td><td><code>${OLD_PINNED}</code></td><td><code>${pinned}</code></td></tr>`
    )
    expect(text).not.toContain('DbPassword')
  })
})

describe('noop mode', () => {
  it("builds with Sparta's stand-in account when there are no credentials, and changes nothing", async () => {
    setInputs({ mode: 'noop', 'create-repository': 'true' })
    sts
      .on(GetCallerIdentityCommand)
      .rejects(
        awsError('CredentialsProviderError', 'Could not load credentials from any providers')
      )
    const fake = useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    const build = fake.callsOf('build')[1]?.argv ?? []
    expect(build).toContain('AWS_ACCOUNT_ID=123412341234')
    expect(build).not.toContain(`AWS_ACCOUNT_ID=${ACCOUNT}`)
    expect(warnings()).toEqual([
      "noop: no usable AWS credentials (No AWS credentials: add aws-actions/configure-aws-credentials before this step (Could not load credentials from any providers).); using Sparta's stand-in account 123412341234 and skipping the AWS checks."
    ])
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1)
    // The preflight reads start together with the identity read; nothing else is sent.
    expect(ecr.calls()).toHaveLength(0)
    for (const call of [...s3.calls(), ...cfn.calls()]) {
      expect([
        'GetBucketLocationCommand',
        'GetBucketVersioningCommand',
        'DescribeStacksCommand'
      ]).toContain((call.args[0] as object).constructor.name)
    }

    const wouldBe = `123412341234.dkr.ecr.${REGION}.amazonaws.com/hello-service:${BUILD_ID}`
    const url = `https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY}`
    expect(readOutputs()).toEqual({
      'image-uri': wouldBe,
      'image-digest': '',
      'build-id': BUILD_ID,
      'template-url': url,
      'stack-id': '',
      'stack-status': '',
      'change-set-id': '',
      outputs: '{}'
    })
    expect(harness.stdout.lines()).toContain(
      `noop: would push ${wouldBe}, upload the template to ${url} and deploy stack ${STACK} (new); nothing was changed.`
    )
    expect(harness.stdout.lines()).toContain(
      `Noop for ${STACK}: built and checked, nothing pushed or deployed`
    )
    expect(summary()).toContain(
      `<h2>Noop for ${STACK}: built and checked, nothing pushed or deployed</h2>`
    )
    expect(comment).not.toHaveBeenCalled()
  })

  it('reads the account, the bucket and the stack with credentials, and writes nothing', async () => {
    setInputs({ mode: 'noop', 'create-repository': 'true' })
    existingStack()
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(fake.callsOf('build')[1]?.argv).toContain(`AWS_ACCOUNT_ID=${ACCOUNT}`)
    expect(s3.commandCalls(GetBucketLocationCommand)).toHaveLength(1)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(ecr.calls()).toHaveLength(0)
    expect(cfn.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeStacksCommand'])
    expect(readOutputs()).toMatchObject({
      'image-uri': IMAGE_URI,
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': ''
    })
    expect(harness.stdout.lines()).toContain(
      `noop: would push ${IMAGE_URI}, upload the template to https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY} and deploy stack ${STACK} (now UPDATE_COMPLETE); nothing was changed.`
    )
  })
})

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

  it('deletes the stack and waits until it is gone, without any docker call', async () => {
    setOnlyInputs(DELETE_INPUTS)
    mockDelete(createdStack())
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(fake.calls()).toEqual([])
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK_ID }
    ])
    expect(cfn.commandCalls(DescribeStacksCommand, { StackName: STACK_ID })).toHaveLength(2)
    for (const mock of [sts, ecr, s3]) expect(mock.calls()).toHaveLength(0)
    expect(readOutputs()).toEqual({
      'image-uri': '',
      'image-digest': '',
      'build-id': '',
      'template-url': '',
      'stack-id': STACK_ID,
      'stack-status': 'DELETE_COMPLETE',
      'change-set-id': '',
      outputs: '{}'
    })
    const lines = harness.stdout.lines()
    expect(lines).toContain('09:30:00 HelloFunction AWS::Lambda::Function DELETE_COMPLETE')
    expect(lines).toContain(`Deleted ${STACK}: DELETE_COMPLETE`)
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
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    const order: string[] = []
    mockDelete(
      createdStack({ Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI }] }),
      order
    )
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
    expect(harness.stdout.lines()).toContain(`Deleted image ${IMAGE_URI} from ECR.`)
  })

  it('delete-image: deletes by digest when the stack ran a digest-pinned URI', async () => {
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    mockDelete(
      createdStack({ Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: OLD_PINNED }] })
    )
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
    expect(harness.stdout.lines()).toContain(`Deleted image ${OLD_PINNED} from ECR.`)
  })

  it('delete-image: leaves an image in another region or registry alone, with a warning', async () => {
    const foreign = 'public.ecr.aws/acme/hello-service:v1'
    setOnlyInputs({ ...DELETE_INPUTS, 'delete-image': 'true' })
    mockDelete(
      createdStack({ Parameters: [{ ParameterKey: 'CodeImageURI', ParameterValue: foreign }] })
    )
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

  function mockReviewedChangeSet(overrides: Record<string, unknown> = {}): void {
    cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).resolves({
      ChangeSetId: CHANGE_SET_ID,
      ChangeSetName: CHANGE_SET_NAME,
      StackId: STACK_ID,
      StackName: STACK,
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: 'AVAILABLE',
      Changes: [FUNCTION_CHANGE],
      ...overrides
    })
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
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    for (const mock of [sts, ecr, s3]) expect(mock.calls()).toHaveLength(0)
    expect(readOutputs()).toEqual({
      'image-uri': '',
      'image-digest': '',
      'build-id': '',
      'template-url': '',
      'stack-id': STACK_ID,
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID,
      'has-changes': 'true',
      'changes-count': '1',
      'changes-summary':
        '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
      'changes-markdown':
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |',
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

describe('zip mode', () => {
  /** The smallest valid zip: an empty archive (end of central directory record only). */
  const ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)])
  const ZIP_KEY = `${STACK}/${BUILD_ID}/function.zip`
  const ZIP_TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  CodeArtifactS3Key:
    Type: String
  CodeArtifactS3ObjectVersion:
    Type: String
Resources:
  HelloFunction:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Role: arn:aws:iam::${ACCOUNT}:role/hello-lambda
      Code:
        S3Bucket: ${BUCKET}
        S3Key: !Ref CodeArtifactS3Key
        S3ObjectVersion: !Ref CodeArtifactS3ObjectVersion
`
  const ZIP_INPUTS = {
    'code-archive': 'dist/function.zip',
    bucket: BUCKET,
    'stack-name': STACK,
    template: 'template.yaml',
    region: REGION
  }

  function writeZipService(): void {
    mkdirSync(join(harness.workspace, 'dist'))
    writeFileSync(join(harness.workspace, 'dist/function.zip'), ZIP)
    writeTemplate(ZIP_TEMPLATE)
  }

  it('uploads the package and the template and hands the key and version to the change set, without docker', async () => {
    writeZipService()
    setOnlyInputs(ZIP_INPUTS)
    s3.on(PutObjectCommand, { Key: ZIP_KEY }).resolves({ VersionId: 'zip-v7' })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(fake.calls()).toEqual([])
    const puts = s3
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input)
      .sort((a, b) => String(a.Key).localeCompare(String(b.Key)))
    expect(
      puts.map(({ Body, ...rest }) => ({ ...rest, Body: Buffer.from(Body as Uint8Array) }))
    ).toEqual([
      { Bucket: BUCKET, Key: ZIP_KEY, ContentType: 'application/zip', Body: ZIP },
      {
        Bucket: BUCKET,
        Key: TEMPLATE_KEY,
        ContentType: 'application/yaml',
        Body: Buffer.from(ZIP_TEMPLATE)
      }
    ])
    expect(createChangeSetInputs()).toEqual([
      {
        StackName: STACK,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'CREATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeArtifactS3Key', ParameterValue: ZIP_KEY },
          { ParameterKey: 'CodeArtifactS3ObjectVersion', ParameterValue: 'zip-v7' }
        ],
        Tags: [{ Key: 'io:sparta:buildId', Value: BUILD_ID }],
        Description: `oci-stack-deploy build ${BUILD_ID}`
      }
    ])
    expect(ecr.calls()).toHaveLength(0)
    expect(readOutputs()).toMatchObject({
      'archive-key': ZIP_KEY,
      'archive-version': 'zip-v7',
      'image-uri': '',
      'image-digest': '',
      'template-url': TEMPLATE_URL,
      'stack-status': 'CREATE_COMPLETE'
    })
    expect(harness.stdout.lines()).toContain(
      `Uploaded package to s3://${BUCKET}/${ZIP_KEY} (version zip-v7)`
    )
    expect(summary()).toContain(`<tr><td>Package</td><td><code>${ZIP_KEY}</code></td></tr>`)
  })

  it('refuses dockerfile together with code-archive before any docker or AWS call', async () => {
    writeZipService()
    setOnlyInputs({ ...ZIP_INPUTS, dockerfile: 'service/Dockerfile' })
    const fake = useDocker()
    const factory = jest.fn(() => clients)
    await runAction({ clients: factory })

    expect(failure()).toBe(
      "Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile)."
    )
    expect(process.exitCode).toBe(1)
    expect(fake.calls()).toEqual([])
    expect(factory).not.toHaveBeenCalled()
    for (const mock of [sts, ecr, s3, cfn]) expect(mock.calls()).toHaveLength(0)
  })
})

describe('image tags and digest pinning', () => {
  it('tags and pushes each extra tag once, skipping the build id, and pins the digest', async () => {
    setInputs({ 'image-tags': `v1.2.3\n${BUILD_ID}, stable` })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('tag').map((c) => c.argv)).toEqual([
      ['tag', LOCAL_TAG, IMAGE_URI],
      ['tag', LOCAL_TAG, `${REGISTRY}/hello-service:v1.2.3`],
      ['tag', LOCAL_TAG, `${REGISTRY}/hello-service:stable`]
    ])
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', IMAGE_URI],
      ['push', `${REGISTRY}/hello-service:v1.2.3`],
      ['push', `${REGISTRY}/hello-service:stable`]
    ])
    const outputs = readOutputs()
    const pinned = `${REGISTRY}/hello-service@${outputs['image-digest']}`
    expect(outputs['image-uri-pinned']).toBe(pinned)
    expect(imageParameterSent()).toBe(pinned)
    expect(harness.stdout.lines()).toEqual(
      expect.arrayContaining([
        `Tagged ${REGISTRY}/hello-service:v1.2.3`,
        `Tagged ${REGISTRY}/hello-service:stable`
      ])
    )
  })

  it("hands the template the tag URI with 'pin-digest: false'", async () => {
    setInputs({ 'pin-digest': 'false' })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(imageParameterSent()).toBe(IMAGE_URI)
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })
})

describe('push skip', () => {
  const HELD_DIGEST = `sha256:${'5e'.repeat(32)}`

  it('does not log in or push when the tag already holds the built image', async () => {
    const fake = useDocker()
    const { getManifest, reads } = registry((reference) =>
      reference === BUILD_ID
        ? {
            digest: HELD_DIGEST,
            mediaType: DOCKER_V2,
            // The config digest of the image the build made.
            configDigest: fake.images()[0]?.configDigest ?? 'none'
          }
        : undefined
    )
    await runAction({ getManifest })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(reads).toEqual([`hello-service:${BUILD_ID}`])
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1)
    expect(imageParameterSent()).toBe(`${REGISTRY}/hello-service@${HELD_DIGEST}`)
    expect(readOutputs()).toMatchObject({
      'image-uri': IMAGE_URI,
      'image-digest': HELD_DIGEST,
      'image-uri-pinned': `${REGISTRY}/hello-service@${HELD_DIGEST}`
    })
    expect(harness.stdout.lines()).toContain(
      `${IMAGE_URI} already holds this image (${HELD_DIGEST}); nothing to push.`
    )
  })

  it('pushes when the tag holds another image', async () => {
    useDocker()
    const { getManifest } = registry((reference) =>
      reference === BUILD_ID
        ? { digest: HELD_DIGEST, mediaType: DOCKER_V2, configDigest: `sha256:${'77'.repeat(32)}` }
        : { digest: reference, mediaType: DOCKER_V2 }
    )
    await runAction({ getManifest })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'image'
    ])
    expect(readOutputs()['image-digest']).not.toBe(HELD_DIGEST)
  })

  it('pushes and deploys with a warning when the registry cannot be read (e.g. behind a proxy)', async () => {
    useDocker()
    const unreadable: ManifestReader = async () => {
      throw new Error('fetch failed (connect ETIMEDOUT)')
    }
    await runAction({ getManifest: unreadable })

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'image'
    ])
    expect(warnings()).toEqual([
      `Could not read hello-service:${BUILD_ID} from the registry to see if it is already there: fetch failed (connect ETIMEDOUT)`,
      expect.stringMatching(
        /^Could not read hello-service:sha256:[a-f0-9]{64} from the registry to check Lambda accepts its media type: fetch failed \(connect ETIMEDOUT\)$/
      )
    ])
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1)
  })
})

describe('Lambda-ready image checks', () => {
  it('fails on a pushed image index, naming the attestations and the fix, before any change set', async () => {
    useDocker()
    const { getManifest } = registry((reference) =>
      reference.startsWith('sha256:')
        ? { digest: reference, mediaType: OCI_INDEX, platforms: ['linux/amd64'], attestations: 1 }
        : undefined
    )
    await runAction({ getManifest })

    expect(failure()).toBe(
      `The pushed image ${IMAGE_URI} is an image index (${OCI_INDEX}: platforms linux/amd64 plus 1 attestation manifest(s)), not a single-platform image manifest. Lambda accepts only a single-platform image manifest and would fail the deploy with "The image manifest, config or layer media type for the source image ${IMAGE_URI} is not supported". BuildKit/buildx adds provenance (and SBOM) attestations by default, and they turn the pushed image into an index: build with --provenance=false --sbom=false, or set BUILDX_NO_DEFAULT_ATTESTATIONS=1 in the builder's environment.`
    )
    expect(process.exitCode).toBe(1)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
  })

  it('fails on an architecture mismatch before the push, saying which side to change', async () => {
    writeTemplate(
      TEMPLATE.replace(
        '      PackageType: Image\n',
        '      PackageType: Image\n      Architectures: [arm64]\n'
      )
    )
    useDocker()
    await runAction()

    expect(failure()).toBe(
      "Function 'HelloFunction' (AWS::Lambda::Function) runs on arm64, but the image is built for x86_64: set the function's Architectures: [x86_64] in the template, or build the image with input 'platform: linux/arm64'."
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(ecr.calls()).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("builds for the function's arm64 with 'platform: linux/arm64'", async () => {
    writeTemplate(
      TEMPLATE.replace(
        '      PackageType: Image\n',
        '      PackageType: Image\n      Architectures: [arm64]\n'
      )
    )
    setInputs({ platform: 'linux/arm64' })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('build')[1]?.argv).toEqual(
      expect.arrayContaining(['--platform', 'linux/arm64'])
    )
    expect(commands()).toContain('push')
  })

  it('warns about a Zip function that references the image parameter, and deploys', async () => {
    writeTemplate(TEMPLATE.replace('PackageType: Image', 'PackageType: Zip'))
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(harness.stdout.lines()).toContain(
      "::warning::Function 'HelloFunction' (AWS::Lambda::Function) references the image parameter 'CodeImageURI' but has PackageType: Zip, so it cannot run the pushed image: set PackageType: Image on it."
    )
    expect(commands()).toContain('push')
  })

  it.each([
    ['BuildKit', '1', ['--provenance=false', '--sbom=false']],
    ['the legacy builder', undefined, []]
  ])('asks %s for attestation flags only when it knows them', async (_builder, buildkit, flags) => {
    const fake = useDocker()
    if (buildkit !== undefined) process.env['FAKE_DOCKER_BUILDKIT'] = buildkit
    await runAction()

    expect(failure()).toBeUndefined()
    const build = fake.callsOf('build')[1]?.argv ?? []
    const iid = build.indexOf('--iidfile')
    expect(build.slice(iid - flags.length, iid)).toEqual(flags)
    expect(build.some((arg) => /^--(provenance|sbom)/.test(arg))).toBe(flags.length > 0)
  })
})

describe('cache-from', () => {
  it('logs in and pulls the cache images before the build, which gets --cache-from', async () => {
    const cache = `${REGISTRY}/hello-service:previous`
    setInputs({ 'cache-from': cache })
    const fake = useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    // The fake refuses pulls: the build goes on without the cache image, with a warning.
    expect(warnings()).toContain(`cache-from: could not pull ${cache}; building without it.`)
    const login = fake.callsOf('login')
    const pull = fake.callsOf('pull')
    expect(pull.map((c) => c.argv)).toEqual([['pull', cache]])
    expect(pull[0]?.env['DOCKER_CONFIG']).toBe(login[0]?.env['DOCKER_CONFIG'])
    const build = fake.callsOf('build')[1]?.argv ?? []
    expect(build[build.indexOf('--cache-from') + 1]).toBe(cache)
    // One login serves the pull and the push.
    expect(login).toHaveLength(1)
    expect(commands().indexOf('pull')).toBeLessThan(commands().lastIndexOf('build'))
  })
})

describe('pull-request comment', () => {
  const TOKEN_INPUT = { 'github-token': 'ghs_commenttoken' }

  it('reports a deploy as deployed, with the image, the status and the outputs', async () => {
    setInputs(TOKEN_INPUT)
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    const digest = readOutputs()['image-digest']
    expect(comment.mock.calls).toEqual([
      [
        'ghs_commenttoken',
        STACK,
        {
          stackName: STACK,
          state: 'deployed',
          stackStatus: 'CREATE_COMPLETE',
          imageUri: IMAGE_URI,
          imageDigest: digest,
          outputs: JSON.parse(STACK_OUTPUTS) as Record<string, string>,
          buildId: BUILD_ID
        }
      ]
    ])
  })

  it('reports review mode as review, with the change table', async () => {
    setInputs({ ...TOKEN_INPUT, mode: 'review' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(comment).toHaveBeenCalledTimes(1)
    expect(comment.mock.calls[0]?.[2]).toMatchObject({
      state: 'review',
      changesMarkdown:
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |'
    })
  })

  it('reports delete mode as deleted', async () => {
    setOnlyInputs({ mode: 'delete', 'stack-name': STACK, region: REGION, ...TOKEN_INPUT })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [createdStack()] })
    cfn
      .on(DescribeStacksCommand, { StackName: STACK_ID })
      .resolves({ Stacks: [createdStack({ StackStatus: 'DELETE_COMPLETE' })] })
    cfn.on(DeleteStackCommand).resolves({})
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(comment.mock.calls).toEqual([
      [
        'ghs_commenttoken',
        STACK,
        {
          stackName: STACK,
          state: 'deleted',
          stackStatus: 'DELETE_COMPLETE',
          outputs: {}
        }
      ]
    ])
  })

  it('reports a failure as failed, with the message', async () => {
    setInputs(TOKEN_INPUT)
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toMatch(/^Input 'bucket': S3 bucket 'artifacts-bucket' is in eu-central-1/)
    expect(comment.mock.calls).toEqual([
      ['ghs_commenttoken', STACK, { stackName: STACK, state: 'failed', error: failure() }]
    ])
  })

  it('never fails the step when the comment throws', async () => {
    setInputs(TOKEN_INPUT)
    useDocker()
    const comment = fakeComment(async () => {
      throw new Error('GitHub is down')
    })
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(comment).toHaveBeenCalledTimes(1)
    expect(warnings()).toContain('Could not update the pull-request comment: GitHub is down')
  })

  it("is not posted with 'pr-comment: false'", async () => {
    setInputs({ ...TOKEN_INPUT, 'pr-comment': 'false' })
    useDocker()
    const comment = fakeComment()
    await runAction({ comment })

    expect(failure()).toBeUndefined()
    expect(comment).not.toHaveBeenCalled()
  })

  it('posts to the pull request named by GITHUB_EVENT_PATH', async () => {
    const eventPath = join(harness.workspace, 'event.json')
    writeFileSync(
      eventPath,
      JSON.stringify({ action: 'synchronize', pull_request: { number: PR_NUMBER } })
    )
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_RUN_ID: '4242'
    })
    // The class of github.context, which reads the environment when constructed.
    const Context = github.context.constructor as new () => typeof github.context
    const context = new Context()
    const octokit = fakeOctokit()
    const tokens: string[] = []
    setInputs(TOKEN_INPUT)
    useDocker()
    await runAction({
      comment: (token, stackName, content: CommentContent) =>
        postPullRequestComment(token, stackName, content, context, (t) => {
          tokens.push(t)
          return octokit
        })
    })

    expect(failure()).toBeUndefined()
    expect(tokens).toEqual(['ghs_commenttoken'])
    const created = octokit.rest.issues.createComment.mock.calls.map((c) => c[0])
    expect(created).toHaveLength(1)
    expect(created[0]).toMatchObject({ owner: OWNER, repo: REPO, issue_number: PR_NUMBER })
    const body = created[0]?.body ?? ''
    expect(body.split('\n').slice(0, 3)).toEqual([
      `<!-- oci-stack-deploy stack=${STACK} -->`,
      '',
      `### Stack ${STACK} deployed`
    ])
    expect(body).toContain(`| Image | \`${IMAGE_URI}\` |`)
    expect(body).toContain(`[Workflow run](https://github.com/${OWNER}/${REPO}/actions/runs/4242)`)
  })
})

describe('Session', () => {
  const cancelWarning = `Cancelled the running update of ${STACK_ID}: CloudFormation rolls back to the previous version.`

  it('cancels the tracked stack update once, with a warning', async () => {
    cfn.on(CancelUpdateStackCommand).resolves({})
    const session = new Session([])
    session.trackUpdate(clients.cloudformation, STACK_ID)
    await session.cancel()
    await session.cancel()

    expect(cfn.commandCalls(CancelUpdateStackCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK_ID }
    ])
    expect(warnings()).toEqual([cancelWarning])
  })

  it('cancels nothing once the update is finished', async () => {
    const session = new Session([])
    session.trackUpdate(clients.cloudformation, STACK_ID)
    session.trackUpdate(clients.cloudformation, undefined)
    await session.cancel()

    expect(cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(0)
    expect(warnings()).toEqual([])
  })

  it('turns a refused cancel into a warning', async () => {
    cfn
      .on(CancelUpdateStackCommand)
      .rejects(
        awsError('ValidationError', 'CancelUpdateStack cannot be called from current stack status')
      )
    const session = new Session([])
    session.trackUpdate(clients.cloudformation, STACK_ID)
    await session.cancel()

    expect(warnings()).toEqual([
      `Could not cancel the update of ${STACK_ID}: CancelUpdateStack cannot be called from current stack status`
    ])
  })

  it('runs each cleanup once, newest first, past a failing one, and stops listening', () => {
    const before = process.listenerCount('SIGTERM')
    const session = new Session(['SIGTERM'])
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    const order: string[] = []
    session.onDispose(() => order.push('docker config'))
    session.onDispose(() => {
      throw new Error('disk gone')
    })
    session.onDispose(() => order.push('build dir'))
    session.dispose()
    session.dispose()

    expect(order).toEqual(['build dir', 'docker config'])
    expect(warnings()).toEqual(['Cleanup failed: disk gone'])
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })

  it('on SIGTERM cancels the update, cleans up and exits with 1', async () => {
    cfn.on(CancelUpdateStackCommand).resolves({})
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const before = process.listeners('SIGTERM')
    const session = new Session(['SIGTERM'])
    try {
      const cleanup = jest.fn()
      session.onDispose(cleanup)
      session.trackUpdate(clients.cloudformation, STACK_ID)
      const handler = process.listeners('SIGTERM').find((l) => !before.includes(l))
      // The handler as the signal would call it; no signal reaches the test process.
      handler?.('SIGTERM')
      await new Promise((resolve) => setImmediate(resolve))

      expect(cfn.commandCalls(CancelUpdateStackCommand).map((c) => c.args[0].input)).toEqual([
        { StackName: STACK_ID }
      ])
      expect(warnings()).toEqual(['Received SIGTERM: the workflow was cancelled.', cancelWarning])
      expect(cleanup).toHaveBeenCalledTimes(1)
      expect(exit).toHaveBeenCalledWith(1)
      expect(process.listeners('SIGTERM')).toEqual(before)
    } finally {
      session.dispose()
      exit.mockRestore()
    }
  })

  it('run() cancels the stack update it waits on when the workflow is cancelled', async () => {
    const SIGNAL = 'SIGUSR2'
    const stack = existingStack()
    mockUpdateChangeSet(stack)
    cfn.on(CancelUpdateStackCommand).resolves({})
    const before = process.listeners(SIGNAL)
    let executed = false
    let signalled = false
    cfn.on(ExecuteChangeSetCommand).callsFake(() => {
      executed = true
      return {}
    })
    // The runner cancels the job while the action waits for the update it started.
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).callsFake(() => {
      if (executed && !signalled) {
        signalled = true
        process.listeners(SIGNAL).find((l) => !before.includes(l))?.(SIGNAL)
      }
      return { Stacks: [{ ...stack, StackStatus: 'UPDATE_ROLLBACK_COMPLETE' }] }
    })
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    try {
      useDocker()
      await runAction({ signals: [SIGNAL] })
      await new Promise((resolve) => setImmediate(resolve))

      expect(signalled).toBe(true)
      expect(cfn.commandCalls(CancelUpdateStackCommand).map((c) => c.args[0].input)).toEqual([
        { StackName: STACK_ID }
      ])
      expect(warnings()).toEqual(
        expect.arrayContaining([`Received ${SIGNAL}: the workflow was cancelled.`, cancelWarning])
      )
      expect(exit).toHaveBeenCalledWith(1)
      expect(process.listeners(SIGNAL)).toEqual(before)
    } finally {
      exit.mockRestore()
    }
  })

  it('run() never cancels an operation it did not start (a cancel before ExecuteChangeSet)', async () => {
    const SIGNAL = 'SIGUSR2'
    const stack = existingStack()
    mockUpdateChangeSet(stack)
    const before = process.listeners(SIGNAL)
    // Cancelled while the change set is being created: nothing of ours runs on the stack yet.
    cfn.on(CreateChangeSetCommand).callsFake(() => {
      process.listeners(SIGNAL).find((l) => !before.includes(l))?.(SIGNAL)
      return { Id: CHANGE_SET_ID, StackId: STACK_ID }
    })
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    try {
      useDocker()
      await runAction({ signals: [SIGNAL] })
      await new Promise((resolve) => setImmediate(resolve))

      expect(exit).toHaveBeenCalledWith(1)
      expect(cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(0)
    } finally {
      exit.mockRestore()
    }
  })
})
