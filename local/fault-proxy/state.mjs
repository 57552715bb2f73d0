// What the proxy remembers between calls: the rules, in the order they were added (ids count up
// from 1 for the life of the process), and the request log (the last MAX_LOG calls).

const MAX_LOG = 5000

/** @type {Array<any>} */
let rules = []
/** @type {Array<any>} */
let log = []
let nextRuleId = 1

/** Every rule, in the order added. */
export const allRules = () => rules

/** The rules of one fault kind (those carrying its `key`), in the order added. */
export const rulesWith = (key) => rules.filter((r) => r[key])

/** Gives each parsed rule its id and adds them after the others; returns them. */
export function addRules(parsed) {
  const added = parsed.map((rule) => ({ id: nextRuleId++, ...rule }))
  rules.push(...added)
  return added
}

/** Removes the rule `id`; whether there was one. */
export function removeRule(id) {
  const before = rules.length
  rules = rules.filter((r) => r.id !== id)
  return before !== rules.length
}

export function clearRules() {
  rules = []
}

/** The request log, oldest first. */
export const requestLog = () => log

/** Adds a call's entry (filled in as the call goes on); the oldest go past MAX_LOG. */
export function logCall(entry) {
  log.push(entry)
  if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG)
}

export function clearLog() {
  log = []
}
