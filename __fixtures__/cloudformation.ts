/**
 * Stand-ins for the tests of src/aws/cloudformation/: the fixture's stack and change set (ids,
 * stacks, events, resource changes, a fake clock for `WaitOptions`), the mocked client (one per
 * test file, as each file loads its own modules), the hooks a test file registers, the answers
 * tests script, and two change set requests: the one the deploy flow builds for an image, and a
 * minimal one.
 */
import { afterEach, beforeEach, expect } from '@jest/globals'
import {
  CancelUpdateStackCommand,
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  UpdateTerminationProtectionCommand,
  type Change,
  type DescribeChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type Stack,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import type { DeployRequest } from '../src/aws/cloudformation/types.js'
import type { WaitOptions } from '../src/aws/cloudformation/wait.js'
import { DeployError } from '../src/base/errors.js'
import { requestToken } from '../src/aws/cloudformation/tokens.js'
import { buildParameters } from '../src/rules/stack-rules.js'
import { ACCOUNT_ID, awsError, captureStdout, REGION } from './aws.js'

export const STACK_NAME = 'hello-svc'
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${STACK_NAME}/0b1c2d3e-1111-2222-3333-444455556666`
export const CHANGE_SET_NAME = 'oci-stack-deploy-build-42'
export const CHANGE_SET_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:changeSet/${CHANGE_SET_NAME}/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff`

/** A stack as DescribeStacks returns it, in `status`. */
export function stack(status: string, overrides: Partial<Stack> = {}): Stack {
  return {
    StackName: STACK_NAME,
    StackId: STACK_ID,
    StackStatus: status as Stack['StackStatus'],
    CreationTime: new Date('2024-05-01T10:00:00Z'),
    ...overrides
  }
}

/** A stack event; `id` becomes the EventId, the timestamp is fixed so log lines are predictable. */
export function event(
  id: string,
  logicalId: string,
  status: string,
  overrides: Partial<StackEvent> = {}
): StackEvent {
  return {
    EventId: id,
    StackId: STACK_ID,
    StackName: STACK_NAME,
    LogicalResourceId: logicalId,
    ResourceType: logicalId === STACK_NAME ? 'AWS::CloudFormation::Stack' : 'AWS::Lambda::Function',
    ResourceStatus: status as StackEvent['ResourceStatus'],
    Timestamp: new Date('2024-05-01T12:01:02Z'),
    ...overrides
  }
}

/** DescribeStacks' answer for a stack that does not exist. */
export function stackMissing(name = STACK_NAME): Error {
  return awsError('ValidationError', `Stack with id ${name} does not exist`)
}

/** WaitOptions whose `sleep` only moves the clock forward; `slept` records each delay. */
export interface FakeClock extends WaitOptions {
  slept: number[]
}

export function fakeClock(timeoutMs = 10 * 60_000, start = Date.UTC(2024, 4, 1, 12)): FakeClock {
  let time = start
  const slept: number[] = []
  return {
    timeoutMs,
    initialPollMs: 500,
    maxPollMs: 1500,
    slept,
    now: () => time,
    sleep: async (ms) => {
      slept.push(ms)
      time += ms
    }
  }
}

/** The ARN of a change set `name` of `stack` (nested stacks' change sets have their own). */
export function changeSetArn(
  name: string,
  stack = STACK_NAME,
  id = '00000000-0000-0000-0000-000000000001'
): string {
  return `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:changeSet/${name}/${id}-${stack}`
}

/** A resource change as DescribeChangeSet lists it; `ChangeSetId` marks a nested stack's change set. */
export function resourceChange(
  action: string,
  logicalId: string,
  type: string,
  overrides: Partial<NonNullable<Change['ResourceChange']>> = {}
): Change {
  return {
    Type: 'Resource',
    ResourceChange: {
      Action: action as NonNullable<Change['ResourceChange']>['Action'],
      LogicalResourceId: logicalId,
      ResourceType: type,
      ...overrides
    }
  }
}

export const cfn = mockClient(CloudFormationClient)
export const client = new CloudFormationClient({ region: REGION })

export const TEMPLATE_URL = `https://artifacts.s3.${REGION}.amazonaws.com/${STACK_NAME}/build-42/${STACK_NAME}-cftemplate.json?versionId=v1`
export const IMAGE_URI = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/spartaoci:build-42`
export const NEW_STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${STACK_NAME}/aaaaaaaa-0000-0000-0000-000000000002`
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/cfn-deployer'
export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:stack-events'
export const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors'
export const EMPTY_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set."

export const ADD_FUNCTION = resourceChange('Add', 'HelloFunction', 'AWS::Lambda::Function')
export const MODIFY_FUNCTION = resourceChange('Modify', 'HelloFunction', 'AWS::Lambda::Function', {
  Replacement: 'False',
  PhysicalResourceId: 'hello-svc-HelloFunction-1'
})
export const MODIFY_ROLE: Change = resourceChange('Modify', 'HelloRole', 'AWS::IAM::Role', {
  PhysicalResourceId: 'hello-svc-HelloRole-1AB2',
  Replacement: 'True'
})
/** ADD_FUNCTION and MODIFY_FUNCTION as rows of a result's `changes`. */
export const ADD_FUNCTION_ROW = {
  action: 'Add',
  logicalId: 'HelloFunction',
  type: 'AWS::Lambda::Function',
  replacement: '',
  physicalId: ''
}
export const MODIFY_FUNCTION_ROW = {
  action: 'Modify',
  logicalId: 'HelloFunction',
  type: 'AWS::Lambda::Function',
  replacement: 'False',
  physicalId: 'hello-svc-HelloFunction-1'
}
export const OUTPUTS = [
  { OutputKey: 'FunctionArn', OutputValue: 'arn:aws:lambda:eu-west-1:1:function:hello' }
]
export const PREVIOUS_PARAMETERS = [
  { ParameterKey: 'CodeImageURI', ParameterValue: 'old-image' },
  { ParameterKey: 'MemorySize', ParameterValue: '512' }
]

/**
 * The stack as read once an operation this test started has run: its LastUpdatedTime is newer
 * than `stack()`'s, so the read cannot be a stale copy of the stack before the operation.
 */
export function deployed(status: string, overrides: Partial<Stack> = {}): Stack {
  return stack(status, { LastUpdatedTime: new Date('2024-05-01T12:05:00Z'), ...overrides })
}

/** The idempotency tokens this process sends for the fixture's stack and change set. */
export const TOKENS = {
  createChangeSet: requestToken('create-change-set', `${STACK_NAME}\n${CHANGE_SET_NAME}`),
  execute: requestToken('execute', `${STACK_ID}\n${CHANGE_SET_ID}`),
  delete: requestToken('delete', STACK_ID),
  deleteFailed: requestToken('delete-failed', STACK_ID)
}

/**
 * The CreateChangeSet input of the fixture's stack and change set: the token, the names, `type`,
 * the template URL, then what the request sets (`fields`).
 */
export function createChangeSetInput(type: 'CREATE' | 'UPDATE', fields: Record<string, unknown>) {
  return {
    ClientToken: TOKENS.createChangeSet,
    StackName: STACK_NAME,
    ChangeSetName: CHANGE_SET_NAME,
    ChangeSetType: type,
    TemplateURL: TEMPLATE_URL,
    ...fields
  }
}

/** What deployStack returns for the fixture's stack and change set, `stackStatus` and `fields`. */
export function deployResult(stackStatus: string, fields: Record<string, unknown>) {
  return { stackId: STACK_ID, stackStatus, changeSetId: CHANGE_SET_ID, outputs: OUTPUTS, ...fields }
}

/** What createChangeSet returns for the fixture's UPDATE change set, with `fields`. */
export function changeSetResult(fields: Record<string, unknown>) {
  return {
    changeSetId: CHANGE_SET_ID,
    changeSetName: CHANGE_SET_NAME,
    stackId: STACK_ID,
    stackName: STACK_NAME,
    type: 'UPDATE',
    ...fields
  }
}

/** The sets of previous parameters each `request().parameters` callback received. */
export const previousSeen: Set<string>[] = []

/** Clears the mock and the record, and answers the write commands with success. */
export function resetCloudFormation(): void {
  cfn.reset()
  previousSeen.length = 0
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: STACK_ID })
  cfn.on(ExecuteChangeSetCommand).resolves({})
  cfn.on(DeleteChangeSetCommand).resolves({})
  cfn.on(DeleteStackCommand).resolves({})
  cfn.on(CancelUpdateStackCommand).resolves({})
  cfn.on(UpdateTerminationProtectionCommand).resolves({ StackId: STACK_ID })
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] })
}

