/**
 * run() end to end: real @actions/core (inputs from INPUT_*, outputs and summary in temp files),
 * the real exec runner driving the fake `docker` on PATH, and aws-sdk-client-mock for AWS.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import * as core from '@actions/core'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Stack
} from '@aws-sdk/client-cloudformation'
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { awsError, captureStdout } from '../__fixtures__/aws.js'
import {
  installFakeDocker,
  type FakeDocker,
  type FakeDockerOptions
} from '../__fixtures__/fake-docker.js'
import type { AwsClients } from '../src/aws-clients.js'
import type { ManifestReader } from '../src/deploy-flow.js'
import { run } from '../src/main.js'
import type { ManifestInfo } from '../src/registry.js'

const ACCOUNT = '123456789012'
const REGION = 'eu-west-2'
const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`
const BUCKET = 'artifacts-bucket'
const STACK = 'Hello-Service'
const BUILD_ID = 'c0ffee0123456789c0ffee0123456789c0ffee01'
const LOCAL_TAG = `sparta/hello-service:${BUILD_ID}`
const IMAGE_URI = `${REGISTRY}/hello-service:${BUILD_ID}`
/** What the template gets with pin-digest (the default): the pushed digest, not the tag. */
const PINNED_URI = expect.stringMatching(
  new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/hello-service@sha256:[a-f0-9]{64}$`)
) as unknown as string
const CHANGE_SET_NAME = `${STACK}-${BUILD_ID}`
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/5a6b7c8d-1111-2222-3333-444455556666`
const CHANGE_SET_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/${CHANGE_SET_NAME}/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff`
const TEMPLATE_KEY = `${STACK}/${BUILD_ID}/${STACK}-cftemplate.yaml`
const TEMPLATE_URL = `https://${BUCKET}.s3.${REGION}.amazonaws.com/${TEMPLATE_KEY}?versionId=v1`
const PASSWORD = 'eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtN2M0MWQwYjIifQ'
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
const DB_PASSWORD = 'db-pass-5e1f'
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Hello-Service-HelloFunction-x1`

const TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
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

const clients: AwsClients = {
  sts: new STSClient({ region: REGION }),
  ecr: new ECRClient({ region: REGION }),
  s3: new S3Client({ region: REGION }),
  cloudformation: new CloudFormationClient({ region: REGION })
}
const sts = mockClient(clients.sts)
const ecr = mockClient(clients.ecr)
const s3 = mockClient(clients.s3)
const cfn = mockClient(clients.cloudformation)

const noWait = { initialPollMs: 0, maxPollMs: 0, sleep: async () => {}, now: () => Date.now() }

let workspace: string
let outputFile: string
let summaryFile: string
let savedEnv: NodeJS.ProcessEnv
let stdout: ReturnType<typeof captureStdout>
let docker: FakeDocker | undefined

function createdStack(overrides: Partial<Stack> = {}): Stack {
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

/** AWS answers for a first deploy that creates the stack. */
function mockAws(): void {
  sts.on(GetCallerIdentityCommand).resolves({
    Account: ACCOUNT,
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gha`,
    UserId: 'AROAEXAMPLE:gha'
  })
  ecr
    .on(DescribeRepositoriesCommand)
    .resolves({ repositories: [{ repositoryName: 'hello-service' }] })
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
    Changes: [
      {
        Type: 'Resource',
        ResourceChange: {
          Action: 'Add',
          LogicalResourceId: 'HelloFunction',
          ResourceType: 'AWS::Lambda::Function'
        }
      }
    ]
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

const INPUTS: Record<string, string> = {
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
function setInputs(overrides: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries({ ...INPUTS, ...overrides })) {
    process.env[`INPUT_${name.toUpperCase()}`] = value
  }
}

function useDocker(options: FakeDockerOptions = {}): FakeDocker {
  docker = installFakeDocker({
    password: PASSWORD,
    labels: { '${SPARTA_ECR_LABEL_NAME}': 'hello-service' },
    ...options
  })
  return docker
}

