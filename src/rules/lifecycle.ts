/**
 * ECR lifecycle policies, evaluated the way ECR documents it ("Lifecycle policy evaluation rules"):
 * every rule looks at the repository at once; then rules act in priority order (lowest number
 * first); an image is acted on by one rule or none; an image a rule's selection matches (its tag
 * status, tag list and storage class, whether or not its count picks it) can never be acted on by
 * a rule of lower priority; an `imageCountMoreThan` rule counts every image its selection matches,
 * including those higher rules claimed, and then skips the claimed ones. Pure: the images and the
 * clock come in, the actions go out.
 */
import { DeployError } from '../base/errors.js'

/** One rule of a lifecycle policy, as ECR's policy JSON spells it. */
export interface LifecycleRule {
  rulePriority: number
  description?: string
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any'
    tagPatternList?: string[]
    tagPrefixList?: string[]
    storageClass?: 'standard' | 'archive'
    countType:
      'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned'
    countUnit?: string
    countNumber: number
  }
  action: { type: 'expire' | 'transition'; targetStorageClass?: string }
}

/** A repository's lifecycle policy. */
export interface LifecyclePolicy {
  rules: LifecycleRule[]
}

/** An image as the evaluator sees it (times in epoch milliseconds). */
export interface PolicyImage {
  digest: string
  tags: string[]
  pushedAt: number
  /** ECR's `lastRecordedPullTime`; absent: never pulled (the push time stands in). */
  lastPulledAt?: number
  /** ECR's `lastActivatedAt` (restored from the archive): stands in for the push time. */
  lastActivatedAt?: number
  /** Absent: standard. */
  storageClass?: 'standard' | 'archive'
  /** ECR's `lastArchivedAt`, for `sinceImageTransitioned`. */
  archivedAt?: number
}

/** What one rule does to one image. */
export interface LifecycleAction {
  digest: string
  action: 'expire' | 'transition'
  rule: LifecycleRule
}

const DAY_MS = 86_400_000

/** Reads a policy's JSON text; a policy ECR could not hold is a DeployError naming what is wrong. */
export function parseLifecyclePolicy(text: string, where: string): LifecyclePolicy {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new DeployError(`The lifecycle policy of ${where} is not JSON: ${String(error)}`)
  }
  const rules = (parsed as { rules?: unknown }).rules
  if (!Array.isArray(rules)) {
    throw new DeployError(`The lifecycle policy of ${where} has no "rules" list.`)
  }
  for (const rule of rules as Partial<LifecycleRule>[]) {
    const s = rule.selection
    if (
      typeof rule.rulePriority !== 'number' ||
      s === undefined ||
      typeof s.countNumber !== 'number' ||
      rule.action?.type === undefined
    ) {
      throw new DeployError(
        `The lifecycle policy of ${where} has a rule this action cannot read: ${JSON.stringify(rule)}`
      )
    }
  }
  return { rules: rules as LifecycleRule[] }
}

/** True when `tag` matches an ECR wildcard pattern (`*` = any run of characters). */
export function matchesWildcard(pattern: string, tag: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`).test(tag)
}

/** True when the rule's selection (tag status, tag list, storage class) matches the image. */
export function selects(rule: LifecycleRule, image: PolicyImage): boolean {
  const { selection } = rule
  if ((selection.storageClass ?? 'standard') !== (image.storageClass ?? 'standard')) return false
  switch (selection.tagStatus) {
    case 'any':
      return true
    case 'untagged':
      return image.tags.length === 0
    case 'tagged': {
      // Every listed pattern (or prefix) must match one of the image's tags.
      const patterns = selection.tagPatternList
      if (patterns !== undefined && patterns.length > 0) {
        return patterns.every((p) => image.tags.some((t) => matchesWildcard(p, t)))
      }
      const prefixes = selection.tagPrefixList ?? []
      return prefixes.every((p) => image.tags.some((t) => t.startsWith(p)))
    }
  }
}

/** The images of `matched` the rule's count picks at `now`. */
function picked(rule: LifecycleRule, matched: PolicyImage[], now: number): PolicyImage[] {
  const { countType, countNumber } = rule.selection
  const olderThan = (time: number | undefined) =>
    time !== undefined && now - time > countNumber * DAY_MS
  switch (countType) {
    case 'imageCountMoreThan':
      return [...matched].sort((a, b) => pushTime(b) - pushTime(a)).slice(countNumber)
    case 'sinceImagePushed':
      return matched.filter((i) => olderThan(pushTime(i)))
    case 'sinceImagePulled':
      return matched.filter((i) => olderThan(i.lastPulledAt ?? pushTime(i)))
    case 'sinceImageTransitioned':
      return matched.filter((i) => olderThan(i.archivedAt))
  }
}

/** The push time ECR orders by: the last restore from the archive when there was one. */
function pushTime(image: PolicyImage): number {
  return image.lastActivatedAt ?? image.pushedAt
}

/** What the policy does to the images at `now`: one action per image at most. */
export function evaluateLifecycle(
  policy: LifecyclePolicy,
  images: PolicyImage[],
  now: number
): LifecycleAction[] {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority)
  const identified = new Set<string>()
  const actions: LifecycleAction[] = []
  for (const rule of rules) {
    const matched = images.filter((image) => selects(rule, image))
    for (const image of picked(rule, matched, now)) {
      if (identified.has(image.digest)) continue
      actions.push({ digest: image.digest, action: rule.action.type, rule })
    }
    for (const image of matched) identified.add(image.digest)
  }
  return actions
}

/**
 * When the rule acting on the image at the horizon would first pick it: its count's clock plus
 * the rule's days (a time rule), else `now` (a count rule picks it already, or as soon as it
 * is outnumbered).
 */
export function firstActionTime(rule: LifecycleRule, image: PolicyImage, now: number): number {
  const { countType, countNumber } = rule.selection
  const since =
    countType === 'sinceImagePushed'
      ? pushTime(image)
      : countType === 'sinceImagePulled'
        ? (image.lastPulledAt ?? pushTime(image))
        : countType === 'sinceImageTransitioned'
          ? image.archivedAt
          : undefined
  return since === undefined ? now : Math.max(now, since + countNumber * DAY_MS)
}