/**
 * Registers the hooks of a CloudFormation test file: before each test the mock is reset (writes
 * succeed) and stdout is captured; after it stdout is restored. `lines()` reads the running test's
 * stdout.
 */
export function useCloudFormationMock(): { lines: () => string[] } {
  let stdout: ReturnType<typeof captureStdout> | undefined
  beforeEach(() => {
    resetCloudFormation()
    stdout = captureStdout()
  })
  afterEach(() => stdout?.restore())
  return { lines: () => stdout?.lines() ?? [] }
}

/** The request the deploy flow builds: the image parameter, UsePreviousValue for what the stack has. */
export function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    stackName: STACK_NAME,
    templateUrl: TEMPLATE_URL,
    parameters: (previous) => {
      previousSeen.push(previous)
      return buildParameters(
        ['CodeImageURI', 'MemorySize', 'LogLevel'],
        new Map([
          ['CodeImageURI', IMAGE_URI],
          ['LogLevel', 'debug']
        ]),
        previous
      )
    },
    capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    tags: [
      { Key: 'team', Value: 'platform' },
      { Key: 'io:sparta:buildId', Value: 'build-42' }
    ],
    changeSetName: CHANGE_SET_NAME,
    description: 'oci-stack-deploy build build-42',
    noFailOnEmptyChangeset: false,
    ...overrides
  }
}

