// Fault kind "timing": CloudFormation's own time, which moto does not have (it makes every change
// set and finishes every stack operation at once). Off until a rule is added; the bench and the
// tests that need it add one.
//
//   {"timing":{}}   every field optional, defaults below (seconds):
//   {"timing":{"changeSetPending":0.5,"changeSet":5,"configure":4,"stabilise":5,"jitter":0,
//                "region":"…"}}
//
//   Change sets: for "changeSet" seconds after a CreateChangeSet answered 200, DescribeChangeSet
//   says CREATE_PENDING (the first "changeSetPending" seconds), then CREATE_IN_PROGRESS, with
//   ExecutionStatus UNAVAILABLE; then the target's own answer. T₁ in issue 23.
//   Stack operations: after an ExecuteChangeSet answered 200, every resource takes "configure"
//   seconds (T₂) and, in standard mode, "stabilise" more (T₃); a change set created with
//   DeploymentConfig.Mode=EXPRESS skips T₃ (express ends a resource once its API call succeeded).
//   Resources run side by side, so the operation lasts T₂ + T₃ (standard) or T₂ (express).
//   Meanwhile DescribeStacks shows <type>_IN_PROGRESS, and DescribeStackEvents shows the
//   operation's events as they happen: *_IN_PROGRESS at once, a resource's end at T₂ (+T₃), the
//   stack's own end when the operation ends. GET /__faults/rules shows the operations under way.
//   "jitter" adds a random 0…jitter s to each change set's and each operation's time, so that when
//   it ends falls anywhere between a client's polls, as on AWS, whose times are not whole seconds
//   (the bench sets it; 0 keeps tests exact). The log entry of a CreateChangeSet carries
//   `modelReady` and that of an ExecuteChangeSet `modelEnd` (epoch ms): when they end.
//
// Defaults (sources in docs/RELIABILITY.md "CloudFormation's timing", research in issue 23):
//   changeSet 5 s: the AWS CLI polls change sets every 5 s because "Changeset creation should be
//     fast" (aws-cli deployer.py); no AWS figure exists, so this is an assumption of that order.
//   configure 4 s: AWS's express launch example, an SQS queue and its DLQ "up to 10 seconds" in
//     express mode (≈ ≤ 5 s a resource, CloudFormation's own overhead included).
//   stabilise 5 s: Lambda optimises a container image before the function leaves Pending, which
//     "can take a few seconds" (Lambda developer guide, invocation-images).

import { stackNameOf, rewriteStackStatus } from '../cloudformation.mjs'
import { inRegion, regionOf } from '../match.mjs'

const DEFAULTS = { changeSetPending: 0.5, changeSet: 5, configure: 4, stabilise: 5, jitter: 0 }

/** Change sets by name: when created, its stack's operation type, and whether express. */
const changeSets = new Map()
/** Operations under way by stack name: {start, resourcesEnd, end, type}. */
const operations = new Map()

/** A change set's name, given as a name or as its ARN (`…:changeSet/<name>/<id>`). */
const changeSetName = (value) => /:changeSet\/([^/]+)\//.exec(value)?.[1] ?? value

const param = (body, name) =>
  body ? new URLSearchParams(body.toString('utf8')).get(name) || '' : ''

/** Replaces the first `<tag>…</tag>` (XML) or top-level `tag` (JSON) value. */
function setField(text, contentType, tag, value) {
  if (!contentType.includes('json')) {
    return text.replace(new RegExp(`<${tag}>[^<]*</${tag}>`), `<${tag}>${value}</${tag}>`)
  }
  try {
    const doc = JSON.parse(text)
    doc[tag] = value
    return JSON.stringify(doc)
  } catch {
    return text
  }
}

/** Whether an event (XML member or JSON object) may be shown yet, `now` into the operation. */
function visible(event, op, stackName, now) {
  const time = Date.parse(event.timestamp)
  if (!(time >= op.start - 5)) return true // before this operation: history
  // An operation's start is seen at once; `…_COMPLETE_CLEANUP_IN_PROGRESS` is part of its end.
  if (event.status.endsWith('_IN_PROGRESS') && !event.status.includes('COMPLETE')) return true
  return now >= (event.logicalId === stackName ? op.end : op.resourcesEnd)
}

