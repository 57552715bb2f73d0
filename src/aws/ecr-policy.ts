/**
 * ECR for images that other accounts' Lambda functions pull: the repository policy (read, set),
 * the registry's replication rules (which regions already get every push), and an image's
 * replication status. Kept apart from ecr.ts (repositories, login, image deletion).
 */
import {
  DescribeImageReplicationStatusCommand,
  DescribeRegistryCommand,
  GetRepositoryPolicyCommand,
  SetRepositoryPolicyCommand,
  type ECRClient
} from '@aws-sdk/client-ecr'
import { awsErrorName, DeployError, errorMessage } from '../base/errors.js'

/** The repository's policy text, or undefined when it has none. */
export async function getRepositoryPolicy(
  ecr: ECRClient,
  repository: string
): Promise<string | undefined> {
  try {
    const { policyText } = await ecr.send(
      new GetRepositoryPolicyCommand({ repositoryName: repository })
    )
    return policyText || undefined
  } catch (error) {
    const name = awsErrorName(error)
    if (name === 'RepositoryPolicyNotFoundException' || name === 'RepositoryNotFoundException') {
      return undefined
    }
    throw new DeployError(
      `Could not read the policy of ECR repository '${repository}' (ecr:GetRepositoryPolicy): ${errorMessage(error)}`
    )
  }
}

/** Replaces the repository's policy. */
export async function setRepositoryPolicy(
  ecr: ECRClient,
  repository: string,
  policyText: string
): Promise<void> {
  try {
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: repository, policyText }))
  } catch (error) {
    throw new DeployError(
      `Could not set the policy of ECR repository '${repository}' (ecr:SetRepositoryPolicy): ${errorMessage(error)}. Give the role ecr:SetRepositoryPolicy, or add the statement yourself and set 'repository-policy: check'.`
    )
  }
}

/**
 * The regions the registry replicates `repository` to within its own account (DescribeRegistry's
 * replication rules whose prefix filters match, or that have none). A read that is not allowed
 * counts as no replication: the image is then copied.
 */
export async function replicatedRegions(
  ecr: ECRClient,
  repository: string,
  accountId: string
): Promise<Set<string>> {
  let rules
  try {
    const registry = await ecr.send(new DescribeRegistryCommand({}))
    rules = registry.replicationConfiguration?.rules ?? []
  } catch {
    return new Set()
  }
  const regions = new Set<string>()
  for (const rule of rules) {
    const filters = rule.repositoryFilters ?? []
    const matches =
      filters.length === 0 || filters.some((f) => repository.startsWith(f.filter ?? '\u0000'))
    if (!matches) continue
    for (const d of rule.destinations ?? []) {
      if (d.region && d.registryId === accountId) regions.add(d.region)
    }
  }
  return regions
}

/** The replication status of the image to `region`: IN_PROGRESS, COMPLETE, FAILED or '' (none). */
export async function imageReplicationStatus(
  ecr: ECRClient,
  repository: string,
  digest: string,
  region: string
): Promise<{ status: string; failureCode: string }> {
  try {
    const { replicationStatuses } = await ecr.send(
      new DescribeImageReplicationStatusCommand({
        repositoryName: repository,
        imageId: { imageDigest: digest }
      })
    )
    const found = replicationStatuses?.find((s) => s.region === region)
    return { status: found?.status ?? '', failureCode: found?.failureCode ?? '' }
  } catch (error) {
    throw new DeployError(
      `Could not read the replication of ${repository}@${digest} to ${region} (ecr:DescribeImageReplicationStatus): ${errorMessage(error)}`
    )
  }
}