/** A request with one parameter and nothing optional. */
export function minimalRequest(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    stackName: STACK_NAME,
    templateUrl: TEMPLATE_URL,
    parameters: () => [{ ParameterKey: 'MemorySize', ParameterValue: '1024' }],
    capabilities: [],
    tags: [],
    changeSetName: CHANGE_SET_NAME,
    description: 'build b1',
    noFailOnEmptyChangeset: false,
    ...overrides
  }
}

/** DescribeStacks answers in call order (by name or by id); the last answer repeats. */
export function describeStacks(...answers: Array<Stack | Error>): void {
  const queue = [...answers]
  cfn.on(DescribeStacksCommand).callsFake(async () => {
    const next = queue.length > 1 ? queue.shift() : queue[0]
    if (next instanceof Error) throw next
    return { Stacks: [next] }
  })
}

/**
 * A stack deleted and created again (NEW_STACK_ID): DescribeStacks answers `reads` in order, then
 * the new stack CREATE_COMPLETE; CreateChangeSet makes the new stack and the change set adds the
 * function.
 */
export function describeRecreatedStack(...reads: Array<Stack | Error>): void {
  describeStacks(...reads, stack('CREATE_COMPLETE', { StackId: NEW_STACK_ID }))
  describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: NEW_STACK_ID })
}

/**
 * DescribeChangeSet: by id, the answers in call order (the last repeats); by name (the look-up for
 * a change set left by an earlier run), `stale` or ChangeSetNotFound.
 */
export function describeChangeSet(
  answers: Array<Partial<DescribeChangeSetCommandOutput>>,
  stale?: Partial<DescribeChangeSetCommandOutput>
): void {
  const queue = [...answers]
  cfn.on(DescribeChangeSetCommand).callsFake(async (input: DescribeChangeSetCommandInput) => {
    if (input.ChangeSetName === CHANGE_SET_NAME) {
      if (stale) return stale
      throw awsError('ChangeSetNotFoundException', `ChangeSet [${CHANGE_SET_NAME}] does not exist`)
    }
    return queue.length > 1 ? queue.shift() : queue[0]
  })
}

/**
 * DescribeChangeSet: `byId` maps a change set id/ARN (or the name) to its answers in call order
 * (the last repeats; an Error is thrown). A name with no entry is ChangeSetNotFound.
 */
export function describeChangeSets(
  byId: Record<string, Array<Partial<DescribeChangeSetCommandOutput> | Error>>
): void {
  const queues = new Map(Object.entries(byId).map(([id, answers]) => [id, [...answers]]))
  cfn.on(DescribeChangeSetCommand).callsFake(async (input: DescribeChangeSetCommandInput) => {
    const queue = queues.get(input.ChangeSetName ?? '')
    if (!queue) {
      throw awsError(
        'ChangeSetNotFoundException',
        `ChangeSet [${input.ChangeSetName}] does not exist`
      )
    }
    const next = queue.length > 1 ? queue.shift() : queue[0]
    if (next instanceof Error) throw next
    return next ?? {}
  })
}

/** DescribeStackEvents pages (newest first, as CloudFormation returns them) in call order. */
export function describeStackEvents(...pages: StackEvent[][]): void {
  const queue = [...pages]
  cfn.on(DescribeStackEventsCommand).callsFake(async () => ({
    StackEvents: queue.length > 1 ? queue.shift() : queue[0]
  }))
}

/** The inputs of every call of `command`, in order. */
export function inputs(command: Parameters<typeof cfn.commandCalls>[0]): unknown[] {
  return cfn.commandCalls(command).map((call): unknown => call.args[0].input)
}

/** Command names in the order the client received them. */
export function callOrder(): string[] {
  return cfn.calls().map((call) => (call.args[0] as object).constructor.name)
}

/** The DeployError `promise` rejects with (the test fails if it resolves or throws another). */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError)
    return error as Error
  }
  throw new Error('expected a DeployError')
}
