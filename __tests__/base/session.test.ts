/**
 * Session: cleanups, and the stack update it cancels on SIGINT/SIGTERM (directly and through run()).
 */
import { describe, expect, it, jest } from '@jest/globals'
import {
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { awsError } from '../../__fixtures__/aws.js'
import {
  cfn,
  CHANGE_SET_ID,
  clients,
  installRunHarness,
  runAction,
  STACK_ID,
  useDocker,
  warnings
} from '../../__fixtures__/run-harness.js'
import {
  existingStack,
  mockCompletedUpdate,
  mockUpdateChangeSet
} from '../../__fixtures__/run-scenarios.js'
import { Session } from '../../src/base/session.js'

installRunHarness()

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

  it('cancels the update of every region still running, and only those', async () => {
    const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation')
    const { mockClient } = await import('aws-sdk-client-mock')
    const other = new CloudFormationClient({ region: 'us-east-1' })
    const third = new CloudFormationClient({ region: 'ap-southeast-2' })
    const otherMock = mockClient(other)
    const thirdMock = mockClient(third)
    cfn.on(CancelUpdateStackCommand).resolves({})
    otherMock.on(CancelUpdateStackCommand).resolves({})
    const otherStack = STACK_ID.replace('eu-west-2', 'us-east-1')
    const session = new Session([])
    session.trackUpdate(clients.cloudformation, STACK_ID)
    session.trackUpdate(other, otherStack)
    session.trackUpdate(third, 'finished')
    session.trackUpdate(third, undefined)
    await session.cancel()

    expect(cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(1)
    expect(otherMock.commandCalls(CancelUpdateStackCommand)[0]?.args[0].input).toEqual({
      StackName: otherStack
    })
    expect(thirdMock.calls()).toEqual([])
    expect(warnings()).toEqual([
      cancelWarning,
      `Cancelled the running update of ${otherStack}: CloudFormation rolls back to the previous version.`
    ])
  })

  it('stops tracked work (a stack set operation) once, and nothing once it is finished', async () => {
    const stopped: string[] = []
    const session = new Session([])
    session.trackStop('stack-set:a', async () => {
      stopped.push('a')
    })
    session.trackStop('stack-set:b', async () => {
      stopped.push('b')
    })
    session.trackStop('stack-set:b', undefined)
    await session.cancel()
    await session.cancel()

    expect(stopped).toEqual(['a'])
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
    mockCompletedUpdate()
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
