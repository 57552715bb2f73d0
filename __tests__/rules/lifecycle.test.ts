/** The lifecycle evaluator against ECR's documented examples (__fixtures__/lifecycle-vectors.json). */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import {
  evaluateLifecycle,
  firstActionTime,
  matchesWildcard,
  parseLifecyclePolicy,
  type LifecyclePolicy,
  type PolicyImage
} from '../../src/rules/lifecycle.js'

interface VectorImage {
  id: string
  tags: string[]
  pushedDaysAgo: number
  lastPulledDaysAgo?: number
  archivedDaysAgo?: number
  storageClass?: 'standard' | 'archive'
}
interface Vector {
  id: string
  policy: LifecyclePolicy
  images: VectorImage[]
  expected: { expire: string[]; transition: string[] }
}

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')
const { vectors } = JSON.parse(
  readFileSync(new URL('../../__fixtures__/lifecycle-vectors.json', import.meta.url), 'utf8')
) as { vectors: Vector[] }

function image(v: VectorImage): PolicyImage {
  return {
    digest: v.id,
    tags: v.tags,
    pushedAt: NOW - v.pushedDaysAgo * DAY,
    ...(v.lastPulledDaysAgo === undefined ? {} : { lastPulledAt: NOW - v.lastPulledDaysAgo * DAY }),
    ...(v.archivedDaysAgo === undefined ? {} : { archivedAt: NOW - v.archivedDaysAgo * DAY }),
    ...(v.storageClass === undefined ? {} : { storageClass: v.storageClass })
  }
}

describe('evaluateLifecycle', () => {
  it('has every vector of the fixture', () => {
    expect(vectors).toHaveLength(19)
  })

  it.each(vectors.map((v) => [v.id, v] as const))('%s: acts as ECR documents', (_id, vector) => {
    const actions = evaluateLifecycle(vector.policy, vector.images.map(image), NOW)
    const of = (type: string) =>
      actions
        .filter((a) => a.action === type)
        .map((a) => a.digest)
        .sort()
    expect({ expire: of('expire'), transition: of('transition') }).toEqual({
      expire: [...vector.expected.expire].sort(),
      transition: [...vector.expected.transition].sort()
    })
  })

  it('names the rule that acts (lowest priority number first, whatever the order in the JSON)', () => {
    const policy = parseLifecyclePolicy(
      JSON.stringify({
        rules: [
          {
            rulePriority: 5,
            selection: {
              tagStatus: 'any',
              countType: 'sinceImagePushed',
              countUnit: 'days',
              countNumber: 1
            },
            action: { type: 'expire' }
          },
          {
            rulePriority: 2,
            description: 'old v tags',
            selection: {
              tagStatus: 'tagged',
              tagPatternList: ['v*'],
              countType: 'sinceImagePushed',
              countUnit: 'days',
              countNumber: 1
            },
            action: { type: 'expire' }
          }
        ]
      }),
      'repo'
    )
    const actions = evaluateLifecycle(
      policy,
      [{ digest: 'a', tags: ['v1'], pushedAt: NOW - 3 * DAY }],
      NOW
    )
    expect(actions.map((a) => a.rule.rulePriority)).toEqual([2])
  })

  it('says when a time rule first picks an image; a count rule picks it now', () => {
    const policy = parseLifecyclePolicy(
      '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":10},"action":{"type":"expire"}}]}',
      'repo'
    )
    const rule = policy.rules[0]!
    expect(firstActionTime(rule, { digest: 'a', tags: [], pushedAt: NOW - 4 * DAY }, NOW)).toBe(
      NOW + 6 * DAY
    )
    const count = {
      ...rule,
      selection: { ...rule.selection, countType: 'imageCountMoreThan' as const }
    }
    expect(firstActionTime(count, { digest: 'a', tags: [], pushedAt: NOW - 4 * DAY }, NOW)).toBe(
      NOW
    )
  })
})

describe('matchesWildcard', () => {
  it.each([
    ['prod*', 'prod', true],
    ['prod*', 'production-team1', true],
    ['*prod*', 'repo-production', true],
    ['*prod*', 'staging', false],
    ['svc--*', 'svc--live', true],
    ['svc--*', 'svc-live', false],
    ['v1.2', 'v1x2', false],
    ['*test*1*2*3', 'a-test-1-2-3', true]
  ])('%s against %s: %s', (pattern, tag, expected) => {
    expect(matchesWildcard(pattern, tag)).toBe(expected)
  })
})

describe('parseLifecyclePolicy', () => {
  it.each([
    ['not json', 'not JSON'],
    ['{}', 'no "rules" list'],
    ['{"rules":[{"rulePriority":1}]}', 'cannot read']
  ])('refuses %s', (text, message) => {
    expect(() => parseLifecyclePolicy(text, 'repo')).toThrow(message)
  })
})
