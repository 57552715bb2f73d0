/**
 * deployStack and createChangeSet up to a ready change set: the stack readied (busy, ROLLBACK_COMPLETE,
 * blocked), the change set submitted (type, parameters, optional fields, a stale one replaced)
 * and settled (ready, empty, failed).
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandInput,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import 'aws-sdk-client-mock-jest'
import { createChangeSet } from '../../../src/aws/cloudformation/change-sets.js'
import {
  KNOWN_STACK_MAX_AGE_MS,
  type DeployRequest
} from '../../../src/aws/cloudformation/types.js'
import { deployStack } from '../../../src/aws/cloudformation/execute.js'
import { rollbackConfiguration } from '../../../src/rules/stack-rules.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  ADD_FUNCTION,
  ADD_FUNCTION_ROW,
  ALARM_ARN,
  callOrder,
  cfn,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  changeSetResult,
  client,
  createChangeSetInput,
  deployed,
  deployResult,
  describeChangeSet,
  describeChangeSets,
  describeRecreatedStack,
  describeStacks,
  EMPTY_REASON,
  failure,
  fakeClock,
  IMAGE_URI,
  inputs,
  minimalRequest,
  MODIFY_FUNCTION,
  MODIFY_FUNCTION_ROW,
  MODIFY_ROLE,
  NEW_STACK_ID,
  OUTPUTS,
  PREVIOUS_PARAMETERS,
  previousSeen,
  request,
  ROLE_ARN,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing,
  TOKENS,
  TOPIC_ARN,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

const stdout = useCloudFormationMock()

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
      createChangeSetInput('CREATE', {
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
      })
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
    expect(result).toEqual(
      deployResult('CREATE_COMPLETE', { noChanges: false, changes: [ADD_FUNCTION_ROW] })
    )
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
      createChangeSetInput('UPDATE', {
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
      })
    ])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, ClientRequestToken: TOKENS.execute }
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
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
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
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }])

    await deployStack(client, request(), fakeClock())

    expect(cfn).toHaveReceivedCommandWith(DescribeChangeSetCommand, {
      ChangeSetName: CHANGE_SET_NAME
    })
    expect(cfn).not.toHaveReceivedCommand(DeleteChangeSetCommand)
  })

  it('reads every page of changes (NextToken)', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
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
    expect(result).toEqual(deployResult('UPDATE_COMPLETE', { noChanges: true, changes: [] }))
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
    describeRecreatedStack(
      stack('ROLLBACK_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('DELETE_IN_PROGRESS'),
      stack('DELETE_COMPLETE'),
      stack('CREATE_IN_PROGRESS', { StackId: NEW_STACK_ID })
    )

    const result = await deployStack(client, request(), fakeClock())

    expect(inputs(DeleteStackCommand)).toEqual([
      { StackName: STACK_ID, ClientRequestToken: TOKENS.deleteFailed }
    ])
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
    describeRecreatedStack(stack('ROLLBACK_COMPLETE'), stackMissing(STACK_ID))

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

describe("deployStack: preflight's stack read", () => {
  it('uses a read younger than KNOWN_STACK_MAX_AGE_MS instead of reading the stack again', async () => {
    describeStacks(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    const clock = fakeClock()
    const known = {
      stack: stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      readAt: clock.now() - KNOWN_STACK_MAX_AGE_MS
    }

    const result = await deployStack(client, request({ known }), clock)

    expect(callOrder()[0]).not.toBe('DescribeStacksCommand')
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'UPDATE' })
    expect(previousSeen).toEqual([new Set(['CodeImageURI', 'MemorySize'])])
    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
  })

  it('reads the stack again when the read is older', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS }),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])
    const clock = fakeClock()
    const known = { stack: undefined, readAt: clock.now() - KNOWN_STACK_MAX_AGE_MS - 1 }

    await deployStack(client, request({ known }), clock)

    expect(callOrder()[0]).toBe('DescribeStacksCommand')
    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'UPDATE' })
  })
})

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

    await createChangeSet(client, minimalRequest(OPTIONAL), fakeClock())

    expect(inputs(CreateChangeSetCommand)).toEqual([
      createChangeSetInput('UPDATE', {
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
      })
    ])
  })

  it('sends none of them when none is set', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [] }] })

    await createChangeSet(
      client,
      minimalRequest({ notificationArns: [], includeNestedStacks: false }),
      fakeClock()
    )

    const sent = inputs(CreateChangeSetCommand)[0] as Record<string, unknown>
    for (const key of [
      'RoleARN',
      'NotificationARNs',
      'RollbackConfiguration',
      'DeploymentMode',
      'IncludeNestedStacks',
      'DeploymentConfig'
    ]) {
      expect(sent).not.toHaveProperty(key)
    }
  })

  it.each<['CREATE' | 'UPDATE', boolean]>([
    ['CREATE', false],
    ['CREATE', true],
    ['UPDATE', false],
    ['UPDATE', true]
  ])(
    'express: a %s change set gets DeploymentConfig Mode EXPRESS with DisableRollback %s',
    async (type, disableRollback) => {
      describeStacks(type === 'CREATE' ? stackMissing() : stack('UPDATE_COMPLETE'))
      describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [] }] })
      await createChangeSet(client, minimalRequest({ express: { disableRollback } }), fakeClock())
      expect(inputs(CreateChangeSetCommand)[0]).toMatchObject({
        ChangeSetType: type,
        DeploymentConfig: { Mode: 'EXPRESS', DisableRollback: disableRollback }
      })
    }
  )

  it('leaves DeploymentMode out of a CREATE change set: a new stack has no drift', async () => {
    describeStacks(stackMissing())
    describeChangeSets({
      [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [ADD_FUNCTION] }]
    })

    await createChangeSet(client, minimalRequest(OPTIONAL), fakeClock())

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

    const result = await createChangeSet(client, minimalRequest(), fakeClock())

    expect(result).toEqual(
      changeSetResult({
        empty: false,
        changes: [MODIFY_FUNCTION_ROW],
        parameterChanges: [{ key: 'MemorySize', old: '512', new: '1024' }]
      })
    )
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

    const result = await createChangeSet(client, minimalRequest(), fakeClock())

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
      minimalRequest({ noFailOnEmptyChangeset: true }),
      fakeClock()
    )

    expect(result).toEqual(
      changeSetResult({
        empty: true,
        changes: [],
        stackStatus: 'UPDATE_COMPLETE',
        outputs: OUTPUTS
      })
    )
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
  })

  it('fails on an empty change set unless told not to', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'FAILED', StatusReason: EMPTY_REASON }] })

    const error = await failure(createChangeSet(client, minimalRequest(), fakeClock()))

    expect(error.message).toContain("set 'no-fail-on-empty-changeset: true'")
  })
})
