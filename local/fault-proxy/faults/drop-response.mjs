// Fault kind "dropResponse": a response lost after AWS acted. The call is forwarded and the
// target acts on it, then the client's connection is destroyed instead of answering, so the SDK
// retries a call that already took effect.
//
//   {"operation":"CreateChangeSet","dropResponse":true,"times":1}
//   optional: "service", "region", "times" (omitted = unlimited). The log marks such calls
//   "dropped": true.

import { claimCall, operationMatch, publicOperationRule, timesOf } from '../match.mjs'

/** @type {import('./index.mjs').FaultKind} */
export const dropResponse = {
  key: 'dropResponse',

  parse(r) {
    if (!r.operation) throw new Error('dropResponse rule needs "operation"')
    const times = timesOf(r)
    return { ...operationMatch(r), dropResponse: true, times, hits: 0 }
  },

  view: publicOperationRule,

  prepare(call, rules) {
    const rule = claimCall(rules, call)
    if (!rule) return
    call.swallow = true
  }
}
