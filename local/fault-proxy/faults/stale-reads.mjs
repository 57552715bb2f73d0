// Fault kind "staleReads": eventual consistency. After each write to stack x answered 200
// (ExecuteChangeSet, DeleteStack, CreateChangeSet, UpdateStack, CreateStack; StackName = its name
// or its stack ARN; any stack when the request names none), the next "count" DescribeStacks for x
// get the answer DescribeStacks gave just before that write (status, headers, body), without
// asking the target.
//
//   {"staleReads":{"stackName":"x","count":2}}
//   optional "operations": [...] narrows the writes. GET /__faults/rules shows "staleRemaining"
//   and "armedAfter" (the write that armed it). The log marks the replayed answers "stale": true.

import { forwardHeaders } from '../http.mjs'
import { STACK_WRITES, stackNameOf } from '../cloudformation.mjs'

/**
 * The last DescribeStacks answer per stack name, as the target gave it: what a stale read
 * replays. Kept for every stack, so a rule added later has the answer from before the write.
 */
const lastDescribe = new Map()

/** The stale answer for a DescribeStacks of `stack`, when a rule is armed for it. */
function takeStaleRead(rules, stack) {
  for (const r of rules) {
    if (!r.armed || r.armed.remaining <= 0) continue
    if (stack && stack !== r.staleReads.stackName) continue
    r.armed.remaining--
    r.hits++
    return r.armed.snapshot
  }
  return null
}

/** After a write answered 200, arms the rules of its stack with the answer from before it. */
function armStaleReads(rules, operation, body) {
  const written = stackNameOf(body)
  for (const r of rules) {
    if (!r.staleReads.operations.includes(operation)) continue
    const name = r.staleReads.stackName
    if (written && written !== name) continue
    const snapshot = lastDescribe.get(name)
    // Nothing seen before the write: nothing stale to replay.
    if (snapshot) r.armed = { remaining: r.staleReads.count, snapshot, after: operation }
  }
}

/** Keeps a copy of a DescribeStacks answer as it streams on to the client. */
function keepAnswer(stack, up) {
  const headers = forwardHeaders(up.headers)
  const chunks = []
  up.on('data', (c) => chunks.push(c))
  up.on('end', () =>
    lastDescribe.set(stack, { status: up.statusCode, headers, body: Buffer.concat(chunks) })
  )
}

/** @type {import('./index.mjs').FaultKind} */
export const staleReads = {
  key: 'staleReads',

  parse(r) {
    const st = r.staleReads
    if (!st.stackName || !(Number.isInteger(Number(st.count)) && Number(st.count) > 0))
      throw new Error('staleReads needs stackName and count > 0')
    const operations = st.operations === undefined ? STACK_WRITES : st.operations
    if (!Array.isArray(operations) || !operations.every((o) => STACK_WRITES.includes(o)))
      throw new Error(`staleReads.operations must be a list of ${STACK_WRITES.join(', ')}`)
    return {
      staleReads: { stackName: String(st.stackName), count: Number(st.count), operations },
      armed: null,
      hits: 0
    }
  },

  view(r) {
    const { armed, ...rest } = r
    return {
      ...rest,
      staleRemaining: armed ? armed.remaining : 0,
      armedAfter: armed?.after ?? null
    }
  },

  answer(call, rules) {
    if (call.info.operation !== 'DescribeStacks') return false
    const stale = takeStaleRead(rules, stackNameOf(call.body))
    if (!stale) return false
    call.drain()
    call.entry.stale = true
    call.entry.status = stale.status
    call.res.writeHead(stale.status, {
      ...stale.headers,
      'content-length': String(stale.body.length)
    })
    call.res.end(call.req.method === 'HEAD' ? undefined : stale.body)
    call.done()
    return true
  },

  answered(call, up, rules) {
    const { operation } = call.info
    if (STACK_WRITES.includes(operation) && up.statusCode === 200)
      armStaleReads(rules, operation, call.body)
    // Only the target's own answer, as the client gets it, is worth replaying.
    const stack = operation === 'DescribeStacks' ? stackNameOf(call.body) : ''
    if (stack && !call.swallow && call.patches.length === 0) keepAnswer(stack, up)
  },

  reset() {
    lastDescribe.clear()
  }
}
