/**
 * Drives run() end to end: real @actions/core (inputs from INPUT_*, outputs and summary in temp
 * files), the real exec runner driving the fake `docker` on PATH, aws-sdk-client-mock for AWS and
 * a fake registry. A test file calls `installRunHarness()` once, then reads what happened through
 * `harness`, `failure()`, `readOutputs()`, `summary()` and the client mocks.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals'
import * as core from '@actions/core'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Stack
} from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import {
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AwsClients } from '../src/aws/clients.js'
import type { ManifestReader } from '../src/artifacts/flow-context.js'
import { run, type Dependencies } from '../src/main.js'
import type { ManifestInfo } from '../src/registry/manifests.js'
import { awsError, captureStdout } from './aws.js'
import { installFakeDocker, type FakeDocker, type FakeDockerOptions } from './fake-docker.js'
import { readOutputEntries } from './github-output.js'

export const ACCOUNT = '123456789012'
export const REGION = 'eu-west-2'
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`
export const BUCKET = 'artifacts-bucket'
export const STACK = 'Hello-Service'
export const BUILD_ID = 'c0ffee0123456789c0ffee0123456789c0ffee01'
export const LOCAL_TAG = `sparta/hello-service:${BUILD_ID}`
export const IMAGE_URI = `${REGISTRY}/hello-service:${BUILD_ID}`
/** What the template gets with pin-digest (the default): the pushed digest, not the tag. */
export const PINNED_URI = expect.stringMatching(
  new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/hello-service@sha256:[a-f0-9]{64}$`)
) as unknown as string
export const CHANGE_SET_NAME = `${STACK}-${BUILD_ID}`
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/5a6b7c8d-1111-2222-3333-444455556666`
export const CHANGE_SET_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/${CHANGE_SET_NAME}/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff`
export const TEMPLATE_KEY = `${STACK}/${BUILD_ID}/${STACK}-cftemplate.yaml`
export const TEMPLATE_URL = `https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY}?versionId=v1`
export const PASSWORD = 'eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtN2M0MWQwYjIifQ'
export const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
export const DB_PASSWORD = 'db-pass-5e1f'
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Hello-Service-HelloFunction-x1`

/** The service's template: the image function, an IAM role, a NoEcho parameter, three outputs. */
export const TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  CodeImageURI:
    Type: String
  Stage:
    Type: String
    Default: dev
  DbPassword:
    Type: String
    NoEcho: true
Resources:
  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
  HelloFunction:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Code:
        ImageUri: !Ref CodeImageURI
      Role: !GetAtt FunctionRole.Arn
      Environment:
        Variables:
          STAGE: !Ref Stage
          DB_PASSWORD: !Ref DbPassword
Outputs:
  FunctionArn:
    Value: !GetAtt HelloFunction.Arn
  DeployedImage:
    Value: !Ref CodeImageURI
  Docs:
    Description: Where to read about it
    Value: https://example.com/hello