/** A DescribeStackEvents answer without the events that have not happened yet. */
function hideFutureEvents(text, contentType, op, stackName, now) {
  if (contentType.includes('json')) {
    try {
      const doc = JSON.parse(text)
      doc.StackEvents = (doc.StackEvents || []).filter((e) =>
        visible(
          {
            timestamp: e.Timestamp,
            status: e.ResourceStatus || '',
            logicalId: e.LogicalResourceId
          },
          op,
          stackName,
          now
        )
      )
      return JSON.stringify(doc)
    } catch {
      return text
    }
  }
  return text.replace(/<member>([\s\S]*?)<\/member>/g, (member, inner) => {
    const field = (tag) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(inner)?.[1] ?? ''
    const event = {
      timestamp: field('Timestamp'),
      status: field('ResourceStatus'),
      logicalId: field('LogicalResourceId')
    }
    return visible(event, op, stackName, now) ? member : ''
  })
}

/** The operation under way on `stack` (undefined once it ended). */
function underway(stack) {
  const op = operations.get(stack)
  if (op && Date.now() >= op.end) operations.delete(stack)
  return operations.get(stack)
}

/** @type {import('./index.mjs').FaultKind} */
export const timing = {
  key: 'timing',

  parse(r) {
    const t = r.timing === true ? {} : r.timing
    const out = { ...DEFAULTS }
    for (const key of Object.keys(DEFAULTS)) {
      if (t[key] === undefined) continue
      const value = Number(t[key])
      if (!(value >= 0)) throw new Error(`timing.${key} must be a number of seconds >= 0`)
      out[key] = value
    }
    if (t.changeSetPending === undefined)
      out.changeSetPending = Math.min(out.changeSetPending, out.changeSet)
    if (out.changeSetPending > out.changeSet)
      throw new Error('timing.changeSetPending must not exceed timing.changeSet')
    const region = regionOf(t)
    return { timing: { ...out, ...(region ? { region } : {}) }, hits: 0 }
  },

  view(r) {
    return { ...r, underway: Object.fromEntries(operations) }
  },

  prepare(call, rules) {
    const rule = rules.find((r) => inRegion(r.timing, call.info.region))
    if (!rule) return
    const { operation } = call.info
    const now = Date.now()
    if (operation === 'DescribeChangeSet') {
      const made = changeSets.get(changeSetName(param(call.body, 'ChangeSetName')))
      if (!made || now >= made.ready) return
      const pending = now - made.at < rule.timing.changeSetPending * 1000
      call.patches.push((text, contentType) => {
        call.entry.held = true
        const status = pending ? 'CREATE_PENDING' : 'CREATE_IN_PROGRESS'
        return setField(
          setField(text, contentType, 'Status', status),
          contentType,
          'ExecutionStatus',
          'UNAVAILABLE'
        )
      })
      rule.hits++
    }
    const stack = stackNameOf(call.body)
    const op = stack ? underway(stack) : undefined
    if (!op) return
    if (operation === 'DescribeStacks') {
      call.patches.push((text, contentType) => {
        const patched = rewriteStackStatus(text, contentType, (isStack) =>
          isStack(stack) ? `${op.type}_IN_PROGRESS` : undefined
        )
        call.entry.held = patched.changed
        return patched.text
      })
    }
    if (operation === 'DescribeStackEvents') {
      call.patches.push((text, contentType) => hideFutureEvents(text, contentType, op, stack, now))
    }
  },

  answered(call, up, rules) {
    const rule = rules.find((r) => inRegion(r.timing, call.info.region))
    if (!rule || up.statusCode !== 200) return
    const { operation } = call.info
    const at = Date.parse(call.entry.time)
    const jitter = () => Math.random() * rule.timing.jitter * 1000
    if (operation === 'CreateChangeSet') {
      const made = Date.now()
      call.entry.modelReady = made + rule.timing.changeSet * 1000 + jitter()
      changeSets.set(param(call.body, 'ChangeSetName'), {
        at: made,
        ready: call.entry.modelReady,
        type: param(call.body, 'ChangeSetType') || 'UPDATE',
        express: param(call.body, 'DeploymentConfig.Mode') === 'EXPRESS'
      })
    }
    if (operation === 'ExecuteChangeSet') {
      const made = changeSets.get(changeSetName(param(call.body, 'ChangeSetName')))
      const t = rule.timing
      const resourcesEnd = at + (t.configure + (made?.express ? 0 : t.stabilise)) * 1000 + jitter()
      call.entry.modelEnd = resourcesEnd
      operations.set(stackNameOf(call.body), {
        start: at,
        resourcesEnd,
        end: resourcesEnd,
        type: made?.type ?? 'UPDATE',
        express: made?.express ?? false
      })
      rule.hits++
    }
  },

  reset() {
    changeSets.clear()
    operations.clear()
  }
}
