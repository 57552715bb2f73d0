/**
 * Execution: deployStack's execute step, a reviewed change set executed by executeExistingChangeSet,
 * failed updates, DisableRollback and termination protection.
 */
import { deletedImageRecovery } from '../../../src/rules/image-recovery.js'
import { describe, expect, it } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type DescribeChangeSetCommandOutput,
  DescribeStackEventsCommand,
  ExecuteChangeSetCommand,
  UpdateTerminationProtectionCommand
} from '@aws-sdk/client-cloudformation'
import 'aws-sdk-client-mock-jest'
import { createChangeSet } from '../../../src/aws/cloudformation/change-sets.js'
import type { DeployResult, ExecuteOptions } from '../../../src/aws/cloudformation/types.js'
import { deployStack, executeExistingChangeSet } from '../../../src/aws/cloudformation/execute.js'
import { changesMarkdown } from '../../../src/report/report.js'
import { disabledRollbackHint } from '../../../src/rules/stack-rules.js'
import { DeployError } from '../../../src/base/errors.js'
import { awsError } from '../../../__fixtures__/aws.js'
import {
  callOrder,
  cfn,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  client,
  deployed,
  deployResult,
  describeChangeSet,
  describeChangeSets,
  describeStackEvents,
  describeStacks,
  EMPTY_REASON,
  event,
  failure,
  fakeClock,
  inputs,
  minimalRequest,
  MODIFY_FUNCTION,
  MODIFY_FUNCTION_ROW,
  MODIFY_ROLE,
  OUTPUTS,
  PREVIOUS_PARAMETERS,
  previousSeen,
  request,
  stack,
  STACK_ID,
  STACK_NAME,
  stackMissing,
  TOKENS,
  useCloudFormationMock
} from '../../../__fixtures__/cloudformation.js'

const stdout = useCloudFormationMock()

