/**
 * The stack event stream: prints each new stack event once, oldest first, and remembers the
 * failed ones so a failure message can name each resource and CloudFormation's reason.
 */
import * as core from '@actions/core'
import {
  DescribeStackEventsCommand,
  type CloudFormationClient,
  type Stack,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { errorMessage } from '../errors.js'

/** Streams new stack events into the log and remembers failures. */
export class EventStream {
  private readonly seen = new Set<string>()
  private readonly failures: StackEvent[] = []
  /** The newest Timestamp among the events printed (not the baseline), in ms. */
  private newest = Number.NEGATIVE_INFINITY

  constructor(
    private readonly cfn: CloudFormationClient,
    private readonly stackId: string
  ) {}

  /** Marks the events already there as seen, so only this operation's events are printed. */
  async baseline(): Promise<void> {
    for (const event of await this.firstPage()) if (event.EventId) this.seen.add(event.EventId)
  }

  /** Prints events not seen yet, oldest first. */
  async poll(): Promise<void> {
    const fresh = (await this.firstPage()).filter((e) => e.EventId && !this.seen.has(e.EventId))
    for (const event of fresh.reverse()) {
      this.seen.add(event.EventId as string)
      core.info(formatEvent(event))
      this.newest = Math.max(this.newest, event.Timestamp?.getTime() ?? this.newest)
      if (event.ResourceStatus?.endsWith('_FAILED')) this.failures.push(event)
    }
  }

  /** True once an event after the baseline carries a Timestamp at or after `ms`. */
  seenSince(ms: number): boolean {
    return this.newest >= ms
  }

  /** The `*_FAILED` events seen so far, oldest first. */
  failedEvents(): StackEvent[] {
    return [...this.failures]
  }

  private async firstPage(): Promise<StackEvent[]> {
    try {
      const result = await this.cfn.send(
        new DescribeStackEventsCommand({ StackName: this.stackId })
      )
      return result.StackEvents ?? []
    } catch (error) {
      // Events are for people; a failed read must not fail the deploy.
      core.debug(`DescribeStackEvents failed: ${errorMessage(error)}`)
      return []
    }
  }
}

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
