/**
 * The building blocks of the modes: createChangeSet (review), executeChangeSet and
 * executeExistingChangeSet (two-step approval), deleteStack, the optional CreateChangeSet fields,
 * nested stacks' changes, parameter changes and termination protection.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  UpdateTerminationProtectionCommand,
  type DescribeChangeSetCommandInput,
  type DescribeChangeSetCommandOutput,
  type Stack,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import {
  createChangeSet,
  deleteStack,
  deployStack,
  executeChangeSet,
  executeExistingChangeSet,
  type DeployRequest
} from '../src/cloudformation.js'
import { DeployError } from '../src/errors.js'
import {
  disabledRollbackHint,
  parameterChanges,
  rollbackConfiguration,
  type ParameterChange
} from '../src/stack-rules.js'
import {
  awsError,
  captureStdout,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  changeSetArn,
  event,
  fakeClock,
  REGION,
  resourceChange,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing
} from '../__fixtures__/aws.js'

const cfn = mockClient(CloudFormationClient)
const client = new CloudFormationClient({ region: REGION })

const TEMPLATE_URL = `https://artifacts.s3.${REGION}.amazonaws.com/${STACK_NAME}/b1/template.json`
const ROLE_ARN = 'arn:aws:iam::123456789012:role/cfn-deployer'
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:stack-events'
const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors'
const EMPTY_REASON =
  "The submitted information didn't contain changes. Submit different information to create a change set."

const MODIFY_FUNCTION = resourceChange('Modify', 'HelloFunction', 'AWS::Lambda::Function', {
  Replacement: 'False',
  PhysicalResourceId: 'hello-svc-HelloFunction-1'
})
const ADD_FUNCTION = resourceChange('Add', 'HelloFunction', 'AWS::Lambda::Function')
const OUTPUTS = [{ OutputKey: 'Url', OutputValue: 'https://example.com' }]

let stdout: ReturnType<typeof captureStdout>

beforeEach(() => {
  cfn.reset()
  stdout = captureStdout()
  cfn.on(CreateChangeSetCommand).resolves({ Id: CHANGE_SET_ID, StackId: STACK_ID })
  cfn.on(ExecuteChangeSetCommand).resolves({})
  cfn.on(DeleteChangeSetCommand).resolves({})
  cfn.on(DeleteStackCommand).resolves({})
  cfn.on(UpdateTerminationProtectionCommand).resolves({ StackId: STACK_ID })
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] })
})
afterEach(() => stdout.restore())

function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
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

/** DescribeStacks answers in call order; the last repeats. */
function describeStacks(...answers: Array<Stack | Error>): void {
  const queue = [...answers]
  cfn.on(DescribeStacksCommand).callsFake(async () => {
    const next = queue.length > 1 ? queue.shift() : queue[0]
    if (next instanceof Error) throw next
    return { Stacks: [next] }
  })
}

/**
 * DescribeChangeSet: `byId` maps a change set id/ARN (or the name) to its answers in call order
 * (the last repeats; an Error is thrown). A name with no entry is ChangeSetNotFound.
 */
function describeChangeSets(
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

function describeStackEvents(...pages: StackEvent[][]): void {
  const queue = [...pages]
  cfn.on(DescribeStackEventsCommand).callsFake(async () => ({
    StackEvents: queue.length > 1 ? queue.shift() : queue[0]
  }))
}

function inputs(command: Parameters<typeof cfn.commandCalls>[0]): unknown[] {
  return cfn.commandCalls(command).map((call): unknown => call.args[0].input)
}

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
  throw new Error('expected a DeployError')
}

