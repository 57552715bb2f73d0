import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
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
  type Change,
  type DescribeChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type Stack,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { deployStack, type DeployRequest } from '../src/cloudformation.js'
import { DeployError } from '../src/errors.js'
import { buildParameters } from '../src/stack-rules.js'
import {
  ACCOUNT_ID,
  awsError,
  captureStdout,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  event,
  fakeClock,
  REGION,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing
} from '../__fixtures__/aws.js'

const cfn = mockClient(CloudFormationClient)
const client = new CloudFormationClient({ region: REGION })

const TEMPLATE_URL = `https://artifacts.s3.${REGION}.amazonaws.com/${STACK_NAME}/build-42/${STACK_NAME}-cftemplate.json?versionId=v1`
const IMAGE_URI = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/spartaoci:build-42`
const NEW_STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${STACK_NAME}/aaaaaaaa-0000-0000-0000-000000000002`
const EMPTY_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set."

const ADD_FUNCTION: Change = {
  Type: 'Resource',
  ResourceChange: {
    Action: 'Add',
    LogicalResourceId: 'HelloFunction',
    ResourceType: 'AWS::Lambda::Function'
  }
}
const MODIFY_ROLE: Change = {
  Type: 'Resource',
  ResourceChange: {
    Action: 'Modify',
    LogicalResourceId: 'HelloRole',
    PhysicalResourceId: 'hello-svc-HelloRole-1AB2',
    ResourceType: 'AWS::IAM::Role',
    Replacement: 'True'
  }
}

/** The sets of previous parameters each `parameters` callback received. */
let previousSeen: Set<string>[]
let stdout: ReturnType<typeof captureStdout>

beforeEach(() => {
  cfn.reset()
  previousSeen = []
  stdout = captureStdout()
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: STACK_ID })
  cfn.on(ExecuteChangeSetCommand).resolves({})
  cfn.on(DeleteChangeSetCommand).resolves({})
  cfn.on(DeleteStackCommand).resolves({})
  cfn.on(CancelUpdateStackCommand).resolves({})
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] })
})
afterEach(() => stdout.restore())

/** The request main.ts builds: the image parameter, UsePreviousValue for what the stack has. */
function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
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

/** DescribeStacks answers in call order (by name or by id); the last answer repeats. */
function describeStacks(...answers: Array<Stack | Error>): void {
  const queue = [...answers]
  cfn.on(DescribeStacksCommand).callsFake(async () => {
    const next = queue.length > 1 ? queue.shift() : queue[0]
    if (next instanceof Error) throw next
    return { Stacks: [next] }
  })
}

/**
 * DescribeChangeSet: by id, the answers in call order (the last repeats); by name (the look-up for
 * a change set left by an earlier run), `stale` or ChangeSetNotFound.
 */
function describeChangeSet(
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

/** DescribeStackEvents pages (newest first, as CloudFormation returns them) in call order. */
function describeStackEvents(...pages: StackEvent[][]): void {
  const queue = [...pages]
  cfn.on(DescribeStackEventsCommand).callsFake(async () => ({
    StackEvents: queue.length > 1 ? queue.shift() : queue[0]
  }))
}

/** The inputs of every call of `command`, in order. */
function inputs(command: Parameters<typeof cfn.commandCalls>[0]): unknown[] {
  return cfn.commandCalls(command).map((call): unknown => call.args[0].input)
}

/** Command names in the order the client received them. */
function callOrder(): string[] {
  return cfn.calls().map((call) => (call.args[0] as object).constructor.name)
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError)
    return error as Error
  }
  throw new Error('expected the deploy to fail')
}

const OUTPUTS = [
  { OutputKey: 'FunctionArn', OutputValue: 'arn:aws:lambda:eu-west-1:1:function:hello' }
]
const PREVIOUS_PARAMETERS = [
  { ParameterKey: 'CodeImageURI', ParameterValue: 'old-image' },
  { ParameterKey: 'MemorySize', ParameterValue: '512' }
]

