// Fault kind "error": answers a call with an AWS error instead of forwarding it (throttling or a
// 5xx), in the call's wire protocol (../wire-errors.mjs).
//
//   {"operation":"DescribeStacks","error":"throttle","times":2}
//   {"operation":"PutObject","service":"s3","error":"5xx","status":503,"times":1}
//   {"operation":"*","error":"5xx"}                      (every operation)
//   optional: "service", "region" (only calls signed for that region), "code", "message",
//   "status" (400..599; >= 500 for "5xx"), "times" (omitted = unlimited)

import { claimCall, operationMatch, publicOperationRule, timesOf } from '../match.mjs'
import { sendFault } from '../wire-errors.mjs'

/** @type {import('./index.mjs').FaultKind} */
export const error = {
  key: 'error',

  parse(r) {
    if (!r.operation)
      throw new Error('rule needs "operation" (or "holdStatus", "staleReads", "stall")')
    if (!['throttle', '5xx'].includes(r.error))
      throw new Error('rule "error" must be "throttle" or "5xx"')
    if (
      r.status !== undefined &&
      !(Number.isInteger(r.status) && r.status >= 400 && r.status <= 599)
    )
      throw new Error('status must be 400..599')
    if (r.error === '5xx' && r.status !== undefined && r.status < 500)
      throw new Error('5xx rule needs status >= 500')
    const times = timesOf(r)
    return {
      ...operationMatch(r),
      error: r.error,
      status: r.status,
      code: r.code,
      message: r.message,
      times,
      hits: 0
    }
  },

  view: publicOperationRule,

  answer(call, rules) {
    const rule = claimCall(rules, call)
    if (!rule) return false
    call.drain()
    call.entry.status = sendFault(call.req, call.res, rule, call.info)
    call.done()
    return true
  }
}
