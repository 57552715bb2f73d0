// Fault kind "replicationStatus": ECR's DescribeImageReplicationStatus, which moto does not
// implement (it answers 500). The proxy answers in moto's place, for any image asked about:
//
//   {"replicationStatus":{"regions":["us-west-2"],"status":"COMPLETE","inProgressSeconds":2,
//                         "registryId":"123456789012","failureCode":"…"}}
//
// Each listed region shows IN_PROGRESS for `inProgressSeconds` (default 0) from the first call,
// then `status` (COMPLETE, FAILED; default COMPLETE). `registryId` defaults to the request's
// (or ""). Optional "region": only calls signed for that region.

import { inRegion, regionOf } from '../match.mjs'
import { readAll } from '../http.mjs'

/** @type {import('./index.mjs').FaultKind} */
export const replicationStatus = {
  key: 'replicationStatus',

  parse(r) {
    const s = r.replicationStatus
    if (!Array.isArray(s.regions) || s.regions.length === 0)
      throw new Error('replicationStatus needs regions (a non-empty list)')
    const region = regionOf(s)
    return {
      replicationStatus: {
        regions: s.regions.map(String),
        status: String(s.status ?? 'COMPLETE'),
        inProgressSeconds: Number(s.inProgressSeconds ?? 0),
        ...(s.registryId ? { registryId: String(s.registryId) } : {}),
        ...(s.failureCode ? { failureCode: String(s.failureCode) } : {}),
        ...(region ? { region } : {})
      },
      startedAt: null,
      hits: 0
    }
  },

  view: (r) => ({
    ...r,
    startedAt: r.startedAt === null ? null : new Date(r.startedAt).toISOString()
  }),

  answer(call, rules) {
    if (call.info.operation !== 'DescribeImageReplicationStatus') return false
    const rule = rules.find((r) => inRegion(r.replicationStatus, call.info.region))
    if (!rule) return false
    rule.hits++
    call.entry.rule = rule.id
    if (rule.startedAt === null) rule.startedAt = Date.now()
    void readAll(call.req, 1024 * 1024).then((body) => {
      let request = {}
      try {
        request = JSON.parse(body.toString('utf8') || '{}')
      } catch {
        // an unreadable request still gets the statuses
      }
      const s = rule.replicationStatus
      const done = (Date.now() - rule.startedAt) / 1000 >= s.inProgressSeconds
      const answer = JSON.stringify({
        repositoryName: request.repositoryName ?? '',
        imageId: request.imageId ?? {},
        replicationStatuses: s.regions.map((region) => ({
          region,
          registryId: s.registryId ?? request.registryId ?? '',
          status: done ? s.status : 'IN_PROGRESS',
          ...(done && s.failureCode ? { failureCode: s.failureCode } : {})
        }))
      })
      call.res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': String(Buffer.byteLength(answer))
      })
      call.res.end(answer)
      call.entry.status = 200
      call.done()
    })
    return true
  }
}