describe('deployStack: change set type and inputs', () => {
  it('creates a stack that does not exist with a CREATE change set', async () => {
    describeStacks(
      stackMissing(),
      stack('CREATE_IN_PROGRESS'),
      stack('CREATE_COMPLETE', { Outputs: OUTPUTS })
    )
    describeChangeSet([
      { Status: 'CREATE_PENDING' },
      { Status: 'CREATE_IN_PROGRESS' },
      { Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }
    ])
    const clock = fakeClock()

    const result = await deployStack(client, request(), clock)

    expect(inputs(DescribeStacksCommand)[0]).toEqual({ StackName: STACK_NAME })
    expect(previousSeen).toEqual([new Set()])
    expect(inputs(CreateChangeSetCommand)).toEqual([
      {
        StackName: STACK_NAME,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'CREATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI },
          { ParameterKey: 'LogLevel', ParameterValue: 'debug' }
        ],
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
        Tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'io:sparta:buildId', Value: 'build-42' }
        ],
        Description: 'oci-stack-deploy build build-42'
      }
    ])
    // No stack yet, so no earlier change set to look for: every DescribeChangeSet is by id.
    expect(inputs(DescribeChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID },
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID },
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn).toHaveReceivedCommandWith(ExecuteChangeSetCommand, {
      ChangeSetName: CHANGE_SET_ID,
      StackName: STACK_ID
    })
    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
    expect(result).toEqual({
      stackId: STACK_ID,
      stackStatus: 'CREATE_COMPLETE',
      changeSetId: CHANGE_SET_ID,
      noChanges: false,
      changes: [
        {
          action: 'Add',
          logicalId: 'HelloFunction',
          type: 'AWS::Lambda::Function',
          replacement: '',
          physicalId: ''
        }
      ],
      outputs: OUTPUTS
    })
    // Polls grow by half, bounded by maxPollMs; nothing sleeps for real.
    expect(clock.slept).toEqual([500, 750, 500])
  })

  it('updates an existing stack, keeping previous values only for parameters it has', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const result = await deployStack(client, request({ capabilities: [] }), fakeClock())

    expect(previousSeen).toEqual([new Set(['CodeImageURI', 'MemorySize'])])
    expect(inputs(CreateChangeSetCommand)).toEqual([
      {
        StackName: STACK_NAME,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'UPDATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [
          { ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI },
          { ParameterKey: 'MemorySize', UsePreviousValue: true },
          { ParameterKey: 'LogLevel', ParameterValue: 'debug' }
        ],
        Capabilities: undefined,
        Tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'io:sparta:buildId', Value: 'build-42' }
        ],
        Description: 'oci-stack-deploy build build-42'
      }
    ])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    expect(result.noChanges).toBe(false)
    expect(result.outputs).toEqual(OUTPUTS)
    expect(result.changes).toEqual([
      {
        action: 'Modify',
        logicalId: 'HelloRole',
        type: 'AWS::IAM::Role',
        replacement: 'True',
        physicalId: 'hello-svc-HelloRole-1AB2'
      }
    ])
  })

  it('creates (not updates) a stack left in REVIEW_IN_PROGRESS', async () => {
    describeStacks(
      stack('REVIEW_IN_PROGRESS', { Parameters: PREVIOUS_PARAMETERS }),
      stack('CREATE_IN_PROGRESS'),
      stack('CREATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])

    await deployStack(client, request(), fakeClock())

    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'CREATE' })
    expect(previousSeen).toEqual([new Set()])
    expect(cfn).toHaveReceivedCommandWith(ExecuteChangeSetCommand, { ChangeSetName: CHANGE_SET_ID })
  })

  it('removes a change set of the same name left by an earlier run before creating it again', async () => {
    const OLD_ID = CHANGE_SET_ID.replace('9f8e7d6c', '00000000')
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }], {
      ChangeSetId: OLD_ID,
      ChangeSetName: CHANGE_SET_NAME,
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: 'AVAILABLE'
    })

    await deployStack(client, request(), fakeClock())

    expect(inputs(DescribeChangeSetCommand)[0]).toEqual({
      ChangeSetName: CHANGE_SET_NAME,
      StackName: STACK_ID
    })
    expect(inputs(DeleteChangeSetCommand)).toEqual([{ ChangeSetName: OLD_ID, StackName: STACK_ID }])
    expect(callOrder().indexOf('DeleteChangeSetCommand')).toBeLessThan(
      callOrder().indexOf('CreateChangeSetCommand')
    )
    expect(stdout.lines()).toContain(
      `Replacing change set ${CHANGE_SET_NAME} left by an earlier run of this build.`
    )
  })

  it('deletes nothing when no earlier change set has the name', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])

    await deployStack(client, request(), fakeClock())

    expect(cfn).toHaveReceivedCommandWith(DescribeChangeSetCommand, {
      ChangeSetName: CHANGE_SET_NAME
    })
    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
  })

  it('reads every page of changes (NextToken)', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_COMPLETE'))
    cfn.on(DescribeChangeSetCommand).callsFake(async (input: DescribeChangeSetCommandInput) => {
      if (input.ChangeSetName === CHANGE_SET_NAME)
        throw awsError('ChangeSetNotFoundException', 'no')
      if (input.NextToken === 'page-2') return { Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }
      return { Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION], NextToken: 'page-2' }
    })

    const result = await deployStack(client, request(), fakeClock())

    expect(result.changes.map((row) => row.logicalId)).toEqual(['HelloFunction', 'HelloRole'])
    expect(inputs(DescribeChangeSetCommand).slice(1)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID },
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, NextToken: undefined },
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, NextToken: 'page-2' }
    ])
    expect(stdout.lines()).toEqual(
      expect.arrayContaining([
        '  Add HelloFunction (AWS::Lambda::Function)',
        '  Modify HelloRole (AWS::IAM::Role) replacement: True'
      ])
    )
  })

  it("fails with CloudFormation's words when it refuses the change set", async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([])
    cfn
      .on(CreateChangeSetCommand)
      .rejects(
        awsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]')
      )

    const error = await failure(deployStack(client, request({ capabilities: [] }), fakeClock()))

    expect(error.message).toBe(
      `CloudFormation refused the change set for ${STACK_NAME} (CreateChangeSet): Requires capabilities : [CAPABILITY_IAM]`
    )
  })

  it('names DescribeStacks when the stack cannot be read', async () => {
    describeStacks(
      awsError('AccessDenied', 'not authorized to perform cloudformation:DescribeStacks')
    )

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Could not describe stack ${STACK_NAME} (cloudformation:DescribeStacks): not authorized to perform cloudformation:DescribeStacks`
    )
    expect(cfn).not.toHaveReceivedCommand(CreateChangeSetCommand)
  })
})

describe('deployStack: empty and failed change sets', () => {
  it('succeeds without executing an empty change set when no-fail-on-empty-changeset is true', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    )
    describeChangeSet([{ Status: 'FAILED', StatusReason: EMPTY_REASON }])
    let deleted = false
    cfn.on(DeleteChangeSetCommand).callsFake(async () => {
      await new Promise((resolve) => setImmediate(resolve))
      deleted = true
      return {}
    })

    const result = await deployStack(client, request({ noFailOnEmptyChangeset: true }), fakeClock())

    // Awaited: the deletion finished before deployStack returned.
    expect(deleted).toBe(true)
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(result).toEqual({
      stackId: STACK_ID,
      stackStatus: 'UPDATE_COMPLETE',
      changeSetId: CHANGE_SET_ID,
      noChanges: true,
      changes: [],
      outputs: OUTPUTS
    })
    expect(stdout.lines()).toContain(
      `No changes: stack ${STACK_NAME} already matches this template and these parameters.`
    )
  })

  it('fails on an empty change set when no-fail-on-empty-changeset is false', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'FAILED', StatusReason: EMPTY_REASON }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `The change set for ${STACK_NAME} has no changes (${EMPTY_REASON}); set 'no-fail-on-empty-changeset: true' to treat that as success.`
    )
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it("fails with CloudFormation's StatusReason and deletes a change set that failed otherwise", async () => {
    const reason = 'Template error: instance of Fn::GetAtt references undefined resource HelloRole'
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'FAILED', StatusReason: reason }])

    const error = await failure(
      deployStack(client, request({ noFailOnEmptyChangeset: true }), fakeClock())
    )

    expect(error.message).toBe(`The change set for ${STACK_NAME} failed: ${reason}`)
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it('still reports the failure when the failed change set cannot be deleted', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'FAILED', StatusReason: 'Parameter X is invalid' }])
    cfn.on(DeleteChangeSetCommand).rejects(awsError('AccessDenied', 'denied'))

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(`The change set for ${STACK_NAME} failed: Parameter X is invalid`)
    expect(stdout.lines()).toContain(
      `::warning::Could not delete change set ${CHANGE_SET_ID}: denied`
    )
  })
})

describe('deployStack: stacks that are not ready', () => {
  it('recreates a stack left in ROLLBACK_COMPLETE', async () => {
    describeStacks(
      stack('ROLLBACK_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_COMPLETE'),
      stack('CREATE_IN_PROGRESS', { StackId: NEW_STACK_ID }),
      stack('CREATE_COMPLETE', { StackId: NEW_STACK_ID })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
    cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: NEW_STACK_ID })

    const result = await deployStack(client, request(), fakeClock())

    expect(inputs(DeleteStackCommand)).toEqual([{ StackName: STACK_ID }])
    expect(inputs(DescribeStacksCommand).slice(0, 3)).toEqual([
      { StackName: STACK_NAME },
      { StackName: STACK_ID },
      { StackName: STACK_ID }
    ])
    expect(callOrder().indexOf('DeleteStackCommand')).toBeLessThan(
      callOrder().indexOf('CreateChangeSetCommand')
    )
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'CREATE' })
    expect(previousSeen).toEqual([new Set()])
    expect(stdout.lines()).toContain(
      `Stack ${STACK_NAME} is in ROLLBACK_COMPLETE (its first create failed); deleting it to create it again.`
    )
    expect(result.stackId).toBe(NEW_STACK_ID)
    expect(result.stackStatus).toBe('CREATE_COMPLETE')
  })

  it('treats the deleted stack vanishing from DescribeStacks as deleted', async () => {
    describeStacks(
      stack('ROLLBACK_COMPLETE'),
      stackMissing(STACK_ID),
      stack('CREATE_COMPLETE', { StackId: NEW_STACK_ID })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])
    cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: NEW_STACK_ID })

    const result = await deployStack(client, request(), fakeClock())

    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'CREATE' })
    expect(result.stackStatus).toBe('CREATE_COMPLETE')
  })

  it('fails when the rolled-back stack cannot be deleted', async () => {
    describeStacks(
      stack('ROLLBACK_COMPLETE'),
      stack('DELETE_FAILED', { StackStatusReason: 'The bucket you tried to delete is not empty' })
    )

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Deleting the rolled-back stack ${STACK_NAME} ended in DELETE_FAILED: The bucket you tried to delete is not empty`
    )
    expect(cfn).not.toHaveReceivedCommand(CreateChangeSetCommand)
  })

  it('waits for a busy stack, then updates it', async () => {
    describeStacks(
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    const clock = fakeClock()

    const result = await deployStack(client, request(), clock)

    expect(stdout.lines()[0]).toBe(
      `Stack ${STACK_NAME} is busy (UPDATE_IN_PROGRESS); waiting for that operation to finish first.`
    )
    expect(callOrder().slice(0, 5)).toEqual([
      'DescribeStacksCommand',
      'DescribeStacksCommand',
      'DescribeStacksCommand',
      'DescribeStacksCommand',
      'DescribeChangeSetCommand'
    ])
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'UPDATE' })
    expect(previousSeen).toEqual([new Set(['CodeImageURI', 'MemorySize'])])
    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    // Two polls while busy, one while the update runs; each wait starts again at initialPollMs.
    expect(clock.slept).toEqual([500, 750, 500])
  })
})

