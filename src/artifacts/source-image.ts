/**
 * The image input 'image' names: logged in to its registry (its own account and region), a tag
 * resolved to its digest once, and checked before any write exactly as a built image is: it
 * exists, Lambda accepts its manifest, its architecture matches the functions that run it.
 */
import type { ECRClient } from '@aws-sdk/client-ecr'
import { getRegistryLogin } from '../aws/ecr.js'
import { InputError } from '../base/errors.js'
import type { EcrImage } from '../rules/image-ref.js'
import type { Inputs } from '../inputs/inputs.js'
import * as log from '../base/log.js'
import {
  checkLambdaManifest,
  readImageArchitecture,
  readRawManifest,
  type RawManifest
} from '../registry/manifests.js'
import type { RegistryHttp, RegistryRepository } from '../registry/http.js'
import {
  architectureMismatches,
  functionsUsingParameter,
  imageArchitecture,
  packageTypeWarnings
} from '../template/functions.js'

/** The image to deploy, resolved: every region gets these exact bytes. */
export interface SourceImage {
  ref: EcrImage
  /** Where it is read from: the source registry's login and repository. */
  location: RegistryRepository
  manifest: RawManifest
  /** Its digest: a tag was resolved to it once, and it is used from then on. */
  digest: string
  /** Who must be allowed to read it, as refusals name it. */
  grantee: string
}

/** What resolving needs: ECR in the image's region, the registry transport, the caller. */
export interface SourceDeps {
  /** An ECR client for the image's region (its token names the image's account). */
  ecr: ECRClient
  http: RegistryHttp
  /** The account of the credentials (a cross-account read needs the repository's policy too). */
  accountId: string
}

/** Logs in to the image's registry, resolves a tag to its digest and checks the image. */
export async function resolveSourceImage(
  inputs: Inputs,
  ref: EcrImage,
  deps: SourceDeps
): Promise<SourceImage> {
  const login = await getRegistryLogin(deps.ecr, ref.accountId)
  const location = { login, repository: ref.repository }
  const grantee =
    ref.accountId === deps.accountId
      ? 'the deploy role'
      : `the deploy role (and the policy of repository '${ref.repository}' in account ${ref.accountId}, to account ${deps.accountId})`
  const reference = ref.digest ?? ref.tag ?? ''
  const manifest = await readRawManifest(deps.http, location, reference, grantee)
  if (manifest === undefined) {
    throw new InputError(
      `Input 'image': ${ref.uri} does not exist: repository '${ref.repository}' of account ${ref.accountId} in ${ref.region} has no image ${reference}. Give the 'image-uri-pinned' output of the run that pushed it.`
    )
  }
  if (ref.digest === undefined) log.info(`Input 'image': tag ${ref.tag} is ${manifest.digest}`)
  checkLambdaManifest(manifest.info, ref.uri, 'given')
  const architecture =
    manifest.info.configDigest === undefined
      ? ''
      : await readImageArchitecture(deps.http, location, manifest.info.configDigest, grantee)
  checkFunctions(inputs, architecture)
  log.info(
    `Image ${ref.uri}: ${manifest.digest}, ${architecture || 'architecture not stated'}; nothing is built.`
  )
  return { ref, location, manifest, digest: manifest.digest, grantee }
}

/** The functions that run the image must run its architecture; PackageType warnings as for a build. */
function checkFunctions(inputs: Inputs, architecture: string): void {
  const functions = functionsUsingParameter(inputs.template, inputs.imageParameter)
  const mismatches = architectureMismatches(functions, imageArchitecture('', architecture), 'given')
  if (mismatches.length > 0) throw new InputError(mismatches.join(' '))
  for (const warning of packageTypeWarnings(inputs.template, inputs.imageParameter)) {
    log.warning(warning)
  }
}