describe('CreateChangeSet optional fields', () => {
  const OPTIONAL: Partial<DeployRequest> = {
    roleArn: ROLE_ARN,
    notificationArns: [TOPIC_ARN],
    rollbackConfiguration: rollbackConfiguration([ALARM_ARN], 10),
    deploymentMode: 'REVERT_DRIFT',
    includeNestedStacks: true
  }

  it('passes RoleARN, NotificationARNs, RollbackConfiguration, DeploymentMode and IncludeNestedStacks exactly', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [] }] })

    await createChangeSet(client, request(OPTIONAL), fakeClock())

    expect(inputs(CreateChangeSetCommand)).toEqual([
      {
        StackName: STACK_NAME,
        ChangeSetName: CHANGE_SET_NAME,
        ChangeSetType: 'UPDATE',
        TemplateURL: TEMPLATE_URL,
        Parameters: [{ ParameterKey: 'MemorySize', ParameterValue: '1024' }],
        Capabilities: undefined,
        Tags: [],
        Description: 'build b1',
        RoleARN: ROLE_ARN,
        NotificationARNs: [TOPIC_ARN],
        RollbackConfiguration: {
          RollbackTriggers: [{ Arn: ALARM_ARN, Type: 'AWS::CloudWatch::Alarm' }],
          MonitoringTimeInMinutes: 10
        },
        DeploymentMode: 'REVERT_DRIFT',
        IncludeNestedStacks: true
      }
    ])
  })

  it('sends none of them when none is set', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [] }] })

    await createChangeSet(
      client,
      request({ notificationArns: [], includeNestedStacks: false }),
      fakeClock()
    )

    const sent = inputs(CreateChangeSetCommand)[0] as Record<string, unknown>
    for (const key of [
      'RoleARN',
      'NotificationARNs',
      'RollbackConfiguration',
      'DeploymentMode',
      'IncludeNestedStacks'
    ]) {
      expect(sent).not.toHaveProperty(key)
    }
  })

  it('leaves DeploymentMode out of a CREATE change set: a new stack has no drift', async () => {
    describeStacks(stackMissing())
    describeChangeSets({
      [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }]
    })

    await createChangeSet(client, request(OPTIONAL), fakeClock())

    const sent = inputs(CreateChangeSetCommand)[0] as Record<string, unknown>
    expect(sent).toMatchObject({ ChangeSetType: 'CREATE', RoleARN: ROLE_ARN })
    expect(sent).not.toHaveProperty('DeploymentMode')
    expect(stdout.lines()).toContain(
      'Deployment mode REVERT_DRIFT left out: a new stack has no drift.'
    )
  })
})

describe('createChangeSet', () => {
  it('returns a ready UPDATE change set with its changes and parameter changes, executing nothing', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', {
        Parameters: [
          { ParameterKey: 'MemorySize', ParameterValue: '512' },
          { ParameterKey: 'DbPassword', ParameterValue: '****' },
          { ParameterKey: 'Stage', ParameterValue: 'prod' }
        ]
      })
    )
    describeChangeSets({
      [CHANGE_SET_ID]: [
        { Status: 'CREATE_PENDING' },
        {
          Status: 'CREATE_COMPLETE',
          Changes: [MODIFY_FUNCTION],
          Parameters: [
            { ParameterKey: 'MemorySize', ParameterValue: '1024' },
            { ParameterKey: 'DbPassword', ParameterValue: '****' },
            { ParameterKey: 'Stage', ParameterValue: 'prod' }
          ]
        }
      ]
    })

    const result = await createChangeSet(client, request(), fakeClock())

    expect(result).toEqual({
      changeSetId: CHANGE_SET_ID,
      changeSetName: CHANGE_SET_NAME,
      stackId: STACK_ID,
      stackName: STACK_NAME,
      type: 'UPDATE',
      empty: false,
      changes: [
        {
          action: 'Modify',
          logicalId: 'HelloFunction',
          type: 'AWS::Lambda::Function',
          replacement: 'False',
          physicalId: 'hello-svc-HelloFunction-1'
        }
      ],
      parameterChanges: [{ key: 'MemorySize', old: '512', new: '1024' }]
    })
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
    expect(stdout.lines()).toEqual([
      `Creating UPDATE change set ${CHANGE_SET_NAME} for stack ${STACK_NAME}`,
      '  Modify HelloFunction (AWS::Lambda::Function) replacement: False',
      '  Parameter MemorySize: 512 → 1024'
    ])
  })

  it('lists no parameter changes for a CREATE change set', async () => {
    describeStacks(stackMissing())
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [ADD_FUNCTION],
          Parameters: [{ ParameterKey: 'MemorySize', ParameterValue: '1024' }]
        }
      ]
    })

    const result = await createChangeSet(client, request(), fakeClock())

    expect(result.type).toBe('CREATE')
    expect(result).not.toHaveProperty('parameterChanges')
  })

  it('returns an empty change set with the stack as it stands, deleting the change set', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS, StackStatus: 'UPDATE_COMPLETE' })
    )
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'FAILED', StatusReason: EMPTY_REASON }] })

    const result = await createChangeSet(
      client,
      request({ noFailOnEmptyChangeset: true }),
      fakeClock()
    )

    expect(result).toEqual({
      changeSetId: CHANGE_SET_ID,
      changeSetName: CHANGE_SET_NAME,
      stackId: STACK_ID,
      stackName: STACK_NAME,
      type: 'UPDATE',
      empty: true,
      changes: [],
      stackStatus: 'UPDATE_COMPLETE',
      outputs: OUTPUTS
    })
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
  })

  it('fails on an empty change set unless told not to', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'FAILED', StatusReason: EMPTY_REASON }] })

    const error = await failure(createChangeSet(client, request(), fakeClock()))

    expect(error.message).toContain("set 'no-fail-on-empty-changeset: true'")
  })
})

