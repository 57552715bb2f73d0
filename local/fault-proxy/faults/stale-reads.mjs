// Fault kind "staleReads": eventual consistency. After each write to stack x answered 200
// (ExecuteChangeSet, DeleteStack, CreateChangeSet, UpdateStack, CreateStack; StackName = its name
// or its stack ARN; any stack when the request names none), the next "count" DescribeStacks for x
// get the answer DescribeStacks gave just before that write (status, headers, body), without
// asking the target.
//
//   {"staleReads":{"stackName":"x","count":2}}
//   optional "operations": [...] narrows the writes. GET /__faults/rules shows "staleRemaining"
//   and "armedAfter" (the write that armed it). The log marks the replayed answers "stale": true.
//
//   {"staleReads":{"stackName":"x","count":2,"as":"beforeChangeSet"}}
//   after ExecuteChangeSet the stale answer is the stack as it was before the change set was
//   created: the DescribeStacks answer from before CreateChangeSet, or, for a stack that did not
//   exist then, the target's answer rewritten to REVIEW_IN_PROGRESS without outputs (what
//   CloudFormation shows of a new stack whose change set has not run). Other writes replay as
//   above.

import { forwardHeaders } from '../http.mjs'
import { STACK_WRITES, stackNameOf } from '../cloudformation.mjs'

/**
 * The last DescribeStacks answer per stack name, as the target gave it: what a stale read
 * replays. Kept for every stack, so a rule added later has the answer from before the write.
 */
const lastDescribe = new Map()

/** Per stack name: the answer from before its last CreateChangeSet, or NEW_STACK when it had none. */
const beforeChangeSet = new Map()
const NEW_STACK = 'new stack'

/** The stale answer for a DescribeStacks of `stack`, when a rule is armed for it. */
function takeStaleRead(rules, stack, kind = 'answer') {
  for (const r of rules) {
    if (!r.armed || r.armed.remaining <= 0) continue
    if (stack && stack !== r.staleReads.stackName) continue
    // A new stack's REVIEW_IN_PROGRESS is a rewrite of the target's answer, taken in `prepare`.
    if ((r.armed.snapshot === NEW_STACK) !== (kind === 'rewrite')) continue
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
    const byChangeSet = r.staleReads.as === 'beforeChangeSet' && operation === 'ExecuteChangeSet'
    const snapshot = byChangeSet ? beforeChangeSet.get(name) : lastDescribe.get(name)
    // Nothing seen before the write: nothing stale to replay.
    if (snapshot) r.armed = { remaining: r.staleReads.count, snapshot, after: operation }
  }
}

/** Remembers, at a CreateChangeSet answered 200, how the stack stood before it. */
function keepBeforeChangeSet(body) {
  const name = stackNameOf(body)
  if (!name) return
  const before = lastDescribe.get(name)
  beforeChangeSet.set(name, before && before.status === 200 ? before : NEW_STACK)
}

/** A DescribeStacks answer as CloudFormation gives a new stack whose change set has not run. */
function asReviewInProgress(text, contentType) {
  if (contentType.includes('json')) {
    const answer = JSON.parse(text)
    for (const stack of answer.Stacks ?? []) {
      stack.StackStatus = 'REVIEW_IN_PROGRESS'
      for (const key of ['Outputs', 'LastUpdatedTime', 'StackStatusReason']) delete stack[key]
    }
    return JSON.stringify(answer)
  }
  return text
    .replace(/<StackStatus>[^<]*<\/StackStatus>/g, '<StackStatus>REVIEW_IN_PROGRESS</StackStatus>')
    .replace(/<(Outputs|LastUpdatedTime|StackStatusReason)>[\s\S]*?<\/\1>/g, '')
    .replace(/<(Outputs|StackStatusReason)\/>/g, '')
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
    if (st.as !== undefined && st.as !== 'beforeChangeSet')
      throw new Error('staleReads.as must be "beforeChangeSet" when given')
    return {
      staleReads: {
        stackName: String(st.stackName),
        count: Number(st.count),
        operations,
        ...(st.as ? { as: st.as } : {})
      },
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

  prepare(call, rules) {
    if (call.info.operation !== 'DescribeStacks') return
    if (!takeStaleRead(rules, stackNameOf(call.body), 'rewrite')) return
    call.entry.stale = true
    call.patches.push(asReviewInProgress)
  },

  answered(call, up, rules) {
    const { operation } = call.info
    if (operation === 'CreateChangeSet' && up.statusCode === 200) keepBeforeChangeSet(call.body)
    if (STACK_WRITES.includes(operation) && up.statusCode === 200)
      armStaleReads(rules, operation, call.body)
    // Only the target's own answer, as the client gets it, is worth replaying.
    const stack = operation === 'DescribeStacks' ? stackNameOf(call.body) : ''
    if (stack && !call.swallow && call.patches.length === 0) keepAnswer(stack, up)
  },

  reset() {
    lastDescribe.clear()
    beforeChangeSet.clear()
  }
}
