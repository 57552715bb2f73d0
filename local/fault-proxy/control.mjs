// The control API under /__faults (JSON): add, list and remove rules, read and clear the
// request log.
//   GET    /__faults/health      -> {"ok":true,"target":…}
//   GET    /__faults             -> {"rules":[...],"logSize":N}
//   GET    /__faults/rules       -> [rules]          (with what each has left)
//   POST   /__faults/rules       <- a rule or an array of rules -> {"ids":[...],"rules":[...]}
//   DELETE /__faults/rules/<id>  -> remove one rule
//   DELETE /__faults             -> remove all rules and clear the log (and what faults remember)
//   GET    /__faults/log         -> [{time,service,operation,protocol,region,method,status,rule,
//                                     held,stale,dropped,stalled,ms}]
//   DELETE /__faults/log         -> clear the log
// A bad rule is answered 400 {"error": …} and adds nothing, even when others in its array are good.

import { FAULTS, kindOf } from './faults/index.mjs'
import { readAll, sendJson } from './http.mjs'
import { addRules, allRules, clearLog, clearRules, removeRule, requestLog } from './state.mjs'

/** A rule as POSTed, validated by its kind, as stored (without its id). */
function parseRule(r) {
  if (!r || typeof r !== 'object') throw new Error('rule must be an object')
  return kindOf(r).parse(r)
}

const publicRule = (r) => kindOf(r).view(r)

/** Forgets every rule, the log and what the fault kinds remember. */
function resetAll() {
  clearRules()
  clearLog()
  for (const kind of FAULTS) kind.reset?.()
}

async function postRules(req, res) {
  const body = JSON.parse((await readAll(req, 1024 * 1024)).toString('utf8') || 'null')
  const list = Array.isArray(body) ? body : [body]
  const added = addRules(list.map(parseRule))
  return sendJson(res, 201, { ids: added.map((r) => r.id), rules: added.map(publicRule) })
}

/** Answers one control request; `target` is the proxy's upstream (for the health answer). */
export async function control(req, res, url, target) {
  const p = url.pathname.replace(/\/+$/, '')
  try {
    if (req.method === 'GET' && p === '/__faults/health')
      return sendJson(res, 200, { ok: true, target: target.origin })
    if (req.method === 'GET' && p === '/__faults')
      return sendJson(res, 200, { rules: allRules().map(publicRule), logSize: requestLog().length })
    if (req.method === 'GET' && p === '/__faults/rules')
      return sendJson(res, 200, allRules().map(publicRule))
    if (req.method === 'GET' && p === '/__faults/log') return sendJson(res, 200, requestLog())
    if (req.method === 'DELETE' && p === '/__faults') {
      resetAll()
      return sendJson(res, 200, { ok: true })
    }
    if (req.method === 'DELETE' && p === '/__faults/log') {
      clearLog()
      return sendJson(res, 200, { ok: true })
    }
    if (req.method === 'POST' && p === '/__faults/rules') return await postRules(req, res)
    const del = /^\/__faults\/rules\/(\d+)$/.exec(p)
    if (req.method === 'DELETE' && del) {
      const removed = removeRule(Number(del[1]))
      return sendJson(res, removed ? 200 : 404, { ok: removed })
    }
    return sendJson(res, 404, { error: `no control endpoint ${req.method} ${p}` })
  } catch (err) {
    return sendJson(res, 400, { error: String(err && err.message ? err.message : err) })
  }
}