/** The fixture's change set, reviewed and ready to execute: it modifies the function. */
const READY: Partial<DescribeChangeSetCommandOutput> = {
  ChangeSetId: CHANGE_SET_ID,
  ChangeSetName: CHANGE_SET_NAME,
  StackId: STACK_ID,
  StackName: STACK_NAME,
  Status: 'CREATE_COMPLETE',
  ExecutionStatus: 'AVAILABLE',
  Changes: [MODIFY_FUNCTION]
}

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
        // The event says the source image is gone: the recovery comes first.
        ...deletedImageRecovery(STACK_NAME, 'UPDATE_ROLLBACK_COMPLETE', [
          { logicalId: 'HelloFunction', reason: 'Source image ... does not exist.' }
        ]),
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

  it('fixes forward a stack left CREATE_FAILED with rollback disabled (an UPDATE change set)', async () => {
    const failed = stack('CREATE_FAILED', {
      DisableRollback: true,
      Parameters: PREVIOUS_PARAMETERS
    })
    describeStacks(failed, stack('UPDATE_IN_PROGRESS'), deployed('UPDATE_COMPLETE'))
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_FUNCTION] }])

    const result = await deployStack(client, request(), fakeClock(), { disableRollback: true })

    expect(cfn).toHaveReceivedCommandWith(CreateChangeSetCommand, { ChangeSetType: 'UPDATE' })
    expect(previousSeen).toEqual([new Set(['CodeImageURI', 'MemorySize'])])
    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
  })

  it('refuses a CREATE_FAILED stack whose rollback was not disabled', async () => {
    describeStacks(stack('CREATE_FAILED', { DisableRollback: false }))

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} is in CREATE_FAILED and cannot be updated. Delete the stack (retaining the failed resources if needed) before deploying again.`
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

describe('executing a ready change set', () => {
  /** Executes the ready change set CHANGE_SET_ID of the stack (the second step of a review). */
  function execute(
    extra?: ExecuteOptions,
    described: Partial<DescribeChangeSetCommandOutput> = {}
  ): Promise<DeployResult> {
    describeChangeSets({
      [CHANGE_SET_ID]: [
        {
          ChangeSetId: CHANGE_SET_ID,
          StackId: STACK_ID,
          StackName: STACK_NAME,
          Status: 'CREATE_COMPLETE',
          ExecutionStatus: 'AVAILABLE',
          ...described
        }
      ]
    })
    return executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_ID, fakeClock(), extra)
  }

  it('executes without DisableRollback by default and returns the stack as deployed', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    )

    const result = await execute()

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, ClientRequestToken: TOKENS.execute }
    ])
    expect(inputs(ExecuteChangeSetCommand)[0]).not.toHaveProperty('DisableRollback')
    expect(result).toEqual(
      deployResult('UPDATE_COMPLETE', { noChanges: false, changes: [], parameterChanges: [] })
    )
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

    const error = await failure(execute({ disableRollback: true }))

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      {
        ChangeSetName: CHANGE_SET_ID,
        StackName: STACK_ID,
        ClientRequestToken: TOKENS.execute,
        DisableRollback: true
      }
    ])
    expect(error.message).toBe(
      [
        `Stack ${STACK_NAME} ended in UPDATE_FAILED`,
        'Error ensuring AWS::Lambda::Function (HelloFunction): Image not found',
        ...deletedImageRecovery(STACK_NAME, 'UPDATE_FAILED', [
          { logicalId: 'HelloFunction', reason: 'Image not found' }
        ]),
        disabledRollbackHint('UPDATE_FAILED')
      ].join('\n')
    )
    expect(stdout.lines()).toContain(
      `Executing change set ${CHANGE_SET_ID} (rollback disabled: failed resources are kept)`
    )
  })

  it('follows an express change set: no DisableRollback on execute, its rollback choice, express hints', async () => {
    describeStacks(stack('UPDATE_IN_PROGRESS'), stack('UPDATE_FAILED'))
    describeStackEvents(
      [],
      [event('e1', 'HelloFunction', 'UPDATE_FAILED', { ResourceStatusReason: 'Image not found' })]
    )

    // Created in express mode with DisableRollback left out: AWS disabled rollback.
    const error = await failure(execute({}, { DeploymentConfig: { Mode: 'EXPRESS' } }))

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, ClientRequestToken: TOKENS.execute }
    ])
    expect(error.message.split('\n').at(-1)).toBe(disabledRollbackHint('UPDATE_FAILED', true))
    expect(stdout.lines()).toContain(
      "The change set was created in express mode with rollback disabled; this step's disable-rollback does not change that."
    )
    expect(stdout.lines()).toContain(
      `Executing change set ${CHANGE_SET_ID} in express mode (rollback disabled: failed resources are kept)`
    )
  })

  it('enables termination protection after a create', async () => {
    describeStacks(stack('CREATE_IN_PROGRESS'), stack('CREATE_COMPLETE'))

    await execute({ terminationProtection: true })

    expect(inputs(UpdateTerminationProtectionCommand)).toEqual([
      { StackName: STACK_ID, EnableTerminationProtection: true }
    ])
    expect(callOrder().at(-1)).toBe('UpdateTerminationProtectionCommand')
    expect(stdout.lines()).toContain(`Enabled termination protection on stack ${STACK_NAME}`)
  })

  it('enables termination protection on an updated stack that lacks it', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { EnableTerminationProtection: false }),
      deployed('UPDATE_COMPLETE', { EnableTerminationProtection: false })
    )

    await execute({ terminationProtection: true })

    expect(inputs(UpdateTerminationProtectionCommand)).toEqual([
      { StackName: STACK_ID, EnableTerminationProtection: true }
    ])
  })

  it('leaves termination protection alone when the stack has it, or when it is not asked for', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }),
      deployed('UPDATE_COMPLETE', { EnableTerminationProtection: true })
    )
    await execute({ terminationProtection: true })
    describeStacks(
      stack('UPDATE_COMPLETE', { EnableTerminationProtection: true }),
      deployed('UPDATE_COMPLETE', { EnableTerminationProtection: true })
    )
    await execute({ terminationProtection: false })

    expect(cfn).not.toHaveReceivedCommand(UpdateTerminationProtectionCommand)
  })

  it('does not enable termination protection on a failed create', async () => {
    describeStacks(stack('ROLLBACK_COMPLETE'))

    await failure(execute({ terminationProtection: true }))

    expect(cfn).not.toHaveReceivedCommand(UpdateTerminationProtectionCommand)
  })

  it('fails naming the permission when termination protection cannot be enabled', async () => {
    describeStacks(stack('CREATE_COMPLETE'), deployed('CREATE_COMPLETE'))
    cfn
      .on(UpdateTerminationProtectionCommand)
      .rejects(awsError('AccessDenied', 'not authorized to perform UpdateTerminationProtection'))

    const error = await failure(execute({ terminationProtection: true }))

    expect(error.message).toBe(
      `Stack ${STACK_NAME} is CREATE_COMPLETE, but enabling termination protection failed (cloudformation:UpdateTerminationProtection): not authorized to perform UpdateTerminationProtection`
    )
  })
})

describe('deployStack with execute options', () => {
  it('reads a settling stack every 4th poll, and at once when its own end event shows (describeEvery)', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      deployed('UPDATE_COMPLETE')
    )
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [] }] })
    describeStackEvents([], [], [], [event('e1', STACK_NAME, 'UPDATE_COMPLETE')])
    const clock = { ...fakeClock(), maxPollMs: 500, describeEvery: 4 }

    const result = await deployStack(client, minimalRequest(), clock)

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    // The ready read, the first poll's, then the third poll's once the end event showed.
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(3)
    expect(clock.slept).toEqual([500, 500])
  })

  it('sends ExecuteChangeSet only after beforeExecute, and deletes the change set when it throws', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    describeChangeSets({
      [CHANGE_SET_ID]: [{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_FUNCTION] }]
    })
    cfn.on(DeleteChangeSetCommand).resolves({})

    const error = await failure(
      deployStack(client, minimalRequest(), fakeClock(), {
        beforeExecute: () => Promise.reject(new DeployError('docker push failed'))
      })
    )

    expect(error.message).toBe('docker push failed')
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand)
    expect(inputs(DeleteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID }
    ])
  })

  it('enables termination protection when the change set is empty and the stack lacks it', async () => {
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
    describeChangeSets({ [CHANGE_SET_ID]: [{ Status: 'FAILED', StatusReason: EMPTY_REASON }] })

    const result = await deployStack(
      client,
      minimalRequest({ noFailOnEmptyChangeset: true }),
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
      deployed('UPDATE_COMPLETE')
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

    const result = await deployStack(client, minimalRequest(), fakeClock(), {
      disableRollback: true
    })

    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      {
        ChangeSetName: CHANGE_SET_ID,
        StackName: STACK_ID,
        ClientRequestToken: TOKENS.execute,
        DisableRollback: true
      }
    ])
    expect(result.parameterChanges).toEqual([{ key: 'MemorySize', old: '512', new: '1024' }])
    expect(result.changes.map((row) => row.logicalId)).toEqual(['HelloFunction'])
  })
})

describe('executeExistingChangeSet', () => {
  it('executes a change set named within the stack and returns its changes', async () => {
    describeChangeSets({ [CHANGE_SET_NAME]: [READY] })
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      stack('UPDATE_COMPLETE', { Outputs: OUTPUTS })
    )

    const result = await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_NAME, fakeClock())

    expect(inputs(DescribeChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_NAME, StackName: STACK_NAME }
    ])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, ClientRequestToken: TOKENS.execute }
    ])
    expect(result).toEqual(
      deployResult('UPDATE_COMPLETE', {
        noChanges: false,
        changes: [MODIFY_FUNCTION_ROW],
        parameterChanges: []
      })
    )
    expect(stdout.lines().slice(0, 3)).toEqual([
      `Change set ${CHANGE_SET_NAME} of stack ${STACK_NAME}:`,
      '  Modify HelloFunction (AWS::Lambda::Function) replacement: False',
      `Executing change set ${CHANGE_SET_NAME}`
    ])
  })

  it('describes a change set given by ARN without the stack name, and passes the execute options', async () => {
    describeChangeSets({ [CHANGE_SET_ID]: [READY] })
    describeStacks(stack('CREATE_COMPLETE'), deployed('CREATE_COMPLETE'))

    await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_ID, fakeClock(), {
      disableRollback: true,
      terminationProtection: true
    })

    expect(inputs(DescribeChangeSetCommand)).toEqual([{ ChangeSetName: CHANGE_SET_ID }])
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      {
        ChangeSetName: CHANGE_SET_ID,
        StackName: STACK_ID,
        ClientRequestToken: TOKENS.execute,
        DisableRollback: true
      }
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
    describeStacks(stack('UPDATE_COMPLETE'), deployed('UPDATE_COMPLETE'))
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

describe('review and execute of one change set', () => {
  it('give the same changes-markdown, parameter table included', async () => {
    const current = stack('UPDATE_COMPLETE', { Parameters: PREVIOUS_PARAMETERS })
    const proposed = [
      { ParameterKey: 'CodeImageURI', ParameterValue: 'new-image' },
      { ParameterKey: 'MemorySize', ParameterValue: '512' },
      { ParameterKey: 'LogLevel', ParameterValue: 'debug' }
    ]
    const ready = { ...READY, Parameters: proposed }
    describeStacks(current)
    describeChangeSets({ [CHANGE_SET_ID]: [ready] })
    const review = await createChangeSet(client, request(), fakeClock())

    describeStacks(current, stack('UPDATE_IN_PROGRESS'), deployed('UPDATE_COMPLETE'))
    const executed = await executeExistingChangeSet(client, STACK_NAME, CHANGE_SET_ID, fakeClock())

    const reviewed = changesMarkdown(review.changes, review.parameterChanges)
    expect(changesMarkdown(executed.changes, executed.parameterChanges)).toBe(reviewed)
    expect(executed.parameterChanges).toEqual([
      { key: 'CodeImageURI', old: 'old-image', new: 'new-image' },
      { key: 'LogLevel', new: 'debug' }
    ])
  })
})

describe('a write retried after its answer was lost (idempotency tokens)', () => {
  /** The change set modifies the role; ExecuteChangeSet fails with `error` while it is `status`. */
  function executeRefusedWhile(
    status: DescribeChangeSetCommandOutput['ExecutionStatus'],
    error: Error
  ): void {
    describeChangeSets({
      [CHANGE_SET_ID]: [
        { Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] },
        { Status: 'CREATE_COMPLETE', ExecutionStatus: status }
      ]
    })
    cfn.on(ExecuteChangeSetCommand).rejects(error)
  }

  it('goes on with the change set a retried CreateChangeSet already created', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      deployed('UPDATE_COMPLETE')
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }], {
      ChangeSetId: CHANGE_SET_ID,
      StackId: STACK_ID,
      Status: 'CREATE_PENDING',
      ExecutionStatus: 'EXECUTE_IN_PROGRESS'
    })
    cfn
      .on(CreateChangeSetCommand)
      .rejects(awsError('AlreadyExistsException', `ChangeSet ${CHANGE_SET_NAME} already exists`))

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    expect(inputs(ExecuteChangeSetCommand)).toEqual([
      { ChangeSetName: CHANGE_SET_ID, StackName: STACK_ID, ClientRequestToken: TOKENS.execute }
    ])
    expect(stdout.lines()).toContain(
      `Change set ${CHANGE_SET_NAME} was created by a retried call; going on with it.`
    )
  })

  it('tracks the update when a retried ExecuteChangeSet finds it already executing', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE'),
      stack('UPDATE_IN_PROGRESS'),
      deployed('UPDATE_COMPLETE')
    )
    executeRefusedWhile(
      'EXECUTE_IN_PROGRESS',
      awsError('InvalidChangeSetStatusException', 'ChangeSet is in EXECUTE_IN_PROGRESS state')
    )

    const result = await deployStack(client, request(), fakeClock())

    expect(result.stackStatus).toBe('UPDATE_COMPLETE')
    expect(stdout.lines()).toContain(
      `Change set ${CHANGE_SET_NAME} is EXECUTE_IN_PROGRESS: a retried call already started it.`
    )
  })

  it('still refuses a change set that is not executable for another reason', async () => {
    describeStacks(stack('UPDATE_COMPLETE'))
    executeRefusedWhile('OBSOLETE', awsError('InvalidChangeSetStatus', 'ChangeSet is OBSOLETE'))

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `CloudFormation refused to execute change set ${CHANGE_SET_NAME}: ChangeSet is OBSOLETE`
    )
  })
})

describe('overlapping runs', () => {
  const OTHER = `${CHANGE_SET_ID}-other`

  it('fails without this run outputs when another deploy ran its change set meanwhile', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { ChangeSetId: 'earlier' }),
      stack('UPDATE_IN_PROGRESS'),
      deployed('UPDATE_COMPLETE', { ChangeSetId: OTHER, Outputs: OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const error = await failure(deployStack(client, request(), fakeClock()))

    expect(error.message).toBe(
      `Another deploy updated stack ${STACK_NAME} meanwhile: it last ran change set ${OTHER}, not this run's ${CHANGE_SET_ID}, so its status (UPDATE_COMPLETE) and outputs are not this run's and none are reported. Run one deploy per stack at a time (a workflow \`concurrency\` group): see docs/WORKFLOWS.md#concurrency.`
    )
  })

  it('reports the outputs when the stack last ran this run change set', async () => {
    describeStacks(
      stack('UPDATE_COMPLETE', { ChangeSetId: 'earlier' }),
      deployed('UPDATE_COMPLETE', { ChangeSetId: CHANGE_SET_ID, Outputs: OUTPUTS })
    )
    describeChangeSet([{ Status: 'CREATE_COMPLETE', Changes: [MODIFY_ROLE] }])

    const result = await deployStack(client, request(), fakeClock())

    expect(result.outputs).toEqual(OUTPUTS)
  })
})
