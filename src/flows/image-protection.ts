/**
 * The images a stack needs, kept: before any write, each region's repository policy, tag
 * mutability and images are read, and a lifecycle rule that could expire or archive the image
 * being deployed or the rollback target is a warning (or, with 'fail-on-expirable-image', the
 * run's failure); a rollback target already gone is said plainly. With 'protect-images', the
 * keep rule is added above the user's rules (after the checks), and once the stack deployed the
 * digests get their `<stack>--live` / `<stack>--previous` tags.
 */
import { putLifecyclePolicy, readRepositoryLifecycle } from '../aws/ecr-lifecycle.js'
import { getRegistryLogin } from '../aws/ecr.js'
import { errorMessage, InputError, StackOperationError } from '../base/errors.js'
import * as log from '../base/log.js'
import type { FlowContext } from '../artifacts/flow-context.js'
import type { PlannedRegion, PreparedImage } from '../artifacts/image-delivery.js'
import { putTags } from '../registry/copy.js'
import { readRawManifest } from '../registry/manifests.js'
import { ecrRegistryHost, parseImageUri } from '../rules/image-ref.js'
import {
  findThreats,
  planKeepRule,
  protectedTags,
  tagsMovable,
  threatMessage,
  type NeededImage
} from '../rules/image-protection.js'
import { parseLifecyclePolicy, type PolicyImage } from '../rules/lifecycle.js'
import { missingImage } from '../rules/image-recovery.js'

/** What one region's repository needs once the checks passed. */
export interface RegionProtection {
  repository: string
  /** The tags the deployed and the rollback digest get. */
  tags: { live: string; previous: string }
  /** The policy to put (the user's rules and the keep rule); undefined: nothing to put. */
  policyText?: string
  /** The digest the stack runs now, when the repository still holds it. */
  previousDigest?: string
}

/**
 * Reads the region's repository and checks the policy against the images the stack needs (reads
 * only). A repository about to be created has no policy: only the tags are planned.
 */
export async function checkImageProtection(
  prepared: PreparedImage,
  region: PlannedRegion,
  missing: boolean
): Promise<RegionProtection | undefined> {
  const { inputs } = region.ctx
  const { repository } = prepared
  const protect = inputs.protectImages && inputs.mode === 'deploy'
  const read = missing
    ? { exclusionFilters: [], images: [] }
    : await readLifecycleOrWarn(region.ctx, repository, protect)
  if (read === undefined) return undefined
  const movable = tagsMovable(read.tagMutability, read.exclusionFilters, inputs.stackName)
  const tags = protectedTags(inputs.stackName, inputs.buildTag, movable)
  const where = `ECR repository ${repository} (${inputs.region})`
  const now = Date.now()
  const previous = rollbackTarget(region, repository, read.images)
  const needed = neededImages(prepared, read.images, previous, protect ? tags : undefined, now)
  const policy =
    read.policyText === undefined ? undefined : parseLifecyclePolicy(read.policyText, where)
  const plan = protect ? planKeepRule(policy, inputs.stackName) : undefined
  if (plan?.kind === 'no-room') {
    log.warning(
      `'protect-images' cannot add its rule to ${where}: a rule of yours has rulePriority 1 and the action never renumbers your rules. Give your rules priorities from 2 up and the action adds: ${JSON.stringify(plan.rule)}`
    )
  }
  const effective = plan?.kind === 'add' ? plan.policy : policy
  const threats = effective ? findThreats(effective, read.images, needed, now) : []
  const messages = threats.map((t) => threatMessage(t, where, inputs.stackName, now))
  if (messages.length > 0 && inputs.failOnExpirableImage) {
    throw new InputError(
      `${messages.join('\n')}\n'fail-on-expirable-image' is on, so nothing was written.`
    )
  }
  for (const message of messages) log.warning(message)
  return {
    repository,
    tags,
    ...(protect && plan?.kind === 'add' ? { policyText: JSON.stringify(plan.policy) } : {}),
    ...(previous ? { previousDigest: previous.digest } : {})
  }
}

/**
 * The repository's policy, mutability and images. Unreadable (a role without the new read
 * permissions): a warning, unless 'protect-images' or 'fail-on-expirable-image' asked for them.
 */
async function readLifecycleOrWarn(ctx: FlowContext, repository: string, protect: boolean) {
  try {
    return await readRepositoryLifecycle(ctx.aws.ecr, repository, protect)
  } catch (error) {
    if (protect || ctx.inputs.failOnExpirableImage) throw error
    log.warning(
      `${errorMessage(error)}. The lifecycle check is skipped: allow ecr:GetLifecyclePolicy and ecr:DescribeImages on the repository to have it.`
    )
    return undefined
  }
}

/**
 * The image the stack runs now, when it is in this repository: found by digest or tag. One the
 * repository no longer holds is reported (a rollback to it would fail).
 */