describe('deployStack: failed updates', () => {
  const baseline = [event('old-1', STACK_NAME, 'UPDATE_COMPLETE')]
  const started = event('e1', STACK_NAME, 'UPDATE_IN_PROGRESS', {
    ResourceStatusReason: 'User Initiated'
  })
  const functionFailed = event('e2', 'HelloFunction', 'UPDATE_FAILED', {
    ResourceStatusReason:
      'Resource handler returned message: "Source image ... does not exist." (HandlerErrorCode: NotFound)'
  })
  const roleFailed = event('e3', 'HelloRole', 'UPDATE_FAILED', {
    ResourceType: 'AWS::IAM::Role',
    ResourceStatusReason: 'Resource update cancelled'
  })
  const rolledBack = event('e4', STACK_NAME, 'UPDATE_ROLLBACK_COMPLETE')

  it('fails naming each failed resource, and says the previous version is still in place', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_ROLLBACK_IN_PROGRESS'),
      stack('UPDATE_ROLLBACK_COMPLETE', { StackStatusReason: 'ignored when events explain it' })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    describeStackEvents(
      baseline,
      [functionFailed, started, ...baseline],
      [rolledBack, roleFailed, functionFailed, started, ...baseline]
    )

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      [
        `Stack ${STACK_NAME} ended in UPDATE_ROLLBACK_COMPLETE`,
        'Error ensuring AWS::Lambda::Function (HelloFunction): Resource handler returned message: "Source image ... does not exist." (HandlerErrorCode: NotFound)',
        'Error ensuring AWS::IAM::Role (HelloRole): Resource update cancelled',
        'The previous version of the stack is still in place.'
      ].join('\n')
    )
    expect(inputs(DescribeStackEventsCommand)[0]).toEqual({ StackName: STACK_ID })
  })

  it('falls back to the stack status reason when no event explains the failure', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_ROLLBACK_COMPLETE', { StackStatusReason: 'The following resource(s) failed' })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} ended in UPDATE_ROLLBACK_COMPLETE: The following resource(s) failed\nThe previous version of the stack is still in place.`
    )
  })

  it('explains continue-update-rollback when the rollback itself failed', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_ROLLBACK_FAILED'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    describeStackEvents(baseline, [
      event('r1', 'HelloRole', 'UPDATE_FAILED', {
        ResourceType: 'AWS::IAM::Role',
        ResourceStatusReason: 'Role is in use'
      }),
      ...baseline
    ])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toContain(`Stack ${STACK_NAME} ended in UPDATE_ROLLBACK_FAILED`)
    expect(error.message).toContain('Error ensuring AWS::IAM::Role (HelloRole): Role is in use')
    expect(error.message).toContain(
      'aws cloudformation continue-update-rollback --stack-name <stack>'
    )
  })

  it('refuses a stack stuck in UPDATE_ROLLBACK_FAILED before creating a change set', async () => {
    describeStacks(stack('UPDATE_ROLLBACK_FAILED'))

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} is in UPDATE_ROLLBACK_FAILED and cannot be updated. The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run \`aws cloudformation continue-update-rollback --stack-name <stack>\` (optionally with --resources-to-skip) before deploying again.`
    )
    expect(cfn).not.toHaveReceivedCommand(CreateChangeSetCommand)
  })

  it('says clearly when the stack disappears while it is deployed', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'), stackMissing(STACK_ID))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_ID} disappeared while waiting for it (deleted by someone else?).`
    )
  })

  it('says clearly when the stack is deleted while it is deployed', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_IN_PROGRESS'), stack('DELETE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} was deleted (DELETE_COMPLETE) while this deploy waited for it (by someone else?); run the deploy again to create it.`
    )
  })
})

describe('deployStack: timeouts', () => {
  it('cancels an update still running at the timeout and says how long it waited', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    const clock = fakeClock(90_000)
    const start = clock.now()

    const error = await failure(deployStack(client, request(), clock))

    expect(inputs(CancelUpdateStackCommand)).toEqual([{ StackName: STACK_ID }])
    expect(error.message).toBe(
      `Stack ${STACK_ID} was still UPDATE_IN_PROGRESS after waiting 1.5 minutes (timeout-minutes). Cancelled the update (CancelUpdateStack): CloudFormation rolls back to the previous version.`
    )
    expect(clock.now() - start).toBe(90_000)
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(1500)
  })

  it('reports a failed cancel', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    cfn
      .on(CancelUpdateStackCommand)
      .rejects(
        awsError('ValidationError', 'CancelUpdateStack cannot be called from current stack status')
      )

    const error = await failure(deployStack(client, request(), fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still UPDATE_IN_PROGRESS after waiting 1 minute (timeout-minutes). Cancelling the update failed: CancelUpdateStack cannot be called from current stack status.`
    )
  })

  it('does not cancel a create that times out', async () => {
    describeStacks(stackMissing(), stack('CREATE_IN_PROGRESS'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])

    const error = await failure(deployStack(client, request(), fakeClock(30_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still CREATE_IN_PROGRESS after waiting 30 seconds (timeout-minutes).`
    )
    expect(cfn).not.toHaveReceivedCommand(CancelUpdateStackCommand)
  })

  it('counts one timeout from the start for the change set and the execution together', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_IN_PROGRESS'))
    let polls = 0
    cfn.on(DescribeChangeSetCommand).callsFake(async (input: DescribeChangeSetCommandInput) => {
      if (input.ChangeSetName === CHANGE_SET_NAME)
        throw awsError('ChangeSetNotFoundException', 'no')
      polls += 1
      return polls < 40
        ? { Status: 'CREATE_IN_PROGRESS' }
        : { Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }
    })
    const clock = fakeClock(90_000)
    const start = clock.now()

    const error = await failure(deployStack(client, request(), clock))

    expect(cfn).toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(error.message).toMatch(/after waiting 1\.5 minutes \(timeout-minutes\)/)
    expect(clock.now() - start).toBe(90_000)
  })

  it('gives up on a change set that never becomes ready', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_IN_PROGRESS' }])

    const error = await failure(deployStack(client, request(), fakeClock(120_000)))

    expect(error.message).toBe(
      `Change set ${CHANGE_SET_NAME} was not ready after 2 minutes (timeout-minutes).`
    )
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })
})

describe('deployStack: log', () => {
  it('streams new stack events oldest first and leaves out earlier ones', async () => {
    const at = (time: string): Partial<StackEvent> => ({
      Timestamp: new Date(`2024-05-01T${time}Z`)
    })
    const old = [
      event('old-2', STACK_NAME, 'UPDATE_COMPLETE', at('09:00:10')),
      event('old-1', 'HelloFunction', 'UPDATE_COMPLETE', at('09:00:05'))
    ]
    const n1 = event('n1', STACK_NAME, 'UPDATE_IN_PROGRESS', {
      ...at('12:00:01'),
      ResourceStatusReason: 'User Initiated'
    })
    const n2 = event('n2', 'HelloFunction', 'UPDATE_IN_PROGRESS', at('12:00:03'))
    const n3 = event('n3', 'HelloFunction', 'UPDATE_COMPLETE', at('12:00:09'))
    const n4 = event('n4', STACK_NAME, 'UPDATE_COMPLETE', at('12:00:11'))
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    describeStackEvents(old, [n2, n1, ...old], [n2, n1, ...old], [n4, n3, n2, n1, ...old])

    await deployStack(client, request(), fakeClock())

    expect(stdout.lines()).toEqual([
      `Creating UPDATE change set ${CHANGE_SET_NAME} for stack ${STACK_NAME}`,
      '  Modify HelloRole (AWS::IAM::Role) replacement: True',
      `Executing change set ${CHANGE_SET_NAME}`,
      `12:00:01 ${STACK_NAME} AWS::CloudFormation::Stack UPDATE_IN_PROGRESS User Initiated`,
      '12:00:03 HelloFunction AWS::Lambda::Function UPDATE_IN_PROGRESS',
      '12:00:09 HelloFunction AWS::Lambda::Function UPDATE_COMPLETE',
      `12:00:11 ${STACK_NAME} AWS::CloudFormation::Stack UPDATE_COMPLETE`
    ])
  })

  it('keeps deploying when stack events cannot be read', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    cfn.on(DescribeStackEventsCommand).rejects(awsError('Throttling', 'Rate exceeded'))

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    expect(stdout.lines()).toContain('::debug::DescribeStackEvents failed: Rate exceeded')
  })
})