describe('nested stacks', () => {
  const NETWORK_CS = changeSetArn('nested-network', 'hello-svc-Network')
  const SUBNETS_CS = changeSetArn('nested-subnets', 'hello-svc-Network-Subnets')

  it("lists each nested stack's changes after its row, with the parent's logical id, all pages, recursively", async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          IncludeNestedStacks: true,
          Changes: [
            resourceChange('Modify', 'Network', 'AWS::CloudFormation::Stack', {
              ChangeSetId: NETWORK_CS
            }),
            MODIFY_FUNCTION
          ]
        }
      ],
      [NETWORK_CS]: [
        {
          Changes: [resourceChange('Add', 'Vpc|Endpoint', 'AWS::EC2::VPCEndpoint')],
          NextToken: 'p2'
        },
        {
          Changes: [
            resourceChange('Modify', 'Subnets', 'AWS::CloudFormation::Stack', {
              ChangeSetId: SUBNETS_CS
            })
          ]
        }
      ],
      [SUBNETS_CS]: [
        {
          Changes: [
            resourceChange('Remove', 'SubnetC', 'AWS::EC2::Subnet', { Replacement: 'True' })
          ]
        }
      ]
    })

    const result = await createChangeSet(
      client,
      request({ includeNestedStacks: true }),
      fakeClock()
    )

    expect(
      result.changes.map(({ action, logicalId, parent }) => ({ action, logicalId, parent }))
    ).toEqual([
      { action: 'Modify', logicalId: 'Network', parent: undefined },
      { action: 'Add', logicalId: 'Vpc|Endpoint', parent: 'Network' },
      { action: 'Modify', logicalId: 'Subnets', parent: 'Network' },
      { action: 'Remove', logicalId: 'SubnetC', parent: 'Network/Subnets' },
      { action: 'Modify', logicalId: 'HelloFunction', parent: undefined }
    ])
    expect(result.changes[0]).not.toHaveProperty('parent')
    // Nested change sets are read by ARN alone, every page.
    expect(inputs(DescribeChangeSetCommand).slice(2)).toEqual([
      { ChangeSetName: NETWORK_CS, NextToken: undefined },
      { ChangeSetName: NETWORK_CS, NextToken: 'p2' },
      { ChangeSetName: SUBNETS_CS, NextToken: undefined }
    ])
    expect(stdout.lines()).toEqual(
      expect.arrayContaining([
        '  Add Network/Vpc|Endpoint (AWS::EC2::VPCEndpoint)',
        '  Remove Network/Subnets/SubnetC (AWS::EC2::Subnet) replacement: True'
      ])
    )
  })

  it('stops reading nested change sets five levels down', async () => {
    const levels = Array.from({ length: 7 }, (_, i) => changeSetArn(`level-${i + 1}`))
    const answers: Record<string, Array<Partial<DescribeChangeSetCommandOutput>>> = {
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [
            resourceChange('Modify', 'L1', 'AWS::CloudFormation::Stack', {
              ChangeSetId: levels[0]
            })
          ]
        }
      ]
    }
    levels.forEach((arn, i) => {
      answers[arn] = [
        {
          Changes: [
            resourceChange('Modify', `L${i + 2}`, 'AWS::CloudFormation::Stack', {
              ChangeSetId: levels[i + 1] ?? 'none'
            })
          ]
        }
      ]
    })
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets(answers)

    const result = await createChangeSet(client, request(), fakeClock())

    expect(result.changes.map((row) => row.logicalId)).toEqual(['L1', 'L2', 'L3', 'L4', 'L5', 'L6'])
    expect(result.changes[5]?.parent).toBe('L1/L2/L3/L4/L5')
    expect(inputs(DescribeChangeSetCommand)).toHaveLength(2 + 5)
    expect(stdout.lines()).toContain(
      '  (changes of L1/L2/L3/L4/L5/L6 not listed: nested more than 5 deep)'
    )
  })

  it('warns and keeps going when a nested change set cannot be read', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [
            resourceChange('Modify', 'Network', 'AWS::CloudFormation::Stack', {
              ChangeSetId: NETWORK_CS
            }),
            MODIFY_FUNCTION
          ]
        }
      ],
      [NETWORK_CS]: [awsError('AccessDenied', 'not authorized to perform DescribeChangeSet')]
    })

    const result = await createChangeSet(client, request(), fakeClock())

    expect(result.changes.map((row) => row.logicalId)).toEqual(['Network', 'HelloFunction'])
    expect(stdout.lines()).toContain(
      '::warning::Could not read the changes of nested stack Network: not authorized to perform DescribeChangeSet'
    )
  })
})

