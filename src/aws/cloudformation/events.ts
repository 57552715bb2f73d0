/**
 * The stack event stream: prints each new stack event once, oldest first, and remembers the
 * failed ones so a failure message can name each resource and CloudFormation's reason.
 */
import * as log from '../../base/log.js'
import {
  DescribeStackEventsCommand,
  type CloudFormationClient,
  type Stack,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { errorMessage } from '../../base/errors.js'
import { isSettled } from '../../rules/stack-rules.js'

/** Streams new stack events into the log and remembers failures. */
export class EventStream {
  private readonly seen = new Set<string>()
  private readonly failures: StackEvent[] = []
  /** The newest Timestamp among the events printed (not the baseline), in ms. */
  private newest = Number.NEGATIVE_INFINITY
  /** Events older than the newest baseline event are history, never this operation's. */
  private notBefore = Number.NEGATIVE_INFINITY
  private warned = false
  /** An event of the stack's own operation ending was printed and not yet taken. */
  private stackEnded = false
  /** The newest settled status of the stack's own events (not a resource's) since the baseline. */
  private stackStatus: string | undefined

  constructor(
    private readonly cfn: CloudFormationClient,
    private readonly stackId: string
  ) {}

  /** Marks the events already there as seen, so only this operation's events are printed. */
  async baseline(): Promise<void> {
    for (const event of await this.readNew()) {
      if (event.EventId) this.seen.add(event.EventId)
      this.notBefore = Math.max(this.notBefore, event.Timestamp?.getTime() ?? this.notBefore)
    }
  }

  /** Prints events not seen yet, oldest first. */
  async poll(): Promise<void> {
    const fresh = await this.readNew()
    for (const event of fresh.reverse()) {
      this.seen.add(event.EventId as string)
      log.info(formatEvent(event))
      this.newest = Math.max(this.newest, event.Timestamp?.getTime() ?? this.newest)
      if (event.ResourceStatus?.endsWith('_FAILED')) this.failures.push(event)
      if (this.endsStackOperation(event)) this.stackEnded = true
      if (this.isOwn(event) && isSettled(event.ResourceStatus ?? '')) {
        this.stackStatus = event.ResourceStatus
      }
    }
  }

  /** True once since an event showed the stack's own operation end (then reads it again). */
  takeStackEnded(): boolean {
    const ended = this.stackEnded
    this.stackEnded = false
    return ended
  }

  /** The settled status the stack's own events showed since the baseline, if any. */
  settledStatus(): string | undefined {
    return this.stackStatus
  }

  /** An event of the stack itself (a nested stack's resource has another physical id). */
  private isOwn(event: StackEvent): boolean {
    return (
      event.ResourceType === 'AWS::CloudFormation::Stack' &&
      (event.PhysicalResourceId === this.stackId || event.LogicalResourceId === event.StackName)
    )
  }

  /** The stack's own event (not a resource's) with a status no longer in progress. */
  private endsStackOperation(event: StackEvent): boolean {
    const status = event.ResourceStatus ?? ''
    return this.isOwn(event) && (!status.endsWith('_IN_PROGRESS') || status.includes('_COMPLETE_'))
  }

  /** True once an event after the baseline carries a Timestamp at or after `ms`. */
  seenSince(ms: number): boolean {
    return this.newest >= ms
  }

  /** The `*_FAILED` events seen so far, oldest first. */
  failedEvents(): StackEvent[] {
    return [...this.failures]
  }

  /**
   * The events not seen yet, newest first: page after page (a page holds 100, and a busy or
   * nested stack can push the failing event onto the next) until an event already seen, one
   * older than the baseline, or MAX_EVENT_PAGES. A failed read is warned about once: events are
   * for people, so it never fails the deploy, but a missing failure reason must not go unsaid.
   */
  private async readNew(): Promise<StackEvent[]> {
    const fresh: StackEvent[] = []
    let token: string | undefined
    try {
      for (let page = 0; page < MAX_EVENT_PAGES; page++) {
        const result = await this.cfn.send(
          new DescribeStackEventsCommand({ StackName: this.stackId, NextToken: token })
        )
        const events = result.StackEvents ?? []
        const known = events.findIndex((e) => this.isKnown(e))
        fresh.push(...(known === -1 ? events : events.slice(0, known)))
        token = result.NextToken
        if (known !== -1 || !token) break
      }
    } catch (error) {
      // Nothing of a partial read: the pages not read would be skipped by the next one.
      this.warnOnce(error)
      return []
    }
    return fresh.filter((e) => e.EventId)
  }

  private isKnown(event: StackEvent): boolean {
    if (event.EventId && this.seen.has(event.EventId)) return true
    return (event.Timestamp?.getTime() ?? Number.POSITIVE_INFINITY) < this.notBefore
  }

  private warnOnce(error: unknown): void {
    const message = `Could not read the events of stack ${this.stackId} (cloudformation:DescribeStackEvents): ${errorMessage(error)}. The log may miss events and failure reasons.`
    if (this.warned) {
      log.debug(message)
      return
    }
    this.warned = true
    log.warning(message)
  }
}

/** How many pages of 100 events one read goes back at most (a first read of a long history). */
const MAX_EVENT_PAGES = 10

/** `12:01:02 MyFunction AWS::Lambda::Function UPDATE_COMPLETE reason` */
function formatEvent(event: StackEvent): string {
  const time = event.Timestamp ? event.Timestamp.toISOString().slice(11, 19) : '--:--:--'
  const reason = event.ResourceStatusReason ? ` ${event.ResourceStatusReason}` : ''
  return `${time} ${event.LogicalResourceId ?? ''} ${event.ResourceType ?? ''} ${event.ResourceStatus ?? ''}${reason}`
}

/** `<Type> (<LogicalId>): <Reason>`: one failed resource. */
export function failedResource(event: StackEvent): string {
  return `${event.ResourceType ?? '?'} (${event.LogicalResourceId ?? '?'}): ${event.ResourceStatusReason ?? 'no reason given'}`
}

/**
 * What follows "ended in <status>" in a failure message: one line per failed resource, or the
 * stack's own StatusReason when no event explains the failure, or nothing.
 */
export function failureDetail(lines: string[], final: Stack): string {
  if (lines.length > 0) return `\n${lines.join('\n')}`
  return final.StackStatusReason ? `: ${final.StackStatusReason}` : ''
}