`

export const clients: AwsClients = {
  sts: new STSClient({ region: REGION }),
  ecr: new ECRClient({ region: REGION }),
  s3: new S3Client({ region: REGION }),
  cloudformation: new CloudFormationClient({ region: REGION })
}
export const sts = mockClient(clients.sts)
export const ecr = mockClient(clients.ecr)
export const s3 = mockClient(clients.s3)
export const cfn = mockClient(clients.cloudformation)

/** Waits that never sleep. */
export const noWait = {
  initialPollMs: 0,
  maxPollMs: 0,
  // A macrotask, not a resolved promise: a poll that never settles must still let Jest's timeout fire.
  sleep: () => new Promise<void>((resolve) => setImmediate(resolve)),
  now: () => Date.now()
}

/** The files and captures of the running test. */
export interface Harness {
  /** GITHUB_WORKSPACE: `service/Dockerfile`, `service/bootstrap`, `template.yaml`. */
  workspace: string
  /** GITHUB_OUTPUT. */
  outputFile: string
  /** GITHUB_STEP_SUMMARY (one file for the whole test file: core.summary keeps the first path). */
  summaryFile: string
  stdout: ReturnType<typeof captureStdout>
  docker: FakeDocker | undefined
}

export const harness = {} as Harness

/** The stack as DescribeStacks shows it after the first deploy. */
export function createdStack(overrides: Partial<Stack> = {}): Stack {
  return {
    StackName: STACK,
    StackId: STACK_ID,
    StackStatus: 'CREATE_COMPLETE',
    CreationTime: new Date('2024-05-01T10:00:00Z'),
    Outputs: [
      { OutputKey: 'FunctionArn', OutputValue: FUNCTION_ARN },
      { OutputKey: 'DeployedImage', OutputValue: IMAGE_URI },
      {
        OutputKey: 'Docs',
        OutputValue: 'https://example.com/hello',
        Description: 'Where to read about it'
      }
    ],
    ...overrides
  }
}

/** The change a new stack's change set lists. */
export const FUNCTION_CHANGE = {
  Type: 'Resource' as const,
  ResourceChange: {
    Action: 'Add' as const,
    LogicalResourceId: 'HelloFunction',
    ResourceType: 'AWS::Lambda::Function'
  }
}

/** AWS answers for a first deploy that creates the stack. */
export function mockAws(): void {
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gha`,
    UserId: 'AROAEXAMPLE:gha'
  })
  ecr
    .on(DescribeRepositoriesCommand)
    .resolves({ repositories: [{ repositoryName: 'hello-service' }] })
  ecr
    .on(GetLifecyclePolicyCommand)
    .rejects(awsError('LifecyclePolicyNotFoundException', 'no lifecycle policy'))
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
  ecr.on(CreateRepositoryCommand).resolves({ repository: { repositoryName: 'hello-service' } })
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      { authorizationToken: TOKEN, proxyEndpoint: `https://${REGISTRY}`, expiresAt: new Date() }
    ]
  })
  s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: REGION })
  s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' })
  s3.on(PutObjectCommand).resolves({ VersionId: 'v1' })
  cfn
    .on(DescribeStacksCommand, { StackName: STACK })
    .rejects(awsError('ValidationError', `Stack with id ${STACK} does not exist`))
  cfn
    .on(DescribeStacksCommand, { StackName: STACK_ID })
    .resolvesOnce({ Stacks: [createdStack({ StackStatus: 'CREATE_IN_PROGRESS', Outputs: [] })] })
    .resolves({ Stacks: [createdStack()] })
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: STACK_ID })
  cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).resolves({
    ChangeSetId: CHANGE_SET_ID,
    StackId: STACK_ID,
    Status: 'CREATE_COMPLETE',
    ExecutionStatus: 'AVAILABLE',
    Changes: [FUNCTION_CHANGE]
  })
  cfn
    .on(DescribeStackEventsCommand)
    .resolvesOnce({ StackEvents: [] })
    .resolves({
      StackEvents: [
        {
          EventId: 'e1',
          StackId: STACK_ID,
          StackName: STACK,
          LogicalResourceId: 'HelloFunction',
          ResourceType: 'AWS::Lambda::Function',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: new Date('2024-05-01T12:01:02Z')
        }
      ]
    })
  cfn.on(ExecuteChangeSetCommand).resolves({})
}

/** The inputs of a deploy of the workspace's service. */
export const INPUTS: Record<string, string> = {
  dockerfile: 'service/Dockerfile',
  binary: 'bootstrap',
  bucket: BUCKET,
  'stack-name': STACK,
  template: 'template.yaml',
  region: REGION,
  'parameter-overrides': `DbPassword=${DB_PASSWORD}`,
  tags: 'team=platform',
  'create-repository': 'false',
  'no-fail-on-empty-changeset': 'true',
  'timeout-minutes': '5'
}

/** Sets the action's inputs as the runner does (INPUT_<NAME>, hyphens kept). */
export function setInputs(overrides: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries({ ...INPUTS, ...overrides })) {
    process.env[`INPUT_${name.toUpperCase()}`] = value
  }
}

/** Removes every input, then sets exactly `inputs` (for the modes that take only a few). */
export function setOnlyInputs(inputs: Record<string, string>): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('INPUT_')) delete process.env[name]
  }
  for (const [name, value] of Object.entries(inputs)) {
    process.env[`INPUT_${name.toUpperCase()}`] = value
  }
}

/** Installs the fake docker; the image's label names the `hello-service` repository. */
export function useDocker(options: FakeDockerOptions = {}): FakeDocker {
  harness.docker?.restore()
  harness.docker = installFakeDocker({
    password: PASSWORD,
    labels: { '${SPARTA_ECR_LABEL_NAME}': 'hello-service' },
    ...options
  })
  return harness.docker
}

/**
 * The registry as the action reads it: a tag holds what `registryTags` says (nothing by default,
 * so the image is pushed); a digest reads back as a single-platform Docker v2 manifest.
 */