describe('executeChangeSet', () => {
  const READY = { changeSetId: CHANGE_SET_ID, stackId: STACK_ID, stackName: STACK_NAME }

  it('executes without DisableRollback by default and returns the stack as deployed', async () => {
    describeStacks(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_COMPLETE', { Outputs: OUTPUTS }))

    const result = await executeChangeSet(client, READY, fakeClock())

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(inputs(ExecuteChangeSetCommand)[0]).not.toHaveProperty('DisableRollback')
    expect(result).toEqual({
      stackId: STACK_ID,
      stackStatus: 'UPDATE_COMPLETE',
      changeSetId: CHANGE_SET_ID,
      noChanges: false,
      changes: [],
      outputs: OUTPUTS
    })
    expect(cfn).not.toHaveReceivedCommand(UpdateTerminationProtectionCommand)
    expect(stdout.lines()).toContain(`Executing change set ${CHANGE_SET_ID}`)
  })

  it('passes DisableRollback and explains what to do when the update fails', async () => {
    describeStacks(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_FAILED'))
    describeStackEvents(
      [],
      [
        event('e1', 'HelloFunction', 'UPDATE_FAILED', {
          ResourceStatusReason: 'Image not found'
        })
      ]
    )

    const error = await failure(
      executeChangeSet(client, READY, fakeClock(), { disableRollback: true })
    )

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, DisableRollback: true }
    ])
    expect(error.message).toBe(
      [
        `Stack ${STACK_NAME} ended in UPDATE_FAILED`,
        'Error ensuring AWS::Lambda::Function (HelloFunction): Image not found',
        disabledRollbackHint('UPDATE_FAILED')
      ].join('\n')
    )
    expect(stdout.lines()).toContain(
      `Executing change set ${CHANGE_SET_ID} (rollback disabled: failed resources are kept)`
    )
  })

  it('enables termination protection after a create', async () => {
    describeStacks(stack('CREATE_IN_PROGRESS'), stack('CREATE_COMPLETE'))

    await executeChangeSet(client, READY, fakeClock(), { terminationProtection: true })

    expect(inputs(UpdateTerminationProtectionCommand)).toEqual([
      { StackName: STACK_ID, EnableTerminationProtection: true }
    ])
    expect(callOrder().at(-1)).toBe('UpdateTerminationProtectionCommand')
    expect(stdout.lines()).toContain(`Enabled termination protection on stack ${STACK_NAME}`)
  })

  it('enables termination protection on an updated stack that lacks it', async () => {
    describeStacks(stack('UPDATE_COMPLETE', { EnableTerminationProtection: false }))

    await executeChangeSet(client, READY, fakeClock(), { terminationProtection: true })

    expect(inputs(UpdateTerminationProtectionCommand)).toEqual([
      { StackName: STACK_ID, EnableTerminationProtection: true }
    ])
  })

  it('leaves termination protection alone when the stack has it, or when it is not asked for', async () => {
    describeStacks(stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }))
    await executeChangeSet(client, READY, fakeClock(), { terminationProtection: true })
    describeStacks(stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }))
    await executeChangeSet(client, READY, fakeClock(), { terminationProtection: false })

    expect(cfn).not.toHaveReceivedCommand(UpdateTerminationProtectionCommand)
  })

  it('does not enable termination protection on a failed create', async () => {
    describeStacks(stack('ROLLBACK_COMPLETE'))

    await failure(executeChangeSet(client, READY, fakeClock(), { terminationProtection: true }))

    expect(cfn).not.toHaveReceivedCommand(UpdateTerminationProtectionCommand)
  })

  it('fails naming the permission when termination protection cannot be enabled', async () => {
    describeStacks(stack('CREATE_COMPLETE'))
    cfn
      .on(UpdateTerminationProtectionCommand)
      .rejects(awsError('AccessDenied', 'not authorized to perform UpdateTerminationProtection'))

    const error = await failure(
      executeChangeSet(client, READY, fakeClock(), { terminationProtection: true })
    )

    expect(error.message).toBe(
      `Stack ${STACK_NAME} is CREATE_COMPLETE, but enabling termination protection failed (cloudformation:UpdateTerminationProtection): not authorized to perform UpdateTerminationProtection`
    )
  })
})

