// The rule matcher: which rule acts on a call (operation, service, the region the call is signed
// for, uses left), and the reading of those common fields when a rule is added. Every fault kind
// that acts on calls by operation (error, stall, dropResponse) matches with `claimCall`.

/** A rule's optional "region" (validated); undefined when the rule applies to every region. */
export function regionOf(r) {
  if (r.region === undefined || r.region === null || r.region === '') return undefined
  if (typeof r.region !== 'string' || !/^[a-z0-9-]+$/.test(r.region))
    throw new Error('region must be a region name such as "us-west-2"')
  return r.region
}

/** Whether a rule (or a rule's part) with an optional `region` applies to a call in `region`. */
export const inRegion = (r, region) => !r.region || r.region === region

/** A rule's "operation", "service" and "region": what it matches calls by. */
export function operationMatch(r) {
  return {
    operation: String(r.operation),
    service: r.service ? String(r.service) : undefined,
    region: regionOf(r)
  }
}

/** A rule's optional "times" (validated); null, unlimited, when omitted. */
export function timesOf(r) {
  const times = r.times === undefined || r.times === null ? null : Number(r.times)
  if (times !== null && !(Number.isInteger(times) && times >= 0))
    throw new Error('times must be a non-negative integer')
  return times
}

/**
 * The first of `rules` (one kind's, in the order added) that matches the call and has uses left;
 * that use is counted. `operation: "*"` matches every operation.
 */
export function firstMatch(rules, info) {
  for (const r of rules) {
    if (r.times !== null && r.hits >= r.times) continue
    if (r.operation !== '*' && r.operation !== info.operation) continue
    if (r.service && r.service !== info.service) continue
    if (!inRegion(r, info.region)) continue
    r.hits++
    return r
  }
  return null
}

/** `firstMatch` for a call: the rule that acts on it is named in the call's log entry. */
export function claimCall(rules, call) {
  const rule = firstMatch(rules, call.info)
  if (rule) call.entry.rule = rule.id
  return rule
}

/** How an operation rule shows in GET /__faults/rules: its uses left (null: unlimited). */
export function publicOperationRule(r) {
  return { ...r, remaining: r.times === null ? null : Math.max(0, r.times - r.hits) }
}