export const registryTags = new Map<string, ManifestInfo>()
export const manifestReads: string[] = []
export const getManifest: ManifestReader = async (_login, repository, reference) => {
  manifestReads.push(`${repository}:${reference}`)
  if (reference.startsWith('sha256:')) {
    return { digest: reference, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }
  }
  return registryTags.get(`${repository}:${reference}`)
}

/** run() with the mocked clients, no waits, the fake registry and no signal handlers. */
export async function runAction(overrides: Partial<Dependencies> = {}): Promise<void> {
  await run({ clients: () => clients, wait: noWait, getManifest, signals: [], ...overrides })
}

/** The messages of the `::<command>::` lines (`error`, `warning`…), unescaped, in order. */
export function commandMessages(command: string): string[] {
  const prefix = `::${command}::`
  return harness.stdout
    .lines()
    .filter((l) => l.startsWith(prefix))
    .map((l) =>
      l.slice(prefix.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
    )
}

/** The message given to core.setFailed, or undefined. */
export function failure(): string | undefined {
  return commandMessages('error')[0]
}

/** The `::warning::` lines' messages, in order. */
export function warnings(): string[] {
  return commandMessages('warning')
}

/** The outputs @actions/core wrote to GITHUB_OUTPUT (a name set twice keeps its last value). */
export function readOutputs(): Record<string, string> {
  return Object.fromEntries(readOutputEntries(harness.outputFile))
}

/** The job summary written so far. */
export function summary(): string {
  return readFileSync(harness.summaryFile, 'utf8')
}

/** The docker commands of a run that builds the image and stops before the login (`commands()`). */
export const BUILD_COMMANDS: readonly string[] = ['version', 'build', 'build', 'image']

/** The docker commands of a run that builds, logs in, tags and pushes the image (`commands()`). */
export const BUILD_AND_PUSH_COMMANDS: readonly string[] = [
  ...BUILD_COMMANDS,
  'login',
  'tag',
  'push'
]

/** The first argument of every docker call, in order. */
export function commands(): string[] {
  return (harness.docker?.argvs() ?? []).map((argv) => argv[0] ?? '')
}

/**
 * Registers the hooks: a fresh workspace, inputs, AWS mocks and stdout capture before each test;
 * the environment, PATH and temp files restored after it.
 */
export function installRunHarness(): void {
  let savedEnv: NodeJS.ProcessEnv = {}

  beforeAll(() => {
    harness.summaryFile = join(mkdtempSync(join(tmpdir(), 'run-harness-summary-')), 'summary.md')
  })

  afterAll(() => {
    rmSync(join(harness.summaryFile, '..'), { recursive: true, force: true })
  })

  beforeEach(() => {
    savedEnv = { ...process.env }
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('INPUT_')) delete process.env[name]
    }
    const workspace = mkdtempSync(join(tmpdir(), 'run-harness-'))
    harness.workspace = workspace
    mkdirSync(join(workspace, 'service'))
    writeFileSync(
      join(workspace, 'service/Dockerfile'),
      'FROM scratch\nARG SPARTA_BINARY\nARG SPARTA_ECR_LABEL_NAME\nCOPY ${SPARTA_BINARY} /var/runtime/bootstrap\nLABEL ${SPARTA_ECR_LABEL_NAME}=hello-service\n'
    )
    writeFileSync(join(workspace, 'service/bootstrap'), Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
    writeFileSync(join(workspace, 'template.yaml'), TEMPLATE)
    harness.outputFile = join(workspace, 'github-output')
    writeFileSync(harness.outputFile, '')
    writeFileSync(harness.summaryFile, '')
    core.summary.emptyBuffer()
    Object.assign(process.env, {
      GITHUB_WORKSPACE: workspace,
      GITHUB_SHA: BUILD_ID,
      GITHUB_OUTPUT: harness.outputFile,
      GITHUB_STEP_SUMMARY: harness.summaryFile,
      RUNNER_DEBUG: '1',
      ACTIONS_STEP_DEBUG: 'true'
    })
    setInputs()
    registryTags.clear()
    manifestReads.length = 0
    for (const mock of [sts, ecr, s3, cfn]) mock.reset()
    mockAws()
    harness.stdout = captureStdout()
  })

  afterEach(() => {
    harness.stdout.restore()
    harness.docker?.restore()
    harness.docker = undefined
    for (const name of Object.keys(process.env)) {
      if (!(name in savedEnv)) delete process.env[name]
    }
    Object.assign(process.env, savedEnv)
    process.exitCode = undefined
    rmSync(harness.workspace, { recursive: true, force: true })
  })
}
