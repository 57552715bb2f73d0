/**
 * A whole-action harness for the fail-safe and secrets suites: `run()` with real @actions/core
 * (inputs from INPUT_*, outputs and summary in temp files, stdout and stderr captured), the real
 * exec runner driving the recording fake `docker`, and aws-sdk-client-mock for the four clients.
 *
 * `useHarness()` registers the jest hooks; call it once at the top of a test file.
 */
import { afterAll, afterEach, beforeAll, beforeEach, jest } from '@jest/globals'
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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { AwsClients } from '../../src/aws-clients.js'
import type { ManifestReader } from '../../src/deploy-flow.js'
import { run, type Dependencies } from '../../src/main.js'
import { awsError } from '../aws.js'
import { installFakeDocker, type FakeDocker, type FakeDockerOptions } from '../fake-docker.js'

export const ACCOUNT = '123456789012'
export const REGION = 'eu-west-2'
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`
export const BUCKET = 'artifacts-bucket'
export const STACK = 'Hello-Service'
export const BUILD_ID = 'c0ffee0123456789c0ffee0123456789c0ffee01'
export const IMAGE_URI = `${REGISTRY}/hello-service:${BUILD_ID}`
export const CHANGE_SET_NAME = `${STACK}-${BUILD_ID}`
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/5a6b7c8d-1111-2222-3333-444455556666`
export const CHANGE_SET_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/${CHANGE_SET_NAME}/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff`
/** The ECR password, and the base64 `AWS:<password>` token GetAuthorizationToken returns. */
export const PASSWORD = 'eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtN2M0MWQwYjIifQ'
export const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
/** The value given to the NoEcho parameter DbPassword. */
export const DB_PASSWORD = 'db-pass-5e1f'

/** The service's template: the image parameter, a parameter with a Default, a NoEcho one. */
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
  FunctionName:
    Value: !Ref HelloFunction
`

/** Inputs of a valid deploy of the workspace's service. */
export const INPUTS: Record<string, string> = {
  dockerfile: 'service/Dockerfile',
  binary: 'bootstrap',
  bucket: BUCKET,
  'stack-name': STACK,
  template: 'template.yaml',
  region: REGION,
  'parameter-overrides': `DbPassword=${DB_PASSWORD}`,
  tags: 'team=platform',
  'timeout-minutes': '5'
}

/** Commands that change something in AWS: none may be sent for bad input. */
export const WRITE_COMMANDS = [
  'CreateChangeSetCommand',
  'ExecuteChangeSetCommand',
  'PutObjectCommand',
  'CreateRepositoryCommand',
  'DeleteStackCommand',
  'UpdateTerminationProtectionCommand',
  'BatchDeleteImageCommand',
  'DeleteChangeSetCommand',
  'CancelUpdateStackCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand'
]

/** The only commands the checks before the first write may send (no login: no GetAuthorizationToken). */
export const PREFLIGHT_READS = [
  'GetCallerIdentityCommand',
  'GetBucketLocationCommand',
  'GetBucketVersioningCommand',
  'DescribeStacksCommand',
  'DescribeRepositoriesCommand'
]

export function createdStack(overrides: Partial<Stack> = {}): Stack {
  return {
    StackName: STACK,
    StackId: STACK_ID,
    StackStatus: 'CREATE_COMPLETE',
    CreationTime: new Date('2024-05-01T10:00:00Z'),
    Outputs: [{ OutputKey: 'FunctionName', OutputValue: 'Hello-Service-HelloFunction-x1' }],
    ...overrides
  }
}

/** A registry that holds no tag yet and reads back every pushed digest as a Lambda-ready manifest. */
const getManifest: ManifestReader = async (_login, _repository, reference) =>
  reference.startsWith('sha256:')
    ? { digest: reference, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }
    : undefined

const noWait = { initialPollMs: 0, maxPollMs: 0, sleep: async () => {}, now: () => Date.now() }

/** Lines written to a stream while a test runs. */
function capture(stream: NodeJS.WriteStream): { text: () => string; restore: () => void } {
  const chunks: string[] = []
  const spy = jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
    )
    return true
  })
  return { text: () => chunks.join(''), restore: () => spy.mockRestore() }
}

/** Undoes @actions/core's escaping of a command's message. */
function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

