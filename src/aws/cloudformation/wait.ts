/**
 * Reading and waiting: the stack as it stands, and bounded polls until a stack settles or a
 * change set is ready. Waits poll at a short, growing but bounded interval under one deadline.
 */
import {
  CancelUpdateStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type CloudFormationClient,
  type DescribeChangeSetCommandOutput,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { awsErrorName, DeployError, errorMessage } from '../../base/errors.js'
import {
  changeSetWait,
  isInProgress,
  isSettled,
  settledOutcome,
  stackChanged,
  type SettleEvidence
} from '../../rules/stack-rules.js'
import type { EventStream } from './events.js'

/** How waits behave; tests pass a fake clock. */
export interface WaitOptions {
  /** Give up (and cancel an update) after this long. */
  timeoutMs: number
  /** First poll delay; grows by half each poll up to `maxPollMs`. */
  initialPollMs: number
  maxPollMs: number
  sleep: (ms: number) => Promise<void>
  now: () => number
  /**
   * While a stack operation runs, DescribeStacks only every this many polls, unless the events
   * read in a poll show the stack's own operation ended (then at once); 1 (or absent): each poll
   * reads both. Events decide when to look; the stack's status still decides the outcome.
   */
  describeEvery?: number
}

/**
 * The production wait: real timers; the timeout comes from `timeout-minutes`. A settling stack is
 * read with DescribeStackEvents every 0.2 s and with DescribeStacks as soon as its own end event
 * shows (and every 5 s, should the events say nothing), so an ended operation is seen 0.1 s late
 * on average; a change set is read every 0.2 s. That is 5.2 reads a second per stack at most
 * (SAM CLI reads events every 0.5 s: samcli deployer.py, DEFAULT_CLIENT_SLEEP). AWS publishes no
 * rate limit for these reads (its answer to "Rate exceeded" is back-off and a quota
 * request: knowledge-center/cloudformation-rate-exceeded-error); the clients' adaptive retry mode
 * (aws/clients.ts) is that back-off: once CloudFormation answers Throttling, the client itself
 * sends more slowly, these polls included.
 */
export const DEFAULT_WAIT: Omit<WaitOptions, 'timeoutMs'> = {
  initialPollMs: 200,
  maxPollMs: 200,
  describeEvery: 25,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now()
}

/** The stack, or undefined when there is none. */
export async function describeStack(
  cfn: CloudFormationClient,
  stackName: string
): Promise<Stack | undefined> {
  try {
    const result = await cfn.send(new DescribeStacksCommand({ StackName: stackName }))
    return result.Stacks?.[0]
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test(errorMessage(error))) {
      return undefined
    }
    throw new DeployError(
      `Could not describe stack ${stackName} (cloudformation:DescribeStacks): ${errorMessage(error)}`
    )
  }
}

/**
 * Polls `poll` until it returns a value, with a growing but bounded delay between the starts of
 * two polls (the time a poll takes is part of it, so the rate is the one chosen); throws on
 * timeout.
 */
async function pollUntil<T>(
  options: WaitOptions,
  deadline: number,
  poll: () => Promise<T | undefined>,
  onTimeout: () => Promise<never>
): Promise<T> {
  let delay = options.initialPollMs
  for (;;) {
    const began = options.now()
    const value = await poll()
    if (value !== undefined) return value
    const now = options.now()
    if (now >= deadline) return onTimeout()
    await options.sleep(Math.min(Math.max(0, delay - (now - began)), deadline - now))
    delay = Math.min(options.maxPollMs, Math.ceil(delay * 1.5))
  }
}

/** A duration for messages: `1 minute`, `2.5 minutes`, `30 seconds`. */
function minutes(ms: number): string {
  const m = Math.round(ms / 6000) / 10
  if (m >= 1) return m === 1 ? '1 minute' : `${m} minutes`
  const s = Math.round(ms / 1000)
  return s === 1 ? '1 second' : `${s} seconds`
}

/**
 * Our own write a stack wait follows (ExecuteChangeSet, DeleteStack): until the reads are known
 * to be newer than it, a settled status may be a stale read (see `settledOutcome`).
 */
export interface OwnWrite {
  /** When the write was sent (`options.now()`), to tell newer stack events. */
  calledAt: number
  /** The stack as read before the write (a stale read repeats it). */
  before?: Stack
}

/** The evidence so far that the reads follow `write`, this read included. */
function evidenceFor(
  write: OwnWrite,
  stack: Stack,
  seenInProgress: boolean,
  events: EventStream | undefined
): SettleEvidence {
  const eventStatus = events?.settledStatus()
  return {
    seenInProgress,
    ...(write.before ? { changedSinceCall: stackChanged(write.before, stack) } : {}),
    newestEventAfterCall: events?.seenSince(write.calledAt) ?? false,
    ...(eventStatus === undefined ? {} : { eventStatus })
  }
}

/**
 * Waits until no operation runs on the stack, streaming events. On timeout an update is
 * cancelled (CloudFormation then rolls back to the previous version) and the wait fails. After
 * our own `write`, a settled status counts only once the reads are known to follow it.
 */
