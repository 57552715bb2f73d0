/**
 * rules/: pure decisions, no I/O: image references, partitions, input parsing, stack rules,
 * lifecycle policies and the images a stack needs.
 * May import: base/.
 *
 * Keeping the images a stack needs: the tags that say which digest a stack runs and rolls back to,
 * the lifecycle rule that keeps those tags (added above a user's rules, never changing them), and
 * which rule of a policy would expire or archive either image, now or within a horizon.
 */
import {
  evaluateLifecycle,
  firstActionTime,
  matchesWildcard,
  type LifecyclePolicy,
  type LifecycleRule,
  type PolicyImage
} from './lifecycle.js'

/** Days ahead a time rule is looked at (issue: "within 30 days"). */
export const HORIZON_DAYS = 30

/** A count no repository reaches (ECR's default quota is 100,000 images; 10,000 is far above any stack's). */
const KEEP_COUNT = 10_000

/** What an image is to the stack. */
export type ImageRole = 'deployed' | 'rollback target'

/** An image the stack needs, as it will be once the run has written (tags included). */
export interface NeededImage {
  role: ImageRole
  image: PolicyImage
}

/** A rule that would expire or archive a needed image. */
export interface Threat {
  role: ImageRole
  digest: string
  rule: LifecycleRule
  action: 'expire' | 'transition'
  /** Epoch ms when the rule first acts (now, or a day within the horizon). */
  when: number
}

/** The tag pattern the keep rule protects: every tag this action gives for the stack. */
export function protectedTagPattern(stackName: string): string {
  return `${stackName}--*`
}

/**
 * The tags the deployed and the rollback digest get. Mutable: `<stack>--live` and
 * `<stack>--previous`, moved on every deploy. Immutable: tags cannot move, so each deploy adds
 * unique ones (`<stack>--live-<build>`, `<stack>--previous-<build>`), cut to ECR's 128 characters.
 */
export function protectedTags(
  stackName: string,
  buildTag: string,
  movable: boolean
): { live: string; previous: string } {
  if (movable) return { live: `${stackName}--live`, previous: `${stackName}--previous` }
  const suffix = `-${buildTag}`
  const cut = (base: string) => `${base.slice(0, 128 - suffix.length)}${suffix}`
  return { live: cut(`${stackName}--live`), previous: cut(`${stackName}--previous`) }
}

/**
 * Whether `<stack>--live` and `<stack>--previous` may move: tags are mutable, or the
 * repository's exclusion filters make exactly those mutable.
 */
export function tagsMovable(
  mutability: string | undefined,
  exclusionFilters: string[],
  stackName: string
): boolean {
  const tags = Object.values(protectedTags(stackName, '', true))
  const excluded = tags.every((tag) => exclusionFilters.some((f) => matchesWildcard(f, tag)))
  const anyExcluded = tags.some((tag) => exclusionFilters.some((f) => matchesWildcard(f, tag)))
  switch (mutability ?? 'MUTABLE') {
    case 'MUTABLE':
      return true
    case 'MUTABLE_WITH_EXCLUSION':
      return !anyExcluded
    case 'IMMUTABLE_WITH_EXCLUSION':
      return excluded
    default:
      return false
  }
}

/** The rule that keeps the stack's tagged images: it never expires anything, but claims them. */
export function keepRule(stackName: string, rulePriority: number): LifecycleRule {
  return {
    rulePriority,
    description: `oci-stack-deploy: keep the images stack ${stackName} runs and rolls back to`,
    selection: {
      tagStatus: 'tagged',
      tagPatternList: [protectedTagPattern(stackName)],
      countType: 'imageCountMoreThan',
      countNumber: KEEP_COUNT
    },
    action: { type: 'expire' }
  }
}

/** What `protect-images` does to a policy. */
export type KeepRulePlan =
  | { kind: 'present' }
  | { kind: 'add'; policy: LifecyclePolicy; rule: LifecycleRule }
  /** The user's rules start at priority 1: the keep rule cannot go above them without renumbering. */
  | { kind: 'no-room'; rule: LifecycleRule }

/**
 * The keep rule placed above every rule of the policy at priority 1 (ECR's lowest), the
 * user's rules untouched. Present already at the top: nothing to do.
 */
export function planKeepRule(policy: LifecyclePolicy | undefined, stackName: string): KeepRulePlan {
  const rules = policy?.rules ?? []
  const top = Math.min(...rules.map((r) => r.rulePriority))
  const ours = rules.find((r) => r.rulePriority === top)
  const pattern = protectedTagPattern(stackName)
  if (
    ours !== undefined &&
    ours.selection.tagStatus === 'tagged' &&
    ours.selection.tagPatternList?.length === 1 &&
    ours.selection.tagPatternList[0] === pattern &&
    ours.selection.countType === 'imageCountMoreThan' &&
    ours.selection.countNumber >= KEEP_COUNT
  ) {
    return { kind: 'present' }
  }
  const rule = keepRule(stackName, 1)
  if (rules.length > 0 && top <= 1) return { kind: 'no-room', rule }
  return { kind: 'add', policy: { rules: [rule, ...rules] }, rule }
}

/**
 * The rules that would expire or archive a needed image: at `now`, else at the horizon (a time
 * rule), with the day it first acts.
 */
export function findThreats(
  policy: LifecyclePolicy,
  others: PolicyImage[],
  needed: NeededImage[],
  now: number,
  horizonDays = HORIZON_DAYS
): Threat[] {
  const ids = new Set(needed.map((n) => n.image.digest))
  const images = [...others.filter((i) => !ids.has(i.digest)), ...needed.map((n) => n.image)]
  const atNow = evaluateLifecycle(policy, images, now)
  const later = evaluateLifecycle(policy, images, now + horizonDays * 86_400_000)
  const threats: Threat[] = []
  for (const { role, image } of needed) {
    const action =
      atNow.find((a) => a.digest === image.digest) ?? later.find((a) => a.digest === image.digest)
    if (action === undefined) continue
    const when = firstActionTime(action.rule, image, now)
    threats.push({ role, digest: image.digest, rule: action.rule, action: action.action, when })
  }
  return threats
}

/** The warning for one threat: repository, rule, when, and the exact rule that prevents it. */
export function threatMessage(
  threat: Threat,
  where: string,
  stackName: string,
  now: number
): string {
  const { rule } = threat
  const verb = threat.action === 'expire' ? 'expire (delete)' : 'archive (Lambda cannot pull it)'
  const when = threat.when <= now ? 'now' : `on ${new Date(threat.when).toISOString().slice(0, 10)}`
  const described = rule.description ? ` "${rule.description}"` : ''
  const image = threat.role === 'deployed' ? 'the image being deployed' : 'the rollback target'
  return `Lifecycle rule ${rule.rulePriority}${described} of ${where} would ${verb} ${image} (${threat.digest}) ${when}. Set 'protect-images: true', or add this rule above yours (lowest rulePriority) and tag the images ${stackName}--live / ${stackName}--previous: ${JSON.stringify(keepRule(stackName, 1))}`
}