describe('deployStack with execute options', () => {
  it('enables termination protection when the change set is empty and the stack lacks it', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'FAILED', StatusReason: EMPTY_REASON }] })

    const result = await deployStack(
      client,
      request({ noFailOnEmptyChangeset: true }),
      fakeClock(),
      { terminationProtection: true }
    )

    expect(result.noChanges).toBe(true)
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(inputs(UpdateTerminationProtectionCommand)).toEqual([
      { StackName: STACK_ID, EnableTerminationProtection: true }
    ])
  })

  it('passes DisableRollback and returns the parameter changes of an update', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', {
        Parameters: [{ ParameterKey: 'MemorySize', ParameterValue: '512' }]
      }),
      stack('UPDATE_COMPLETE')
    )
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [MODIFY_FUNCTION],
          Parameters: [{ ParameterKey: 'MemorySize', ParameterValue: '1024' }]
        }
      ]
    })

    const result = await deployStack(client, request(), fakeClock(), { disableRollback: true })

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, DisableRollback: true }
    ])
    expect(result.parameterChanges).toEqual([{ key: 'MemorySize', old: '512', new: '1024' }])
    expect(result.changes.map((row) => row.logicalId)).toEqual(['HelloFunction'])
  })
})

describe('executeExistingChangeSet', () => {
  const READY: Partial<DescribeChangeSetCommandOutput> = {
    ChangeSetId: CHANGE_SET_ID,
    ChangeSetName: CHANGE_SET_NAME,
    StackId: STACK_ID,
    StackName: STACK_NAME,
    Status: 'CREATE_COMPLETE',
    ExecutionStatus: 'AVAILABLE',
    Changes: [MODIFY_FUNCTION]
  }

  it('executes a change set named within the stack and returns its changes', async () => {
    describeChangeSets({ [CHANGE_SET_NAME]: [READY] })
    describeStacks(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_COMPLETE', { Outputs: OUTPUTS }))

    const result = await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_NAME, fakeClock())

    expect(inputs(DescribeChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_NAME, StackName: STACK_NAME }
    ])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
    expect(result).toEqual({
      stackId: STACK_ID,
      stackStatus: 'UPDATE_COMPLETE',
      changeSetId: CHANGE_SET_ID,
      noChanges: false,
      changes: [
        {
          action: 'Modify',
          logicalId: 'HelloFunction',
          type: 'AWS::Lambda::Function',
          replacement: 'False',
          physicalId: 'hello-svc-HelloFunction-1'
        }
      ],
      outputs: OUTPUTS
    })
    expect(stdout.lines().slice(0, 3)).toEqual([
      `Change set ${CHANGE_SET_NAME} of stack ${STACK_NAME}:`,
      '  Modify HelloFunction (AWS::Lambda::Function) replacement: False',
      `Executing change set ${CHANGE_SET_NAME}`
    ])
  })

  it('describes a change set given by ARN without the stack name, and passes the execute options', async () => {
    describeChangeSets({ [CHANGE_SET_ID]: [READY] })
    describeStacks(stack('CREATE_COMPLETE'))

    await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_ID, fakeClock(), {
      disableRollback: true,
      terminationProtection: true
    })

    expect(inputs(DescribeChangeSetCommand)).toEqual([{ ChangeSetName: CHANGE_SET_ID }])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, DisableRollback: true }
    ])
    expect(cfn).toHaveReceivedCommandWith(UpdateTerminationProtectionCommand, {
      EnableTerminationProtection: true
    })
  })

  it('waits for a change set still being created', async () => {
    describeChangeSets({
      [CHANGE_SET_NAME]: [
        { ...READY, Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' },
        READY
      ]
    })
    describeStacks(stack('UPDATE_COMPLETE'))
    const clock = fakeClock()

    await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_NAME, clock)

    expect(clock.slept).toEqual([500])
    expect(cfn).toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it.each<[string, Partial<DescribeChangeSetCommandOutput>, string]>([
    [
      'OBSOLETE',
      { ExecutionStatus: 'OBSOLETE' },
      `Change set ${CHANGE_SET_NAME} of stack ${STACK_NAME} cannot be executed: it is OBSOLETE (the stack changed after it was created). Create and review a new change set.`
    ],
    [
      'EXECUTE_COMPLETE',
      { ExecutionStatus: 'EXECUTE_COMPLETE' },
      `Change set ${CHANGE_SET_NAME} of stack ${STACK_NAME} was already executed (EXECUTE_COMPLETE).`
    ],
    [
      'FAILED',
      {
        Status: 'FAILED',
        ExecutionStatus: 'UNAVAILABLE',
        StatusReason: 'Template format error: unresolved resource dependency'
      },
      `Change set ${CHANGE_SET_NAME} of stack ${STACK_NAME} cannot be executed (Status FAILED, ExecutionStatus UNAVAILABLE): Template format error: unresolved resource dependency.`
    ]
  ])('refuses a change set that is %s, in CloudFormation words', async (_, state, message) => {
    describeChangeSets({ [CHANGE_SET_NAME]: [{ ...READY, ...state }] })

    const error = await failure(
      executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_NAME, fakeClock())
    )

    expect(error.message).toBe(message)
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it('says which change set and stack were not found', async () => {
    describeChangeSets({})

    const error = await failure(
      executeExistingChangeSet(client, STACK_NAME, 'hello-svc-b0', fakeClock())
    )

    expect(error.message).toBe(
      `Change set hello-svc-b0 of stack ${STACK_NAME} was not found (ChangeSet [hello-svc-b0] does not exist): it was executed or deleted already, or belongs to another account or region. Create and review a new change set.`
    )
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
  })

  it('refuses a change set ARN of another stack', async () => {
    describeChangeSets({ [CHANGE_SET_ID]: [{ ...READY, StackName: 'other-svc' }] })

    const error = await failure(
      executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_ID, fakeClock())
    )

    expect(error.message).toBe(
      `Change set ${CHANGE_SET_ID} belongs to stack other-svc, not ${STACK_NAME}.`
    )
  })

  it('names DescribeChangeSet when the change set cannot be read', async () => {
    describeChangeSets({ [CHANGE_SET_NAME]: [awsError('AccessDenied', 'not authorized')] })

    const error = await failure(
      executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_NAME, fakeClock())
    )

    expect(error.message).toBe(
      `Could not read change set ${CHANGE_SET_NAME} of stack ${STACK_NAME} (cloudformation:DescribeChangeSet): not authorized`
    )
  })
})

