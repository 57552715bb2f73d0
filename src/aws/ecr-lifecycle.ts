/**
 * ECR reads and the one write the image protection needs: a repository's lifecycle policy, tag
 * mutability and images (every page, archived ones too), and putting the lifecycle policy back
 * with the keep rule added. ECR's own lifecycle policy preview is not used: it is asynchronous (a
 * poll of 5 s or more), allows one preview per repository at a time (parallel runs collide), only
 * answers for now (no horizon), needs two more permissions, and the local world's moto lacks it.
 */
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
  type ECRClient,
  type ImageDetail
} from '@aws-sdk/client-ecr'
import { awsErrorName, DeployError, errorMessage } from '../base/errors.js'
import type { PolicyImage } from '../rules/lifecycle.js'

/** What the protection reads of one repository. */
export interface RepositoryLifecycle {
  /** The policy's JSON text; undefined: the repository has none. */
  policyText?: string
  /** `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`. */
  tagMutability?: string
  /** The exclusion filters' wildcards. */
  exclusionFilters: string[]
  images: PolicyImage[]
}

const fail = (repository: string, action: string, error: unknown) =>
  new DeployError(
    `Could not read the ${action.replace(/^ecr:/, '')} of ECR repository '${repository}' (${action}): ${errorMessage(error)}`
  )

/**
 * Reads the policy and every image of the repository, and with `mutability` its tag mutability
 * (reads only).
 */
export async function readRepositoryLifecycle(
  ecr: ECRClient,
  repository: string,
  mutability: boolean
): Promise<RepositoryLifecycle> {
  const [policyText, described, images] = await Promise.all([
    readPolicy(ecr, repository),
    mutability
      ? ecr
          .send(new DescribeRepositoriesCommand({ repositoryNames: [repository] }))
          .catch((error: unknown) => {
            throw fail(repository, 'ecr:DescribeRepositories', error)
          })
      : undefined,
    readImages(ecr, repository)
  ])
  const repo = described?.repositories?.[0]
  return {
    ...(policyText === undefined ? {} : { policyText }),
    ...(repo?.imageTagMutability ? { tagMutability: repo.imageTagMutability } : {}),
    exclusionFilters: (repo?.imageTagMutabilityExclusionFilters ?? []).flatMap((f) =>
      f.filter ? [f.filter] : []
    ),
    images
  }
}

async function readPolicy(ecr: ECRClient, repository: string): Promise<string | undefined> {
  try {
    const result = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repository }))
    return result.lifecyclePolicyText
  } catch (error) {
    if (awsErrorName(error) === 'LifecyclePolicyNotFoundException') return undefined
    throw fail(repository, 'ecr:GetLifecyclePolicy', error)
  }
}

/** Every page of DescribeImages, archived images included. */
async function readImages(ecr: ECRClient, repository: string): Promise<PolicyImage[]> {
  const images: PolicyImage[] = []
  let nextToken: string | undefined
  try {
    do {
      const page = await ecr.send(
        new DescribeImagesCommand({
          repositoryName: repository,
          filter: { imageStatus: 'ANY' },
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {})
        })
      )
      for (const detail of page.imageDetails ?? []) {
        const image = toImage(detail)
        if (image) images.push(image)
      }
      nextToken = page.nextToken
    } while (nextToken)
  } catch (error) {
    throw fail(repository, 'ecr:DescribeImages', error)
  }
  return images
}

const time = (date: Date | undefined) => (date === undefined ? undefined : date.getTime())

function toImage(detail: ImageDetail): PolicyImage | undefined {
  if (detail.imageDigest === undefined) return undefined
  const optional = {
    lastPulledAt: time(detail.lastRecordedPullTime),
    lastActivatedAt: time(detail.lastActivatedAt),
    archivedAt: time(detail.lastArchivedAt)
  }
  return {
    digest: detail.imageDigest,
    tags: detail.imageTags ?? [],
    pushedAt: time(detail.imagePushedAt) ?? 0,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(detail.imageStatus === 'ARCHIVED' ? { storageClass: 'archive' as const } : {})
  }
}

/** Puts the repository's lifecycle policy (the user's rules and the keep rule). */
export async function putLifecyclePolicy(
  ecr: ECRClient,
  repository: string,
  policyText: string
): Promise<void> {
  try {
    await ecr.send(
      new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: policyText })
    )
  } catch (error) {
    throw new DeployError(
      `Could not put the lifecycle policy of ECR repository '${repository}' (ecr:PutLifecyclePolicy): ${errorMessage(error)}`
    )
  }
}
