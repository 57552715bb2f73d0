/** Tags, the keep rule and the threats to the images a stack needs. */
import { describe, expect, it } from '@jest/globals'
import {
  findThreats,
  keepRule,
  planKeepRule,
  protectedTags,
  tagsMovable,
  threatMessage
} from '../../src/rules/image-protection.js'
import type { LifecyclePolicy, LifecycleRule } from '../../src/rules/lifecycle.js'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')

const rule = (
  rulePriority: number,
  selection: Partial<LifecycleRule['selection']>,
  description?: string
): LifecycleRule => ({
  rulePriority,
  ...(description ? { description } : {}),
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1, ...selection },
  action: { type: 'expire' }
})

describe('protectedTags', () => {
  it('moves --live and --previous where tags are mutable', () => {
    expect(protectedTags('svc', 'b7', true)).toEqual({
      live: 'svc--live',
      previous: 'svc--previous'
    })
  })
  it('adds unique tags per deploy where they are not, within 128 characters', () => {
    expect(protectedTags('svc', 'b7', false)).toEqual({
      live: 'svc--live-b7',
      previous: 'svc--previous-b7'
    })
    expect(protectedTags('s'.repeat(128), 'b7', false).live).toHaveLength(128)
  })
})

describe('tagsMovable', () => {
  it.each([
    [undefined, [], true],
    ['MUTABLE', [], true],
    ['IMMUTABLE', [], false],
    ['IMMUTABLE', ['svc--*'], false],
    ['IMMUTABLE_WITH_EXCLUSION', ['svc--*'], true],
    ['IMMUTABLE_WITH_EXCLUSION', ['*--live'], false],
    ['IMMUTABLE_WITH_EXCLUSION', ['other-*'], false],
    ['MUTABLE_WITH_EXCLUSION', ['svc--*'], false],
    ['MUTABLE_WITH_EXCLUSION', ['release-*'], true]
  ])('%s with %j: %s', (mutability, filters, expected) => {
    expect(tagsMovable(mutability, filters, 'svc')).toBe(expected)
  })
})

describe('planKeepRule', () => {
  it('adds the keep rule at priority 1 above the user rules, which stay as they were', () => {
    const user: LifecyclePolicy = { rules: [rule(10, {}, 'mine')] }
    const plan = planKeepRule(user, 'svc')
    expect(plan).toEqual({
      kind: 'add',
      rule: keepRule('svc', 1),
      policy: { rules: [keepRule('svc', 1), user.rules[0]] }
    })
  })
  it('adds it to a repository without a policy', () => {
    expect(planKeepRule(undefined, 'svc')).toMatchObject({
      kind: 'add',
      policy: { rules: [keepRule('svc', 1)] }
    })
  })
  it('finds it already there', () => {
    expect(planKeepRule({ rules: [keepRule('svc', 1), rule(2, {})] }, 'svc')).toEqual({
      kind: 'present'
    })
  })
  it('never renumbers a user rule at priority 1', () => {
    expect(planKeepRule({ rules: [rule(1, {})] }, 'svc')).toEqual({
      kind: 'no-room',
      rule: keepRule('svc', 1)
    })
  })
})

describe('findThreats', () => {
  const live = { digest: 'sha256:live', tags: ['svc--live', 'b2'], pushedAt: NOW }
  const previous = { digest: 'sha256:prev', tags: ['svc--previous', 'b1'], pushedAt: NOW - 5 * DAY }
  const needed = [
    { role: 'deployed' as const, image: live },
    { role: 'rollback target' as const, image: previous }
  ]

  it('finds a count rule that expires the rollback target now', () => {
    const threats = findThreats({ rules: [rule(1, {}, 'keep one')] }, [], needed, NOW)
    expect(threats).toEqual([
      {
        role: 'rollback target',
        digest: 'sha256:prev',
        rule: rule(1, {}, 'keep one'),
        action: 'expire',
        when: NOW
      }
    ])
  })

  it('finds a time rule within the horizon, with the day it acts', () => {
    const old = rule(3, { countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 })
    const threats = findThreats({ rules: [old] }, [], needed, NOW)
    expect(threats.map((t) => [t.role, t.when])).toEqual([
      ['deployed', NOW + 7 * DAY],
      ['rollback target', NOW + 2 * DAY]
    ])
  })

  it('finds nothing beyond the horizon or under the keep rule', () => {
    const old = rule(3, { countType: 'sinceImagePushed', countUnit: 'days', countNumber: 60 })
    expect(findThreats({ rules: [old] }, [], needed, NOW)).toEqual([])
    expect(findThreats({ rules: [keepRule('svc', 1), rule(2, {})] }, [], needed, NOW)).toEqual([])
  })

  it("counts the repository's other images", () => {
    const newer = { digest: 'sha256:newer', tags: ['x'], pushedAt: NOW + 1 }
    const threats = findThreats(
      { rules: [rule(1, { countNumber: 2 })] },
      [newer, live],
      needed,
      NOW
    )
    expect(threats.map((t) => t.role)).toEqual(['rollback target'])
  })

  it('says where, which rule, when, and the rule to add', () => {
    const threat = findThreats({ rules: [rule(4, {}, 'keep one')] }, [], needed, NOW)[0]!
    const message = threatMessage(threat, 'repository svc in us-east-1', 'svc', NOW)
    expect(message).toContain(
      'Lifecycle rule 4 "keep one" of repository svc in us-east-1 would expire (delete) the rollback target (sha256:prev) now.'
    )
    expect(message).toContain(JSON.stringify(keepRule('svc', 1)))
  })
})
