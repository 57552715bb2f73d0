/**
 * Typed stand-ins for the AWS service tests: CloudFormation stacks and events, SDK-shaped errors,
 * a fake clock for `WaitOptions`, and a capture of what `@actions/core` writes to stdout.
 */
import { jest } from '@jest/globals'
import type { Change, Stack, StackEvent } from '@aws-sdk/client-cloudformation'
import type { WaitOptions } from '../src/aws/cloudformation/wait.js'

export const ACCOUNT_ID = '123456789012'
export const REGION = 'eu-west-1'
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

/** An error shaped like an SDK service exception: what the code reads is `name` and `message`. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message)
  error.name = name
  return error
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

/** Captures what `@actions/core` writes to stdout (info, `::warning::`, `::add-mask::`…) as lines. */
export function captureStdout(): { lines: () => string[]; restore: () => void } {
  const chunks: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
    )
    return true
  })
  return {
    lines: () =>
      chunks
        .join('')
        .split(/\r?\n/)
        .filter((line) => line !== ''),
    restore: () => spy.mockRestore()
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
