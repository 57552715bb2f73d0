/** ECR: the repository and the registry login. */
import * as log from '../base/log.js'
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  type ECRClient
} from '@aws-sdk/client-ecr'
import type { RegistryLogin } from '../base/registry-login.js'
import { awsErrorName, DeployError, errorMessage } from '../base/errors.js'

/** Whether the repository exists (read only). */
export async function repositoryExists(ecr: ECRClient, repository: string): Promise<boolean> {
  try {
    await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repository] }))
    return true
  } catch (error) {
    if (awsErrorName(error) === 'RepositoryNotFoundException') return false
    throw new DeployError(
      `Could not look up ECR repository '${repository}' (ecr:DescribeRepositories): ${errorMessage(error)}`
    )
  }
}

/** Creates the repository (scan on push, mutable tags so a re-run of a build id can push again). */
export async function createRepository(ecr: ECRClient, repository: string): Promise<void> {
  try {
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: repository,
        imageScanningConfiguration: { scanOnPush: true }
      })
    )
  } catch (error) {
    if (awsErrorName(error) === 'RepositoryAlreadyExistsException') return
    throw new DeployError(
      `Could not create ECR repository '${repository}' (ecr:CreateRepository): ${errorMessage(error)}`
    )
  }
}

/**
 * Asks ECR for a registry login: the caller's own registry, or with `registryId` another account's
 * (the token works for any registry the credentials may pull from). The token and password are
 * masked before anything else sees them; the registry host comes from `proxyEndpoint`.
 */
export async function getRegistryLogin(
  ecr: ECRClient,
  registryId?: string
): Promise<RegistryLogin> {
  let data
  try {
    const input = registryId === undefined ? {} : { registryIds: [registryId] }
    data = (await ecr.send(new GetAuthorizationTokenCommand(input))).authorizationData?.[0]
  } catch (error) {
    const whose = registryId === undefined ? '' : ` for registry ${registryId}`
    throw new DeployError(
      `Could not get an ECR login token${whose} (ecr:GetAuthorizationToken): ${errorMessage(error)}`
    )
  }
  if (data?.authorizationToken === undefined || data.proxyEndpoint === undefined) {
    throw new DeployError('ECR returned no authorization data (ecr:GetAuthorizationToken).')
  }
  log.secret(data.authorizationToken)
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw new DeployError('The ECR authorization token is not in user:password form.')
  const password = decoded.slice(colon + 1)
  log.secret(password)
  return {
    registry: data.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, ''),
    username: decoded.slice(0, colon),
    password
  }
}

/** What happened to an image `deleteImage` was asked to delete. */
export type ImageDeletion = 'deleted' | 'not-found' | 'failed'

/**
 * Deletes one image reference (a tag, or a digest) from a repository. An image already gone is
 * `not-found`; anything else is a warning and `failed` (the image is kept): clean-up never fails
 * the step.
 */
export async function deleteImage(
  ecr: ECRClient,
  repository: string,
  reference: { tag?: string; digest?: string },
  registryId?: string
): Promise<ImageDeletion> {
  const imageId =
    reference.tag !== undefined ? { imageTag: reference.tag } : { imageDigest: reference.digest }
  try {
    const result = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: repository,
        imageIds: [imageId],
        ...(registryId === undefined ? {} : { registryId })
      })
    )
    const failure = result.failures?.[0]
    if (failure !== undefined && failure.failureCode !== 'ImageNotFound') {
      log.warning(
        `Could not delete image ${repository} ${JSON.stringify(imageId)}: ${failure.failureReason ?? failure.failureCode}`
      )
      return 'failed'
    }
    return failure === undefined ? 'deleted' : 'not-found'
  } catch (error) {
    log.warning(
      `Could not delete image ${repository} ${JSON.stringify(imageId)}: ${errorMessage(error)}`
    )
    return 'failed'
  }
}