describe('deleteStack', () => {
  it('succeeds without deleting anything when there is no stack', async () => {
    describeStacks(stackMissing())

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: false, status: 'DELETE_COMPLETE' })
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
    expect(stdout.lines()).toEqual([`Stack ${STACK_NAME} does not exist: nothing to delete.`])
  })

  it('deletes the stack by id and waits for DELETE_COMPLETE, streaming events', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_IN_PROGRESS'), stack('DELETE_COMPLETE'))
    const old = [event('old', STACK_NAME, 'UPDATE_COMPLETE')]
    const started = event('d1', STACK_NAME, 'DELETE_IN_PROGRESS', {
      ResourceStatusReason: 'User Initiated'
    })
    describeStackEvents(old, [started, ...old])
    const clock = fakeClock()

    const result = await deleteStack(client, STACK_NAME, clock, { roleArn: ROLE_ARN })

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
    expect(inputs(DeleteStackCommand)).toEqual([{ StackName: STACK_ID, RoleARN: ROLE_ARN }])
    expect(inputs(DescribeStacksCommand)).toEqual([
      { StackName: STACK_NAME },
      { StackName: STACK_ID },
      { StackName: STACK_ID }
    ])
    expect(clock.slept).toEqual([500])
    expect(stdout.lines()).toEqual([
      `Deleting stack ${STACK_NAME}`,
      `12:01:02 ${STACK_NAME} AWS::CloudFormation::Stack DELETE_IN_PROGRESS User Initiated`,
      `Stack ${STACK_NAME} deleted (DELETE_COMPLETE)`
    ])
  })

  it('sends no RoleARN unless given one', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_COMPLETE'))

    await deleteStack(client, STACK_NAME, fakeClock())

    expect(inputs(DeleteStackCommand)).toEqual([{ StackName: STACK_ID }])
    expect(inputs(DeleteStackCommand)[0]).not.toHaveProperty('RoleARN')
  })

  it('counts a stack that no longer answers to its id as deleted', async () => {
    describeStacks(stack('CREATE_COMPLETE'), stack('DELETE_IN_PROGRESS'), stackMissing(STACK_ID))

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
  })

  it('refuses a stack with termination protection and says how to remove it', async () => {
    describeStacks(stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} has termination protection enabled, so it was not deleted. Turn it off first: \`aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name ${STACK_NAME}\` (or in the console: Stack actions → Edit termination protection).`
    )
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
  })

  it('lists the resources that could not be deleted when it ends in DELETE_FAILED', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete' })
    )
    const bucketFailed = event('d2', 'Bucket', 'DELETE_FAILED', {
      ResourceType: 'AWS::S3::Bucket',
      ResourceStatusReason: 'The bucket you tried to delete is not empty'
    })
    const stackFailed = event('d3', STACK_NAME, 'DELETE_FAILED', {
      PhysicalResourceId: STACK_ID,
      ResourceStatusReason: 'The following resource(s) failed to delete: [Bucket]'
    })
    describeStackEvents([], [bucketFailed], [stackFailed, bucketFailed])

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      [
        `Deleting stack ${STACK_NAME} ended in DELETE_FAILED`,
        'AWS::S3::Bucket (Bucket): The bucket you tried to delete is not empty',
        `Fix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again, or delete it keeping them: \`aws cloudformation delete-stack --stack-name ${STACK_NAME} --retain-resources Bucket\`.`
      ].join('\n')
    )
  })

  it('falls back to the stack status reason when no event names a resource', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('DELETE_FAILED', { StackStatusReason: 'Role is invalid or cannot be assumed' })
    )

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `Deleting stack ${STACK_NAME} ended in DELETE_FAILED: Role is invalid or cannot be assumed\nFix the resources that could not be deleted (an S3 bucket must be empty, for example) and delete again, or retain them with \`aws cloudformation delete-stack --retain-resources\`.`
    )
  })

  it('waits for a busy stack before deleting it', async () => {
    describeStacks(
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE'),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_COMPLETE')
    )

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result.existed).toBe(true)
    expect(stdout.lines()[0]).toBe(
      `Stack ${STACK_NAME} is busy (UPDATE_IN_PROGRESS); waiting for that operation to finish first.`
    )
    expect(callOrder().slice(0, 4)).toEqual([
      'DescribeStacksCommand',
      'DescribeStacksCommand',
      'DescribeStackEventsCommand',
      'DeleteStackCommand'
    ])
    expect(inputs(DeleteStackCommand)).toEqual([{ StackName: STACK_ID }])
  })

  it('does not delete again a stack another operation is already deleting', async () => {
    describeStacks(stack('DELETE_IN_PROGRESS'), stack('DELETE_COMPLETE'))

    const result = await deleteStack(client, STACK_NAME, fakeClock())

    expect(result).toEqual({ existed: true, stackId: STACK_ID, status: 'DELETE_COMPLETE' })
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand)
  })

  it("fails with CloudFormation's words when DeleteStack is refused", async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    cfn.on(DeleteStackCommand).rejects(awsError('AccessDenied', 'not authorized'))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock()))

    expect(error.message).toBe(
      `CloudFormation refused to delete stack ${STACK_NAME} (DeleteStack): not authorized`
    )
  })

  it('gives up at the timeout', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), stack('DELETE_IN_PROGRESS'))

    const error = await failure(deleteStack(client, STACK_NAME, fakeClock(60_000)))

    expect(error.message).toBe(
      `Stack ${STACK_ID} was still DELETE_IN_PROGRESS after waiting 1 minute (timeout-minutes).`
    )
  })
})

