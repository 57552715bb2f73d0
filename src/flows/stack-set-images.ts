/**
 * The image where each stack set instance runs it. Lambda pulls only from ECR in the function's
 * own region, and another account may pull only what the repository policy lets it. So: the image
 * goes into the pipeline account's repository in every region (pushed once, copied to the others
 * with the registry copy, or, where the registry already replicates, waited for through ECR's
 * replication status), and each repository's policy lets the target accounts' Lambda pull it.
 */
import { deliverImage, type ImagePlan, type PlannedRegion } from '../artifacts/image-delivery.js'
import { imageArtifactFor, recordImage, type ImageArtifact } from '../artifacts/image.js'
import {
  getRepositoryPolicy,
  imageReplicationStatus,
  replicatedRegions,
  setRepositoryPolicy
} from '../aws/ecr-policy.js'
import { DeployError, errorMessage, InputError } from '../base/errors.js'
import * as log from '../base/log.js'
import { ecrRegistryHost } from '../rules/image-ref.js'
import {
  accountsWithoutPull,
  pullStatements,
  withPullStatements
} from '../rules/repository-policy.js'
import type { StackSetSettings } from '../rules/stack-set.js'
import { checkEachRegion, eachRegion } from './fan-out.js'

/** Per region: the accounts whose Lambda cannot pull yet (the statements to add there). */
export type PolicyPlan = Map<string, string[]>

/** The target accounts that need a repository statement: every listed one but our own. */
function pullingAccounts(settings: StackSetSettings, accountId: string): string[] {
  return settings.accounts.filter((a) => a !== accountId)
}

/**
 * Reads each region's repository policy (before any write): the accounts to add per region. With
 * `repository-policy: check`, a missing statement is refused here, with the statement to add.
 */
export async function planRepositoryPolicies(
  settings: StackSetSettings,
  regions: PlannedRegion[],
  repository: string,
  missingRepositories: Set<string>
): Promise<PolicyPlan> {
  const plan: PolicyPlan = new Map()
  const home = regions[0] as PlannedRegion
  const accounts = pullingAccounts(settings, home.preflight.accountId)
  if (settings.permissionModel === 'SERVICE_MANAGED') {
    log.warning(
      `Stack set targets are OUs: the accounts that pull the image are not known here, so no repository policy is checked. Let the OUs' accounts pull ${repository} in every region (docs/STACKSETS.md#repository-policy).`
    )
    return plan
  }
  if (accounts.length === 0) return plan
  const missing = await checkEachRegion(regions, async (r) => {
    const region = r.ctx.inputs.region
    const policy = missingRepositories.has(region)
      ? undefined
      : await getRepositoryPolicy(r.ctx.aws.ecr, repository)
    return accountsWithoutPull(policy, region, accounts)
  })
  regions.forEach((r, i) => {
    const lacking = missing[i] ?? []
    if (lacking.length > 0) plan.set(r.ctx.inputs.region, lacking)
  })
  if (plan.size > 0 && !settings.updateRepositoryPolicy) throw policyRefusal(plan, repository)
  return plan
}

/** `repository-policy: check` and a statement is missing: the exact statements to add. */
function policyRefusal(plan: PolicyPlan, repository: string): InputError {
  const lines = [...plan].map(
    ([region, accounts]) =>
      `In ${region}, add to the policy of ${repository}:\n${JSON.stringify(pullStatements(region, accounts), null, 2)}`
  )
  return new InputError(
    [
      `Input 'repository-policy' is 'check', and the target accounts' Lambda may not pull the image: ${[...plan.keys()].join(', ')}.`,
      ...lines,
      `Or set 'repository-policy: update' to let the action add them.`
    ].join('\n')
  )
}

/** Adds the missing statements (after the delivery: a new repository exists by then). */
export async function applyRepositoryPolicies(
  plan: PolicyPlan,
  regions: PlannedRegion[],
  repository: string
): Promise<void> {
  const changing = regions.filter((r) => plan.has(r.ctx.inputs.region))
  await checkEachRegion(changing, async (r) => {
    const { region } = r.ctx.inputs
    const ecr = r.ctx.aws.ecr
    const accounts = plan.get(region) ?? []
    const current = await getRepositoryPolicy(ecr, repository)
    await setRepositoryPolicy(ecr, repository, withPullStatements(current, region, accounts))
    log.info(`Repository ${repository} in ${region}: Lambda of ${accounts.join(', ')} may pull.`)
  })
}

/** The regions where the home registry replicates the repository: waited for, not copied. */
export async function replicationPlan(
  regions: PlannedRegion[],
  repository: string
): Promise<Set<string>> {
  const home = regions[0] as PlannedRegion
  const replicated = await replicatedRegions(home.ctx.aws.ecr, repository, home.preflight.accountId)
  replicated.delete(home.ctx.inputs.region)
  for (const region of replicated) {
    log.info(`ECR replicates ${repository} to ${region}: waiting for the replication, no copy.`)
  }
  return replicated
}

/**
 * Every region's image: the home region first (push or copy), then the others side by side, each
 * copied, or, where the registry replicates, waited for until ECR reports it COMPLETE.
 */
export async function deliverEveryRegion(
  plan: ImagePlan,
  regions: PlannedRegion[],
  replicated: Set<string>
): Promise<ImageArtifact[]> {
  const home = regions[0] as PlannedRegion
  const first = deliverImage(plan, home)
  const rest = regions
    .slice(1)
    .map((r) =>
      replicated.has(r.ctx.inputs.region)
        ? first.then((image) => awaitReplication(plan, home, r, image))
        : deliverImage(plan, r)
    )
  const settled = await eachRegion(regions, (r) =>
    r === home ? first : (rest[regions.indexOf(r) - 1] as Promise<ImageArtifact>)
  )
  const failed = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [`[${regions[i]?.ctx.inputs.region}] ${errorMessage(s.reason)}`] : []
  )
  if (failed.length > 0)
    throw new DeployError(`The image did not reach every region:\n${failed.join('\n')}`)
  return settled.map((s) => (s as PromiseFulfilledResult<ImageArtifact>).value)
}

/**
 * Polls DescribeImageReplicationStatus in the home region until the image is COMPLETE in
 * `region`. No status at all (replication configured after the push): copied instead.
 */
async function awaitReplication(
  plan: ImagePlan,
  home: PlannedRegion,
  region: PlannedRegion,
  image: ImageArtifact
): Promise<ImageArtifact> {
  const { wait } = region.ctx
  const name = region.ctx.inputs.region
  const deadline = wait.now() + wait.timeoutMs
  let delay = wait.initialPollMs
  for (;;) {
    const { status, failureCode } = await imageReplicationStatus(
      home.ctx.aws.ecr,
      plan.repository,
      image.digest,
      name
    )
    if (status === 'COMPLETE') break
    if (status === '') return deliverImage(plan, region)
    if (status === 'FAILED' || wait.now() >= deadline) {
      throw new DeployError(
        `ECR did not replicate ${plan.repository}@${image.digest} to ${name} (${status === 'FAILED' ? `FAILED${failureCode ? `: ${failureCode}` : ''}` : `still ${status} at the timeout`}).`
      )
    }
    await wait.sleep(delay)
    delay = Math.min(wait.maxPollMs * 12, Math.ceil(delay * 1.5))
  }
  const host = ecrRegistryHost({ accountId: region.preflight.accountId, region: name })
  return recordImage(
    region.ctx,
    imageArtifactFor(region.ctx, host, plan.repository, plan.tag, image.digest)
  )
}
