// Fault kind "holdStatus": CloudFormation's operation time, which moto does not have (it finishes
// every stack operation at once). For `seconds`, DescribeStacks answers (XML or JSON) show the
// stack in `status`.
//
//   {"holdStatus":{"stackName":"x","status":"UPDATE_IN_PROGRESS","seconds":3,
//                  "startOn":"added"|"firstRequest"|"execute"}}   (default "added")
//   "added": the window opens when the rule is added; "firstRequest": with the first answer that
//   shows the stack; "execute": when an ExecuteChangeSet for stack x (StackName = its name or its
//   stack ARN; any stack when the request names none) is answered 200, so the hold stands in for
//   CloudFormation's operation time. Optional "region": only calls signed for that region (an
//   "execute" hold then starts on that region's execute). GET /__faults/rules shows a hold's
//   "startedAt" (ISO time, ms; null until it starts) and "remainingSeconds". The log marks the
//   answers it changed "held": true.

import { stackNameParam, rewriteStackStatus } from '../cloudformation.mjs'
import { inRegion, regionOf } from '../match.mjs'

const START_ON = ['added', 'firstRequest', 'execute']

/** The holds that rewrite a DescribeStacks signed for `region`. */
function activeHolds(rules, region) {
  const now = Date.now()
  const out = []
  for (const r of rules) {
    if (!inRegion(r.holdStatus, region)) continue
    // startOn "execute": nothing is held until the change set is executed
    if (r.holdStatus.startOn === 'execute' && r.startedAt === null) continue
    // startOn "firstRequest": the clock starts with the first answer that shows the stack
    if (r.startedAt === null || now - r.startedAt < r.holdStatus.seconds * 1000) out.push(r)
  }
  return out
}

/** The status `holds` give a stack (the last one naming it wins); starts their clocks. */
const heldStatus = (holds) => (isStack) => {
  let status
  for (const h of holds) {
    if (!isStack(h.holdStatus.stackName)) continue
    if (h.startedAt === null) h.startedAt = Date.now()
    status = h.holdStatus.status
    h.hits++
  }
  return status
}

/** @type {import('./index.mjs').FaultKind} */
export const holdStatus = {
  key: 'holdStatus',

  parse(r) {
    const h = r.holdStatus
    if (!h.stackName || !h.status || !(Number(h.seconds) > 0))
      throw new Error('holdStatus needs stackName, status and seconds > 0')
    if (h.startOn && !START_ON.includes(h.startOn))
      throw new Error('holdStatus.startOn must be "added", "firstRequest" or "execute"')
    const region = regionOf(h)
    return {
      holdStatus: {
        stackName: String(h.stackName),
        status: String(h.status),
        seconds: Number(h.seconds),
        startOn: h.startOn || 'added',
        ...(region ? { region } : {})
      },
      startedAt: h.startOn === 'firstRequest' || h.startOn === 'execute' ? null : Date.now(),
      hits: 0
    }
  },

  view(r) {
    const { startedAt, ...rest } = r
    const remaining =
      startedAt === null
        ? r.holdStatus.seconds
        : Math.max(0, r.holdStatus.seconds - (Date.now() - startedAt) / 1000)
    return {
      ...rest,
      startedAt: startedAt === null ? null : new Date(startedAt).toISOString(),
      remainingSeconds: Math.round(remaining * 1000) / 1000
    }
  },

  prepare(call, rules) {
    if (call.info.operation !== 'DescribeStacks') return
    const holds = activeHolds(rules, call.info.region)
    if (holds.length === 0) return
    call.patches.push((text, contentType) => {
      const patched = rewriteStackStatus(text, contentType, heldStatus(holds))
      call.entry.held = patched.changed
      return patched.text
    })
  },

  // An answered ExecuteChangeSet starts the "execute" holds of the stack it names.
  answered(call, up, rules) {
    if (call.info.operation !== 'ExecuteChangeSet' || up.statusCode !== 200) return
    const stackName = stackNameParam(call.body)
    const now = Date.now()
    for (const r of rules) {
      if (r.holdStatus.startOn !== 'execute' || r.startedAt !== null) continue
      if (!inRegion(r.holdStatus, call.info.region)) continue
      const name = r.holdStatus.stackName
      if (!stackName || stackName === name || stackName.includes(`:stack/${name}/`))
        r.startedAt = now
    }
  }
}
