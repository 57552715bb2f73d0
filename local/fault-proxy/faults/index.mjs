// The fault kinds, one module each, in their order of precedence: at each step of a call the
// kinds are asked in this order, so an error rule answers before a stall rule, and a stall before
// a stale read. A rule names its kind by its key ({"holdStatus": …}, {"stall": true, …}); one
// that names several is read as the latest of them in the list, and one that names none is an
// error rule, which says what it misses.
//
// Adding a fault: a module in this folder that exports a FaultKind (its rule syntax in its
// opening comment), and its place in FAULTS below. Nothing else changes: the control API
// parses, lists and clears its rules, and ../forward.mjs calls its steps.

import { dropResponse } from './drop-response.mjs'
import { error } from './error.mjs'
import { holdOperation } from './hold-operation.mjs'
import { holdStatus } from './hold-status.mjs'
import { replicationStatus } from './replication-status.mjs'
import { staleReads } from './stale-reads.mjs'
import { stall } from './stall.mjs'
import { timing } from './timing.mjs'

/**
 * One call through the proxy, as ../forward.mjs hands it to the fault kinds.
 * @typedef {object} Call
 * @property {import('node:http').IncomingMessage} req
 * @property {import('node:http').ServerResponse} res
 * @property {{protocol: string, service: string, operation: string, region: string}} info
 * @property {Buffer | null} body the request body when it was read (query protocol), else null
 * @property {Record<string, any>} entry the call's log entry (GET /__faults/log)
 * @property {Array<(text: string, contentType: string) => string>} patches rewrites of a 200
 *   answer's body, applied in order before it is relayed
 * @property {boolean} swallow forward the call, then destroy the client's connection unanswered
 * @property {() => void} drain discard the unread request body
 * @property {() => void} done record the call's duration in its log entry
 */

/**
 * A fault kind. Its steps are optional; `rules` are this kind's rules, in the order added.
 * @typedef {object} FaultKind
 * @property {string} key the rule's key that names the kind, kept on the stored rule
 * @property {(raw: any) => object} parse a rule as POSTed, validated (throws the message the
 *   client gets), as stored without its id
 * @property {(rule: any) => object} view the rule as GET /__faults/rules shows it
 * @property {(call: Call, rules: any[]) => boolean} [answer] before forwarding: answer (or never
 *   answer) the call in the target's place; true when it did
 * @property {(call: Call, rules: any[]) => void} [prepare] before forwarding: add `patches`,
 *   set `swallow`
 * @property {(call: Call, up: import('node:http').IncomingMessage, rules: any[]) => void}
 *   [answered] the target answered (`up`, not yet relayed): react to it
 * @property {() => void} [reset] forget what the kind remembers (DELETE /__faults)
 */

/** @type {FaultKind[]} */
export const FAULTS = [
  error,
  dropResponse,
  stall,
  staleReads,
  holdStatus,
  timing,
  holdOperation,
  replicationStatus
]

/** The kind a rule (as POSTed, or as stored) belongs to. */
export const kindOf = (rule) => FAULTS.findLast((kind) => rule[kind.key]) ?? error