describe('parameterChanges', () => {
  it.each<
    [
      string,
      Parameters<typeof parameterChanges>[0],
      Parameters<typeof parameterChanges>[1],
      ParameterChange[]
    ]
  >([
    [
      'nothing changed',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      []
    ],
    [
      'a changed value',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '2' }],
      [{ key: 'A', old: '1', new: '2' }]
    ],
    ['a new parameter', [], [{ ParameterKey: 'B', ParameterValue: 'x' }], [{ key: 'B', new: 'x' }]],
    [
      'a removed parameter',
      [{ ParameterKey: 'C', ParameterValue: 'y' }],
      [],
      [{ key: 'C', old: 'y' }]
    ],
    [
      'NoEcho values on both sides (unknown, never shown)',
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      []
    ],
    [
      'a new NoEcho parameter, still masked',
      [],
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      [{ key: 'Secret', new: '****' }]
    ],
    [
      'UsePreviousValue without a value',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', UsePreviousValue: true }],
      []
    ],
    [
      'an empty value replacing one',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '' }],
      [{ key: 'A', old: '1', new: '' }]
    ]
  ])('%s', (_, current, proposed, expected) => {
    expect(parameterChanges(current, proposed)).toEqual(expected)
  })
})

describe('rollbackConfiguration', () => {
  it('makes each alarm a trigger, with the monitoring time only when given', () => {
    expect(rollbackConfiguration([ALARM_ARN, `${ALARM_ARN}-2`])).toEqual({
      RollbackTriggers: [
        { Arn: ALARM_ARN, Type: 'AWS::CloudWatch::Alarm' },
        { Arn: `${ALARM_ARN}-2`, Type: 'AWS::CloudWatch::Alarm' }
      ]
    })
    expect(rollbackConfiguration([ALARM_ARN], 0)).toHaveProperty('MonitoringTimeInMinutes', 0)
  })
})

describe('disabledRollbackHint', () => {
  it.each([
    ['UPDATE_FAILED', 'Fix the cause and deploy again'],
    ['CREATE_FAILED', 'the next deploy then recreates the stack']
  ])('explains %s', (status, text) => {
    expect(disabledRollbackHint(status)).toContain(text)
    expect(disabledRollbackHint(status)).toContain('rollback-stack --stack-name <stack>')
  })

  it('has nothing to add for rolled-back states', () => {
    expect(disabledRollbackHint('UPDATE_ROLLBACK_COMPLETE')).toBeUndefined()
  })
})