function rollbackTarget(
  region: PlannedRegion,
  repository: string,
  images: PolicyImage[]
): PolicyImage | undefined {
  const running = region.preflight.previousImage
  const parsed = running === undefined ? undefined : parseImageUri(running)
  const { inputs } = region.ctx
  const host = ecrRegistryHost({ accountId: region.preflight.accountId, region: inputs.region })
  if (parsed === undefined || parsed.host !== host || parsed.repository !== repository) {
    return undefined
  }
  const found = images.find((i) =>
    parsed.digest ? i.digest === parsed.digest : parsed.tag && i.tags.includes(parsed.tag)
  )
  if (found === undefined) {
    log.warning(
      `Stack ${inputs.stackName} runs ${running}, which ECR repository ${repository} (${inputs.region}) no longer holds: if this update fails, its rollback to that image fails too (UPDATE_ROLLBACK_FAILED). Put the image back first if you have a copy (see "Keeping images for rollback" in docs/RELEASE.md).`
    )
  }
  return found
}

/** The deployed image and the rollback target as they will be once the run wrote its tags. */
function neededImages(
  prepared: PreparedImage,
  images: PolicyImage[],
  previous: PolicyImage | undefined,
  tags: { live: string; previous: string } | undefined,
  now: number
): NeededImage[] {
  const digest = prepared.kind === 'promoted' ? prepared.source.digest : 'the new build'
  const existing = images.find((i) => i.digest === digest)
  const runTags = [prepared.tag, ...(tags ? [tags.live] : [])]
  const deployed: PolicyImage = existing
    ? { ...existing, tags: [...new Set([...existing.tags, ...runTags])] }
    : { digest, tags: runTags, pushedAt: now }
  const needed: NeededImage[] = [{ role: 'deployed', image: deployed }]
  if (previous && previous.digest !== deployed.digest) {
    const previousTags = [...previous.tags, ...(tags ? [tags.previous] : [])]
    needed.push({ role: 'rollback target', image: { ...previous, tags: previousTags } })
  }
  return needed
}

/** Puts the policy with the keep rule (a write: after every check passed, once the repository exists). */
export async function putKeepRule(ctx: FlowContext, protection: RegionProtection): Promise<void> {
  if (protection.policyText === undefined) return
  log.info(
    `Adding the rule that keeps ${ctx.inputs.stackName}'s images to the lifecycle policy of ${protection.repository}; your rules stay as they were.`
  )
  await putLifecyclePolicy(ctx.aws.ecr, protection.repository, protection.policyText)
}

/**
 * After a successful deploy: the rollback target gets its tag first (a tag moved off an image must
 * not leave it untagged), then the deployed digest. A failure here only warns: the stack is up.
 */
export async function moveProtectedTags(
  ctx: FlowContext,
  protection: RegionProtection,
  deployedDigest: string
): Promise<void> {
  const { repository, tags, previousDigest } = protection
  try {
    const login = await getRegistryLogin(ctx.aws.ecr)
    const location = { login, repository }
    const moves: Array<[string, string]> = [
      ...(previousDigest && previousDigest !== deployedDigest
        ? [[previousDigest, tags.previous] as [string, string]]
        : []),
      [deployedDigest, tags.live]
    ]
    for (const [digest, tag] of moves) {
      const manifest = await readRawManifest(ctx.registryHttp, location, digest)
      if (manifest === undefined) throw new Error(`${repository}@${digest} is not in the registry`)
      await putTags(ctx.registryHttp, location, manifest, [tag])
      log.info(`Tagged ${repository}@${digest} ${tag}`)
    }
  } catch (error) {
    log.warning(
      `The stack deployed, but tagging its images in ${repository} for 'protect-images' failed: ${errorMessage(error)}`
    )
  }
}

/**
 * A stack failure that names a deleted image, with where the action knows a copy may be: the
 * promote's source repository, the same repository in the run's other regions.
 */
export function withKnownCopies(
  ctx: FlowContext,
  accountId: string,
  repository: string | undefined,
  error: unknown
): unknown {
  if (!(error instanceof StackOperationError)) return error
  const digest = missingImage(error.failedResources)?.digest
  if (digest === undefined) return error
  const { inputs } = ctx
  const copies = [
    ...(inputs.image ? [`${inputs.image.host}/${inputs.image.repository}@${digest}`] : []),
    ...(repository
      ? inputs.regions
          .filter((r) => r !== inputs.region)
          .map((r) => `${ecrRegistryHost({ accountId, region: r })}/${repository}@${digest}`)
      : [])
  ]
  if (copies.length === 0) return error
  return new StackOperationError(
    `${error.message}\nThis run knows where ${digest} may still be: ${copies.join(', ')}.`,
    error.stackStatus,
    error.failedResources
  )
}
