// Fault kind "holdOperation": StackSets' operation time, queueing, overlapping calls and failing
// instances, which moto lacks (every stack set operation SUCCEEDs the moment it is asked for).
//
//   {"holdOperation":{"stackSetName":"x","seconds":3,"queuedSeconds":1,
//                     "failInstance":{"account":"210987654321","region":"us-west-2",
//                                     "reason":"Resource handler returned message: boom"},
//                     "status":"FAILED","times":1}}
//
// The next `times` (default 1) operations a write starts on stack set x (CreateStackInstances,
// UpdateStackSet, DeleteStackInstances answered 200) are held: DescribeStackSetOperation and
// ListStackSetOperations show the operation QUEUED for `queuedSeconds` (default 0), then RUNNING
// until `seconds` have passed since the write. While one is held, any other write to x is
// answered 409 OperationInProgressException, as CloudFormation answers an overlapping call. Once
// the hold is over the operation shows `status` (default: moto's, SUCCEEDED) and, with
// `failInstance`, that account × region's result in ListStackSetOperationResults is FAILED with
// the reason. Optional "region": only calls signed for that region.

import { inRegion, regionOf } from '../match.mjs'
import { sendFault } from '../wire-errors.mjs'
import { xmlEscape } from '../http.mjs'

const WRITES = ['CreateStackInstances', 'UpdateStackSet', 'DeleteStackInstances']
const READS = [
  'DescribeStackSetOperation',
  'ListStackSetOperations',
  'ListStackSetOperationResults'
]

const param = (call, name) =>
  call.body ? new URLSearchParams(call.body.toString('utf8')).get(name) || '' : ''

/** The stack set a call names (StackSetName; a `name:uuid` id counts by its name). */
const stackSetOf = (call) => param(call, 'StackSetName').split(':')[0]

/** A held operation's status now: QUEUED, RUNNING, or undefined once the hold is over. */
function heldStatus(op, rule) {
  const elapsed = (Date.now() - op.startedAt) / 1000
  if (elapsed >= rule.holdOperation.seconds) return undefined
  return elapsed < rule.holdOperation.queuedSeconds ? 'QUEUED' : 'RUNNING'
}

/** The rule's operation that is still held, if any. */
const runningOp = (rule) => rule.operations.find((op) => heldStatus(op, rule) !== undefined)

/** Replaces the first <Status> of every <member> (or the whole text) that `select` picks. */
function rewriteMembers(text, select, status, extra = '') {
  return text.replace(/<member>[\s\S]*?<\/member>/g, (block) =>
    select(block)
      ? block.replace(/<Status>[^<]*<\/Status>/, `<Status>${xmlEscape(status)}</Status>${extra}`)
      : block
  )
}

/** @type {import('./index.mjs').FaultKind} */
export const holdOperation = {
  key: 'holdOperation',

  parse(r) {
    const h = r.holdOperation
    if (!h.stackSetName || !(Number(h.seconds) > 0))
      throw new Error('holdOperation needs stackSetName and seconds > 0')
    const fail = h.failInstance
    if (fail && (!fail.account || !fail.region))
      throw new Error('holdOperation.failInstance needs account and region')
    const region = regionOf(h)
    return {
      holdOperation: {
        stackSetName: String(h.stackSetName),
        seconds: Number(h.seconds),
        queuedSeconds: Number(h.queuedSeconds ?? 0),
        ...(h.status ? { status: String(h.status) } : {}),
        ...(fail
          ? {
              failInstance: {
                account: String(fail.account),
                region: String(fail.region),
                reason: String(fail.reason ?? 'Failed by the fault proxy')
              }
            }
          : {}),
        times: Number(h.times ?? 1),
        ...(region ? { region } : {})
      },
      operations: [],
      hits: 0
    }
  },

  view(r) {
    return {
      ...r,
      operations: r.operations.map((op) => ({ ...op, status: heldStatus(op, r) ?? 'released' }))
    }
  },

  // An overlapping write while an operation is held: 409 OperationInProgressException.
  answer(call, rules) {
    if (!WRITES.includes(call.info.operation)) return false
    const name = stackSetOf(call)
    const rule = rules.find(
      (r) =>
        r.holdOperation.stackSetName === name &&
        inRegion(r.holdOperation, call.info.region) &&
        runningOp(r)
    )
    if (!rule) return false
    rule.hits++
    call.entry.rule = rule.id
    call.entry.held = true
    call.entry.status = sendFault(
      call.req,
      call.res,
      {
        error: 'throttle',
        status: 409,
        code: 'OperationInProgressException',
        message: `Another Operation on StackSet ${name} is in progress`
      },
      call.info
    )
    call.done()
    return true
  },

  // A refused write started nothing: its hold goes.
  answered(call, up) {
    const held = call.heldOperation
    if (held && up.statusCode !== 200)
      held.rule.operations = held.rule.operations.filter((op) => op !== held.op)
  },

  prepare(call, rules) {
    const { operation, region } = call.info
    if (!WRITES.includes(operation) && !READS.includes(operation)) return
    const name = stackSetOf(call)
    const mine = rules.filter(
      (r) => r.holdOperation.stackSetName === name && inRegion(r.holdOperation, region)
    )
    if (mine.length === 0) return
    if (WRITES.includes(operation)) {
      const rule = mine.find((r) => r.operations.length < r.holdOperation.times)
      if (!rule) return
      // Held from the moment the write is forwarded, so a write racing it is refused; the answer
      // names the operation.
      const op = { id: '', startedAt: Date.now() }
      rule.operations.push(op)
      call.heldOperation = { rule, op }
      call.patches.push((text) => {
        op.id = /<OperationId>([^<]+)<\/OperationId>/.exec(text)?.[1] ?? ''
        return text
      })
      return
    }
    call.patches.push((text) => patchRead(call, operation, mine, text))
  }
}

/** A read's answer with each held operation's status (and a released one's failure). */
function patchRead(call, operation, rules, text) {
  let out = text
  for (const rule of rules) {
    for (const op of rule.operations) {
      const held = heldStatus(op, rule)
      const final = rule.holdOperation.status
      const status = held ?? final
      const hasOp = (block) => block.includes(`<OperationId>${xmlEscape(op.id)}</OperationId>`)
      if (operation === 'ListStackSetOperations' && status) {
        out = rewriteMembers(out, hasOp, status)
      } else if (
        operation === 'DescribeStackSetOperation' &&
        param(call, 'OperationId') === op.id
      ) {
        if (status)
          out = out.replace(/<Status>[^<]*<\/Status>/, `<Status>${xmlEscape(status)}</Status>`)
      } else if (
        operation === 'ListStackSetOperationResults' &&
        param(call, 'OperationId') === op.id
      ) {
        const fail = rule.holdOperation.failInstance
        if (held) out = rewriteMembers(out, () => true, 'RUNNING')
        else if (fail)
          out = rewriteMembers(
            out,
            (b) =>
              b.includes(`<Account>${fail.account}</Account>`) &&
              b.includes(`<Region>${fail.region}</Region>`),
            'FAILED',
            `<StatusReason>${xmlEscape(fail.reason)}</StatusReason>`
          )
      }
      if (held || status) call.entry.held = true
    }
  }
  return out
}