export async function waitForStack(
  cfn: CloudFormationClient,
  stackId: string,
  events: EventStream | undefined,
  options: WaitOptions,
  started: number,
  /** The stack our own DeleteStack removes: once it is gone it counts as deleted, not lost. */
  deleting?: Stack,
  write?: OwnWrite
): Promise<Stack> {
  let last: Stack | undefined
  let seenInProgress = false
  let polls = 0
  let settledPolls = 0
  const every = events ? (options.describeEvery ?? 1) : 1
  return pollUntil(
    options,
    started + options.timeoutMs,
    async () => {
      // Both reads at once when the stack is due: events are for the log, the status decides.
      // Between, the events alone, and the stack read as soon as they show its end. Once they
      // showed it settled, the next polls read the stack too (a stale read right after the end
      // must not cost a whole `describeEvery`), up to AGREE_POLLS of them: reads that disagree
      // longer are waited for at the usual rate.
      const agreeing = events?.settledStatus() !== undefined && settledPolls++ < AGREE_POLLS
      const due = polls++ % every === 0 || agreeing
      const [, read] = await Promise.all([
        events?.poll(),
        due ? describeStack(cfn, stackId) : Promise.resolve(undefined)
      ])
      if (!due && !events?.takeStackEnded()) return undefined
      const stack = due ? read : await describeStack(cfn, stackId)
      if (stack === undefined && deleting) return { ...deleting, StackStatus: 'DELETE_COMPLETE' }
      // A new stack's reads may lag behind its creation; a read of another stack is stale.
      if (write && !isCurrentRead(stack, stackId, write)) return undefined
      last = stack
      if (last === undefined) {
        throw new DeployError(
          `Stack ${stackId} disappeared while waiting for it (deleted by someone else?).`
        )
      }
      const status = last.StackStatus ?? ''
      if (write && isInProgress(status)) seenInProgress = true
      const evidence = write && evidenceFor(write, last, seenInProgress, events)
      return settledOutcome(status, evidence) === 'settled' ? last : undefined
    },
    () =>
      stackTimedOut(cfn, stackId, last?.StackStatus ?? 'unknown', options, started, {
        unconfirmed: write !== undefined && !seenInProgress,
        ...(write && events?.settledStatus() ? { eventStatus: events.settledStatus() } : {})
      })
  )
}

/** Polls after the events showed the stack settled that read it each time (2 s at 0.2 s). */
const AGREE_POLLS = 10

/** False for a read that cannot answer for `stackId` after `write`: none yet, or another stack. */
function isCurrentRead(stack: Stack | undefined, stackId: string, write: OwnWrite): boolean {
  if (stack === undefined) return write.before?.StackStatus !== 'REVIEW_IN_PROGRESS'
  return !stackId.startsWith('arn:') || stack.StackId === undefined || stack.StackId === stackId
}

/** The timeout of a stack wait: cancels a running update first, then fails saying so. */
async function stackTimedOut(
  cfn: CloudFormationClient,
  stackId: string,
  status: string,
  options: WaitOptions,
  started: number,
  how: { unconfirmed: boolean; eventStatus?: string | undefined } = { unconfirmed: false }
): Promise<never> {
  if (how.eventStatus !== undefined && how.eventStatus !== status) {
    throw new DeployError(
      `Stack ${stackId}'s events say ${how.eventStatus}, but DescribeStacks still answered ${status} after waiting ${minutes(options.now() - started)} (timeout-minutes): CloudFormation's reads never agreed, so no status or outputs are reported. Check the stack in the console; a deploy run again reads it afresh.`
    )
  }
  if (how.unconfirmed && isSettled(status)) {
    throw new DeployError(
      `Stack ${stackId} still read ${status}, as before this run's change, after waiting ${minutes(options.now() - started)} (timeout-minutes): CloudFormation's reads never showed the operation start or end. Check the stack's events in the console before deploying again.`
    )
  }
  let cancelled = ''
  if (status === 'UPDATE_IN_PROGRESS') {
    try {
      await cfn.send(new CancelUpdateStackCommand({ StackName: stackId }))
      cancelled =
        ' Cancelled the update (CancelUpdateStack): CloudFormation rolls back to the previous version.'
    } catch (error) {
      cancelled = ` Cancelling the update failed: ${errorMessage(error)}.`
    }
  }
  throw new DeployError(
    `Stack ${stackId} was still ${status} after waiting ${minutes(options.now() - started)} (timeout-minutes).${cancelled}`
  )
}

/** Waits until a change set is CREATE_COMPLETE or FAILED; any other settled status is an error. */
export async function waitForChangeSet(
  cfn: CloudFormationClient,
  changeSetId: string,
  stackName: string | undefined,
  label: string,
  options: WaitOptions,
  started: number
): Promise<DescribeChangeSetCommandOutput> {
  return pollUntil(
    options,
    started + options.timeoutMs,
    async () => {
      const result = await cfn.send(
        new DescribeChangeSetCommand({
          ChangeSetName: changeSetId,
          ...(stackName === undefined ? {} : { StackName: stackName })
        })
      )
      const decision = changeSetWait(result.Status)
      if (decision.kind === 'unexpected') {
        throw new DeployError(
          `Change set ${label} is ${decision.status}${result.StatusReason ? ` (${result.StatusReason})` : ''}: it can no longer become ready (deleted, or a status this action does not know), so the wait ends here. Create a new change set.`
        )
      }
      return decision.kind === 'wait' ? undefined : result
    },
    () => {
      throw new DeployError(
        `Change set ${label} was not ready after ${minutes(options.timeoutMs)} (timeout-minutes).`
      )
    }
  )
}
