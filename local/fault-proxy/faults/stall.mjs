// Fault kind "stall": a stalled endpoint. The connection is accepted and the request read, then
// nothing is ever answered (the call is not forwarded): only the client's own timeout ends it.
//
//   {"operation":"DescribeStacks","stall":true,"times":1}
//   optional: "service", "region", "times" (omitted = unlimited). The log marks such calls
//   "stalled": true; their "ms" is set when the client gives up.

import { claimCall, operationMatch, publicOperationRule, timesOf } from '../match.mjs'

/** @type {import('./index.mjs').FaultKind} */
export const stall = {
  key: 'stall',

  parse(r) {
    if (!r.operation) throw new Error('stall rule needs "operation"')
    return { ...operationMatch(r), stall: true, times: timesOf(r), hits: 0 }
  },

  view: publicOperationRule,

  answer(call, rules) {
    const rule = claimCall(rules, call)
    if (!rule) return false
    call.drain()
    call.entry.stalled = true
    call.req.socket.on('close', () => call.done())
    return true
  }
}