/**
 * The registry as the action reads it: a tag holds what `registryTags` says (nothing by default,
 * so the image is pushed); a digest reads back as a single-platform Docker v2 manifest.
 */
const registryTags = new Map<string, ManifestInfo>()
const manifestReads: string[] = []
const getManifest: ManifestReader = async (_login, repository, reference) => {
  manifestReads.push(`${repository}:${reference}`)
  if (reference.startsWith('sha256:')) {
    return { digest: reference, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }
  }
  return registryTags.get(`${repository}:${reference}`)
}

async function runAction(): Promise<void> {
  await run({ clients: () => clients, wait: noWait, getManifest, signals: [] })
}

/** The message given to core.setFailed, or undefined. */
function failure(): string | undefined {
  const line = stdout.lines().find((l) => l.startsWith('::error::'))
  return line
    ?.slice('::error::'.length)
    .replace(/%0A/g, '\n')
    .replace(/%0D/g, '\r')
    .replace(/%25/g, '%')
}

/** Parses the `name<<ghadelimiter_…` blocks @actions/core appends to GITHUB_OUTPUT. */
function readOutputs(): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = readFileSync(outputFile, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const header = /^(.+?)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i] ?? '')
    if (header === null) continue
    const end = lines.indexOf(header[2] ?? '', i + 1)
    outputs[header[1] ?? ''] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}

function commands(): string[] {
  return (docker?.argvs() ?? []).map((argv) => argv[0] ?? '')
}

beforeAll(() => {
  // core.summary remembers the first path it sees, so one file serves every test here.
  summaryFile = join(mkdtempSync(join(tmpdir(), 'main-test-summary-')), 'summary.md')
})

afterAll(() => {
  rmSync(join(summaryFile, '..'), { recursive: true, force: true })
})

beforeEach(() => {
  savedEnv = { ...process.env }
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('INPUT_')) delete process.env[name]
  }
  workspace = mkdtempSync(join(tmpdir(), 'main-test-'))
  mkdirSync(join(workspace, 'service'))
  writeFileSync(
    join(workspace, 'service/Dockerfile'),
    'FROM scratch\nARG SPARTA_BINARY\nARG SPARTA_ECR_LABEL_NAME\nCOPY ${SPARTA_BINARY} /var/runtime/bootstrap\nLABEL ${SPARTA_ECR_LABEL_NAME}=hello-service\n'
  )
  writeFileSync(join(workspace, 'service/bootstrap'), Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
  writeFileSync(join(workspace, 'template.yaml'), TEMPLATE)
  outputFile = join(workspace, 'github-output')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  core.summary.emptyBuffer()
  Object.assign(process.env, {
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: BUILD_ID,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_DEBUG: '1',
    ACTIONS_STEP_DEBUG: 'true'
  })
  setInputs()
  registryTags.clear()
  manifestReads.length = 0
  for (const mock of [sts, ecr, s3, cfn]) mock.reset()
  mockAws()
  stdout = captureStdout()
})

afterEach(() => {
  stdout.restore()
  docker?.restore()
  docker = undefined
  for (const name of Object.keys(process.env)) {
    if (!(name in savedEnv)) delete process.env[name]
  }
  Object.assign(process.env, savedEnv)
  process.exitCode = undefined
  rmSync(workspace, { recursive: true, force: true })
})