export function useHarness() {
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

  let workspace = ''
  let outputFile = ''
  let summaryFile = ''
  let savedEnv: NodeJS.ProcessEnv = {}
  let stdout: ReturnType<typeof capture> | undefined
  let stderr: ReturnType<typeof capture> | undefined
  let docker: FakeDocker | undefined
  /** What the action asked to post as the pull-request comment, in order. */
  const comments: unknown[] = []

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
    cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({ Stacks: [createdStack()] })
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
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] })
    cfn.on(ExecuteChangeSetCommand).resolves({})
  }

  beforeAll(() => {
    // core.summary remembers the first path it sees, so one file serves every test of the file.
    summaryFile = join(mkdtempSync(join(tmpdir(), 'fail-safe-summary-')), 'summary.md')
  })

  afterAll(() => {
    rmSync(dirname(summaryFile), { recursive: true, force: true })
  })

  beforeEach(() => {
    savedEnv = { ...process.env }
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('INPUT_')) delete process.env[name]
    }
    workspace = mkdtempSync(join(tmpdir(), 'fail-safe-'))
    write(
      'service/Dockerfile',
      'FROM scratch\nARG SPARTA_BINARY\nARG SPARTA_ECR_LABEL_NAME\nCOPY ${SPARTA_BINARY} /var/runtime/bootstrap\nLABEL ${SPARTA_ECR_LABEL_NAME}=hello-service\n'
    )
    write('service/bootstrap', Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
    write('template.yaml', TEMPLATE)
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
    comments.length = 0
    for (const mock of [sts, ecr, s3, cfn]) mock.reset()
    mockAws()
    stdout = capture(process.stdout)
    stderr = capture(process.stderr)
  })

  afterEach(() => {
    stdout?.restore()
    stderr?.restore()
    docker?.restore()
    docker = undefined
    for (const name of Object.keys(process.env)) {
      if (!(name in savedEnv)) delete process.env[name]
    }
    Object.assign(process.env, savedEnv)
    process.exitCode = undefined
    rmSync(workspace, { recursive: true, force: true })
  })

  /** Writes a workspace file (creating its directories); returns its absolute path. */
  function write(path: string, content: string | Buffer): string {
    const absolute = join(workspace, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, content)
    return absolute
  }

  /** Sets the inputs as the runner does (INPUT_<NAME>, hyphens kept) on top of `INPUTS`. */
  function setInputs(overrides: Record<string, string> = {}): void {
    for (const [name, value] of Object.entries({ ...INPUTS, ...overrides })) {
      process.env[`INPUT_${name.toUpperCase()}`] = value
    }
  }

  /** Installs the recording fake docker; by default the image is labelled `hello-service`. */
  function useDocker(options: FakeDockerOptions = {}): FakeDocker {
    docker?.restore()
    docker = installFakeDocker({
      password: PASSWORD,
      labels: { '${SPARTA_ECR_LABEL_NAME}': 'hello-service' },
      ...options
    })
    return docker
  }

  /** The whole log: stdout, then stderr. */
  function log(): string {
    return `${stdout?.text() ?? ''}${stderr?.text() ?? ''}`
  }

  function lines(): string[] {
    return log()
      .split(/\r?\n/)
      .filter((line) => line !== '')
  }

  /** Every `::error::` message, unescaped. */
  function errors(): string[] {
    return (stdout?.text() ?? '')
      .split(/\r?\n/)
      .filter((line) => line.startsWith('::error::'))
      .map((line) => unescapeCommand(line.slice('::error::'.length)))
  }

  /** Names of every command sent to the four clients, in client order. */
  function awsCommands(): string[] {
    return [sts, ecr, s3, cfn].flatMap((mock) =>
      mock.calls().map((call) => (call.args[0] as object).constructor.name)
    )
  }

  return {
    clients,
    sts,
    ecr,
    s3,
    cfn,
    workspace: () => workspace,
    outputFile: () => outputFile,
    summaryFile: () => summaryFile,
    write,
    setInputs,
    useDocker,
    docker: () => docker,
    log,
    lines,
    errors,
    awsCommands,
    /** Docker subcommands run so far (`build`, `push`…). */
    dockerCommands: (): string[] => (docker?.argvs() ?? []).map((argv) => argv[0] ?? ''),
    summary: (): string => readFileSync(summaryFile, 'utf8'),
    outputs: (): string => readFileSync(outputFile, 'utf8'),
    /** Every pull-request comment the action asked for (none is posted), as JSON. */
    comments: (): string[] => comments.map((content) => JSON.stringify(content)),
    /** Runs the action with the mocked clients and no waiting; `overrides` replace dependencies. */
    run: (overrides: Partial<Dependencies> = {}): Promise<void> =>
      run({
        clients: () => clients,
        wait: noWait,
        getManifest,
        signals: [],
        comment: async (_token, _stackName, content) => {
          comments.push(content)
        },
        ...overrides
      })
  }
}

export type Harness = ReturnType<typeof useHarness>