describe('run', () => {
  it('builds, pushes, uploads the template and creates the stack through a change set', async () => {
    const fake = useDocker()
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

    const [version, help, build, inspect, login, tag, push] = fake.calls()
    expect(version?.argv).toEqual(['version', '--format', '{{.Server.Version}}'])
    expect(help?.argv).toEqual(['build', '--help'])
    expect(build?.argv).toEqual([
      'build',
      '--tag',
      LOCAL_TAG,
      '--file',
      join(workspace, 'service/Dockerfile'),
      '--build-arg',
      `AWS_ACCOUNT_ID=${ACCOUNT}`,
      '--build-arg',
      `AWS_REGION=${REGION}`,
      '--build-arg',
      'SPARTA_BINARY=bootstrap',
      '--build-arg',
      'SPARTA_ECR_LABEL_NAME=io.sparta.ecr-name',
      '--build-arg',
      `SPARTA_BUILD_ID=${BUILD_ID}`,
      '--iidfile',
      expect.stringMatching(/\/iid$/),
      join(workspace, 'service')
    ])
    expect(inspect?.argv).toEqual([
      'image',
      'inspect',
      expect.stringMatching(/^sha256:[a-f0-9]{64}$/)
    ])
    expect(login?.argv).toEqual(['login', '--username', 'AWS', '--password-stdin', REGISTRY])
    expect(login?.stdin).toBe(PASSWORD)
    expect(tag?.argv).toEqual(['tag', LOCAL_TAG, IMAGE_URI])
    expect(push?.argv).toEqual(['push', IMAGE_URI])
    expect(push?.dockerConfig).toBe(login?.dockerConfig)
    expect(login?.dockerConfig).toMatch(/oci-stack-deploy-docker-/)
    expect(existsSync(login?.dockerConfig ?? '')).toBe(false)

    const puts = s3.commandCalls(PutObjectCommand)
    expect(puts).toHaveLength(1)
    expect(puts[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Key: TEMPLATE_KEY })
    expect(puts[0]?.args[0].input.Key).toContain(STACK)
    expect(puts[0]?.args[0].input.Key).toContain(BUILD_ID)
    expect(Buffer.from(puts[0]?.args[0].input.Body as Uint8Array).toString('utf8')).toBe(TEMPLATE)

    const changeSets = cfn.commandCalls(CreateChangeSetCommand)
    expect(changeSets.map((call) => call.args[0].input)).toEqual([
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
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      repositoryNames: ['hello-service']
    })
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)

    const pushedDigest = /: digest: (sha256:[a-f0-9]{64}) size: 528/.exec(
      stdout.lines().join('\n')
    )?.[1]
    expect(pushedDigest).toBeDefined()
    expect(readOutputs()).toEqual({
      'image-uri': IMAGE_URI,
      'image-digest': pushedDigest,
      'build-id': BUILD_ID,
      'template-url': TEMPLATE_URL,
      'stack-id': STACK_ID,
      'stack-status': 'CREATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID,
      'image-uri-pinned': `${REGISTRY}/hello-service@${pushedDigest}`,
      'has-changes': 'true',
      'changes-count': '1',
      'changes-summary':
        '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
      'changes-markdown':
        '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |',
      outputs: JSON.stringify({
        FunctionArn: FUNCTION_ARN,
        DeployedImage: IMAGE_URI,
        Docs: 'https://example.com/hello'
      }),
      FunctionArn: FUNCTION_ARN,
      DeployedImage: IMAGE_URI,
      Docs: 'https://example.com/hello'
    })

    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain(`<h2>Deployed ${STACK}: CREATE_COMPLETE</h2>`)
    expect(summary).toContain(`<tr><td>Image</td><td><code>${IMAGE_URI}</code></td></tr>`)
    expect(summary).toContain(
      '<tr><td>Add</td><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>-</td></tr>'
    )
    expect(summary).toContain(
      '<tr><td>Docs</td><td><a href="https://example.com/hello">https://example.com/hello</a></td><td>Where to read about it</td></tr>'
    )
    for (const phase of [
      'Preflight checks',
      'Build image',
      'Push image and upload template',
      'Deploy stack'
    ]) {
      expect(summary).toMatch(new RegExp(`<tr><td>${phase}</td><td>\\d+\\.\\d</td></tr>`))
    }
    expect(stdout.lines()).toContain(`Deployed ${STACK}: CREATE_COMPLETE`)
    expect(stdout.lines()).toContain('12:01:02 HelloFunction AWS::Lambda::Function CREATE_COMPLETE')
  })

  it('never lets the registry password out: not in argv, not in any env, only masked in the log', async () => {
    const fake = useDocker()
    await runAction()
    expect(failure()).toBeUndefined()

    for (const call of fake.calls()) {
      expect(call.argv.join(' ')).not.toContain(PASSWORD)
      expect(Object.entries(call.env).filter(([, value]) => value.includes(PASSWORD))).toEqual([])
      if (call.argv[0] !== 'login') expect(call.stdin).toBeNull()
    }
    const leaked = Object.entries(process.env).filter(
      ([name, value]) => !name.startsWith('FAKE_DOCKER_') && value?.includes(PASSWORD)
    )
    expect(leaked).toEqual([])
    const lines = stdout.lines()
    expect(lines).toContain(`::add-mask::${PASSWORD}`)
    expect(lines).toContain(`::add-mask::${TOKEN}`)
    expect(lines).toContain(`::add-mask::${DB_PASSWORD}`)
    expect(lines.some((line) => line.startsWith('::debug::run: docker'))).toBe(true)
    for (const secret of [PASSWORD, TOKEN, DB_PASSWORD]) {
      expect(lines.filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual([])
    }
    expect(readFileSync(outputFile, 'utf8')).not.toContain(PASSWORD)
    expect(readFileSync(summaryFile, 'utf8')).not.toContain(PASSWORD)
  })

  it("pushes to the repository and tag of Sparta's full-URI label, read under a custom label name", async () => {
    setInputs({ 'label-name': 'com.example.ecr-name' })
    const fake = useDocker({
      labels: {
        '${SPARTA_ECR_LABEL_NAME}':
          '${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/spartaoci:${SPARTA_BUILD_ID}'
      }
    })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(fake.callsOf('build')[1]?.argv).toContain('SPARTA_ECR_LABEL_NAME=com.example.ecr-name')
    expect(fake.callsOf('push').map((c) => c.argv)).toEqual([
      ['push', `${REGISTRY}/spartaoci:${BUILD_ID}`]
    ])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)[0]?.args[0].input).toEqual({
      repositoryNames: ['spartaoci']
    })
    expect(readOutputs()['image-uri']).toBe(`${REGISTRY}/spartaoci:${BUILD_ID}`)
  })

  it('logs in again and pushes once more when the first push is refused', async () => {
    const fake = useDocker({ pushFailOnce: true })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual([
      'version',
      'build',
      'build',
      'image',
      'login',
      'tag',
      'push',
      'login',
      'push',
      'image'
    ])
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(2)
    expect(fake.callsOf('login').map((c) => c.stdin)).toEqual([PASSWORD, PASSWORD])
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })

  it('fails with the LABEL line to add when the image has no label, before any write', async () => {
    useDocker({ labels: {} })
    await runAction()

    expect(failure()).toBe(
      `The built image has no 'io.sparta.ecr-name' label, so there is no ECR repository to push to: add LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL \${SPARTA_ECR_LABEL_NAME}="<repository>") to the Dockerfile.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version', 'build', 'build', 'image'])
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0)
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
    expect(readFileSync(outputFile, 'utf8')).toBe('')
  })

  it('refuses a label naming another account, without pushing', async () => {
    useDocker({
      labels: { 'io.sparta.ecr-name': `999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1` }
    })
    await runAction()

    expect(failure()).toBe(
      `The 'io.sparta.ecr-name' label ('999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1') names AWS account 999999999999, but the credentials belong to account ${ACCOUNT}: label the image with a bare repository name, or deploy with credentials for 999999999999.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(commands()).not.toContain('login')
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("fails naming the repository and 'create-repository' when the repository is missing", async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        awsError(
          'RepositoryNotFoundException',
          "The repository with name 'hello-service' does not exist"
        )
      )
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `ECR repository 'hello-service' (from label io.sparta.ecr-name) does not exist in account ${ACCOUNT}, ${REGION}: create it, or set 'create-repository: true'.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).not.toContain('push')
    expect(ecr.commandCalls(CreateRepositoryCommand)).toHaveLength(0)
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it("creates the missing repository before the push with 'create-repository: true'", async () => {
    setInputs({ 'create-repository': 'true' })
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        awsError(
          'RepositoryNotFoundException',
          "The repository with name 'hello-service' does not exist"
        )
      )
    let pushesBeforeCreate = -1
    ecr.on(CreateRepositoryCommand).callsFake(() => {
      pushesBeforeCreate = docker?.callsOf('push').length ?? -1
      return { repository: { repositoryName: 'hello-service' } }
    })
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(ecr.commandCalls(CreateRepositoryCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'hello-service', imageScanningConfiguration: { scanOnPush: true } }
    ])
    expect(pushesBeforeCreate).toBe(0)
    expect(commands()).toContain('push')
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })

  it('fails on a bad input before any docker or AWS call', async () => {
    setInputs({ 'stack-name': '1-bad_name' })
    const fake = useDocker()
    const clientFactory = jest.fn(() => clients)
    await run({ clients: clientFactory, wait: noWait })

    expect(failure()).toBe(
      "Input 'stack-name' ('1-bad_name') is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters."
    )
    expect(process.exitCode).toBe(1)
    expect(fake.calls()).toEqual([])
    expect(clientFactory).not.toHaveBeenCalled()
    for (const mock of [sts, ecr, s3, cfn]) expect(mock.calls()).toHaveLength(0)
  })

  it('fails when the Docker engine is not running, before asking AWS anything', async () => {
    useDocker({ noDaemon: true })
    await runAction()

    expect(failure()).toMatch(
      /^The Docker engine is not running or not reachable \(docker version: Cannot connect/
    )
    expect(commands()).toEqual(['version'])
    expect(sts.calls()).toHaveLength(0)
  })

  it('fails before the build and the push when the bucket is in another region', async () => {
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' })
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `Input 'bucket': S3 bucket '${BUCKET}' is in eu-central-1, but the stack deploys to ${REGION}; CloudFormation needs the template in the same region: use a bucket in ${REGION}, or set 'region' to eu-central-1.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version'])
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it('removes the private DOCKER_CONFIG when the push fails', async () => {
    const fake = useDocker({ pushFail: true })
    await runAction()

    expect(failure()).toBe(
      `docker push ${IMAGE_URI} failed (exit code 1): denied: Your authorization token has expired. Reauthenticate and try again.`
    )
    expect(process.exitCode).toBe(1)
    const configs = new Set(fake.callsOf('login').map((c) => c.dockerConfig))
    expect(configs.size).toBe(1)
    for (const dir of configs) expect(existsSync(dir ?? '')).toBe(false)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it('succeeds with "no changes" when the change set of an existing stack is empty', async () => {
    const existing = createdStack({
      StackStatus: 'UPDATE_COMPLETE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI },
        { ParameterKey: 'Stage', ParameterValue: 'prod' },
        { ParameterKey: 'DbPassword', ParameterValue: '****' }
      ]
    })
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [existing] })
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({ Stacks: [existing] })
    cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
      .rejects(
        awsError('ChangeSetNotFoundException', `ChangeSet [${CHANGE_SET_NAME}] does not exist`)
      )
    cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).resolves({
      ChangeSetId: CHANGE_SET_ID,
      StackId: STACK_ID,
      Status: 'FAILED',
      StatusReason:
        "The submitted information didn't contain changes. Submit different information to create a change set.",
      ExecutionStatus: 'UNAVAILABLE'
    })
    cfn.on(DeleteChangeSetCommand).resolves({})
    useDocker()
    await runAction()

    expect(failure()).toBeUndefined()
    expect(process.exitCode).toBeUndefined()
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input).toMatchObject({
      ChangeSetType: 'UPDATE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
        { ParameterKey: 'Stage', UsePreviousValue: true },
        { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
      ]
    })
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0)
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(stdout.lines()).toContain(`Deployed ${STACK}: no changes`)
    expect(readOutputs()).toMatchObject({
      'stack-status': 'UPDATE_COMPLETE',
      'change-set-id': CHANGE_SET_ID
    })
    expect(readFileSync(summaryFile, 'utf8')).toContain('None: the stack already matched.')
  })
})
