/**
 * The built image: build with Sparta's build args, check the label, the architecture and the
 * template's use of the image before anything is written; the repository looked up (a read) and
 * created when asked; then the push (skipped when the registry already holds this image), and the
 * check that Lambda accepts the manifest.
 */
import * as log from '../base/log.js'
import { buildImage, pullImage, pushImage, tagImage, type BuiltImage } from '../docker/docker.js'
import type { RegistryLogin } from '../base/registry-login.js'
import {
  cacheLocation,
  detectBuilder,
  needsLoad,
  planBuildCache,
  type Builder,
  type CachePlan
} from '../docker/builder.js'
import { createRepository, repositoryExists } from '../aws/ecr.js'
import { DeployError, errorMessage, InputError } from '../base/errors.js'
import type { FlowContext } from './flow-context.js'
import {
  ecrRegistryHost,
  formatDigestUri,
  formatImageUri,
  localImageTag,
  resolveImageTarget,
  type ImageTarget
} from '../rules/image-ref.js'
import type { Preflight } from './flow-context.js'
import { checkLambdaManifest, type ManifestInfo } from '../registry/manifests.js'
import { createRegistryAccess, type RegistryAccess } from './registry-access.js'
import type { RegistryRepository } from '../registry/http.js'
import {
  architectureMismatches,
  functionsUsingParameter,
  imageArchitecture,
  packageTypeWarnings
} from '../template/functions.js'

/** A built and checked image, not pushed yet. */
export interface CheckedImage {
  built: BuiltImage
  /** The ECR repository and tag the label names. */
  target: ImageTarget
  registry: RegistryAccess
}

/** Builds the image (its own phase) and checks it; nothing is written yet. */
export async function buildCheckedImage(
  ctx: FlowContext,
  preflight: Preflight
): Promise<CheckedImage> {
  const registry = createRegistryAccess(ctx)
  // The ECR token the push needs is fetched during the build (noop pushes nothing); a failure
  // surfaces where the token is used.
  if (ctx.inputs.mode !== 'noop') registry.credentials().catch(() => undefined)
  const built = await ctx.phases.run('Build image', () => build(ctx, registry, preflight))
  const target = checkBuiltImage(ctx, built, preflight.accountId)
  return { built, target, registry }
}

/**
 * `docker build` with Sparta's build args, in the private DOCKER_CONFIG (the user's context and
 * builder, plus the ECR login a registry cache needs); attestations off where the builder makes
 * them, `--load` where its driver keeps results to itself.
 */
async function build(
  ctx: FlowContext,
  registry: RegistryAccess,
  preflight: Preflight
): Promise<BuiltImage> {
  const { inputs, runner } = ctx
  const { accountId } = preflight
  const config = registry.config()
  const [builder] = await Promise.all([
    detectBuilder(runner, config),
    pullCacheImages(ctx, registry)
  ])
  const cache = await planCache(ctx, registry, preflight, builder)
  return buildImage(
    runner,
    {
      dockerfile: inputs.dockerfile,
      context: inputs.context,
      localTag: localImageTag(inputs.stackName, inputs.buildTag),
      buildArgs: [
        { key: 'AWS_ACCOUNT_ID', value: accountId },
        { key: 'AWS_REGION', value: inputs.region },
        { key: 'SPARTA_BINARY', value: inputs.binary },
        { key: 'SPARTA_ECR_LABEL_NAME', value: inputs.labelName },
        { key: 'SPARTA_BUILD_ID', value: inputs.buildTag },
        ...inputs.buildArgs
      ],
      platform: inputs.platform,
      target: inputs.target,
      attestationFlags: builder.buildkit,
      cacheFrom: [...inputs.cacheFrom, ...cache.cacheFrom],
      // noop writes nothing, not even a cache
      cacheTo: inputs.mode === 'noop' ? [] : cache.cacheTo,
      load: needsLoad(builder),
      containerdStore: builder.containerdStore
    },
    config
  )
}

/**
 * The build cache for this builder, kept beside the image the stack runs now; its warnings are
 * shown. The ECR login it needs failing only warns: the build then runs without the cache.
 */
async function planCache(
  ctx: FlowContext,
  registry: RegistryAccess,
  preflight: Preflight,
  builder: Builder
): Promise<CachePlan> {
  const { inputs } = ctx
  const host = ecrRegistryHost({ accountId: preflight.accountId, region: inputs.region })
  let cache = planBuildCache(
    inputs.buildCache,
    builder,
    cacheLocation(preflight.previousImage, host)
  )
  for (const warning of cache.warnings) log.warning(warning)
  if (cache.needsLogin) {
    try {
      await registry.login()
    } catch (error) {
      log.warning(
        `build-cache: could not log in to ECR (${errorMessage(error)}); building without the cache.`
      )
      cache = { ...cache, cacheFrom: [], cacheTo: [] }
    }
  }
  log.info(cache.summary)
  return cache
}

/**
 * `cache-from` images are pulled before the build: the legacy builder only uses cache images that
 * are local, and a pulled image serves BuildKit too. A pull that fails only warns.
 */
async function pullCacheImages(ctx: FlowContext, registry: RegistryAccess): Promise<void> {
  if (ctx.inputs.cacheFrom.length === 0) return
  try {
    await registry.login()
  } catch (error) {
    log.warning(
      `cache-from: could not log in to ECR (${errorMessage(error)}); building without the cache images.`
    )
    return
  }
  for (const reference of ctx.inputs.cacheFrom) {
    const pulled = await pullImage(ctx.runner, registry.config(), reference)
    if (pulled) log.info(`cache-from: pulled ${reference}`)
    else log.warning(`cache-from: could not pull ${reference}; building without it.`)
  }
}

/** The label, the architecture and the template's use of the image: all before the push. */
function checkBuiltImage(ctx: FlowContext, built: BuiltImage, accountId: string): ImageTarget {
  const { inputs } = ctx
  const target = resolveImageTarget(
    built.labels[inputs.labelName],
    inputs.labelName,
    inputs.buildTag,
    {
      accountId,
      region: inputs.region
    }
  )
  log.info(`Label ${inputs.labelName} → ECR repository ${target.repository}, tag ${target.tag}`)
  const functions = functionsUsingParameter(inputs.template, inputs.imageParameter)
  const architecture = imageArchitecture(inputs.platform, built.architecture)
  const mismatches = architectureMismatches(functions, architecture)
  if (mismatches.length > 0) throw new InputError(mismatches.join(' '))
  for (const warning of packageTypeWarnings(inputs.template, inputs.imageParameter)) {
    log.warning(warning)
  }
  return target
}

/**
 * Whether the region's repository exists (a read); a missing one is an InputError unless
 * `create-repository` is on. `named` says where its name came from, for the message.
 */
export async function checkRepository(
  ctx: FlowContext,
  repository: string,
  accountId: string,
  named: string
): Promise<boolean> {
  const { inputs, aws } = ctx
  if (await repositoryExists(aws.ecr, repository)) return true
  if (!inputs.createRepository) {
    throw new InputError(
      `ECR repository '${repository}' (${named}) does not exist in account ${accountId}, ${inputs.region}: create it, or set 'create-repository: true'.`
    )
  }
  return false
}

/** Creates the region's repository (its first write). */
export async function createMissingRepository(ctx: FlowContext, repository: string): Promise<void> {
  log.info(`Creating ECR repository ${repository}`)
  await createRepository(ctx.aws.ecr, repository)
}

/** A pushed (or copied) image, as the template and the outputs name it. */
export interface ImageArtifact {
  imageUri: string
  /** `registry/repository@sha256:…` */
  pinnedUri: string
  digest: string
  /** What the template gets (the pinned URI with `pin-digest`, else the tagged one). */
  templateValue: string
}

/**
 * Records an image now in the registry (`imageArtifactFor`) as the outputs name it; they are set
 * now, since the image is there whatever fails next.
 */
export function recordImage(ctx: FlowContext, artifact: ImageArtifact): ImageArtifact {
  const { imageUri, pinnedUri, digest } = artifact
  ctx.sink.image({ imageUri, imageDigest: digest, imageUriPinned: pinnedUri })
  return artifact
}

/**
 * The image at `host/repository` (tagged `tag`, else named by digest only) as the template and
 * the outputs name it (pure).
 */
export function imageArtifactFor(
  ctx: FlowContext,
  host: string,
  repository: string,
  tag: string | undefined,
  digest: string
): ImageArtifact {
  const pinnedUri = formatDigestUri(host, repository, digest)
  const imageUri = tag === undefined ? pinnedUri : formatImageUri(host, { repository, tag })
  return { imageUri, pinnedUri, digest, templateValue: ctx.inputs.pinDigest ? pinnedUri : imageUri }
}

/**
 * Logs in (password on stdin, private DOCKER_CONFIG), skips the push when the registry already
 * holds this exact image under the tag, else pushes; extra tags follow; the manifest must be one
 * Lambda accepts. Also returns where the image now is, for the copies to other regions.
 */
export async function pushImageArtifact(
  ctx: FlowContext,
  { built, target, registry }: CheckedImage
): Promise<ImageArtifact & { location: RegistryRepository }> {
  const { inputs, runner } = ctx
  const creds = await registry.credentials()
  const imageUri = formatImageUri(creds.registry, target)
  const push = async (reference: string): Promise<string> => {
    await registry.login()
    // From the id, not the local tag: a build beside ours on this engine may have re-tagged it.
    await tagImage(runner, built.imageId || built.localTag, reference)
    return pushImage(runner, registry.config(), reference, () => registry.relogin())
  }

  const existing = await readManifest(
    ctx,
    creds,
    target.repository,
    target.tag,
    'see if it is already there'
  )
  // With a digest known at build time the change set already names it: only that one will do.
  const expected = built.manifestDigest
  const holds =
    existing &&
    existing.configDigest === built.configDigest &&
    (expected === undefined || existing.digest === expected)
  if (holds) log.info(`${imageUri} already holds this image (${existing.digest}); nothing to push.`)
  const digest = holds ? existing.digest : await pushOurs(imageUri, expected, push)
  const artifact = recordImage(
    ctx,
    imageArtifactFor(ctx, creds.registry, target.repository, target.tag, digest)
  )
  const manifest =
    existing && existing.digest === digest
      ? existing
      : await readManifest(
          ctx,
          creds,
          target.repository,
          digest,
          'check Lambda accepts its media type'
        )
  if (manifest === undefined) {
    throw new DeployError(`The registry does not show ${imageUri}@${digest} after the push.`)
  }
  if (manifest !== null) checkLambdaManifest(manifest, imageUri)
  for (const tag of inputs.imageTags.filter((t) => t !== target.tag)) {
    const extra = formatImageUri(creds.registry, { repository: target.repository, tag })
    await push(extra)
    log.info(`Tagged ${extra}`)
  }
  return { ...artifact, location: { login: creds, repository: target.repository } }
}

/**
 * Pushes; where the build reported its manifest digest (the containerd store), until the pushed
 * digest is that one: another build on the same engine (a parallel job on a shared runner) may
 * move the tag between our `docker tag` and the push, and `docker push` sends whatever the tag
 * names then. (The classic store makes the manifest in the push: nothing to compare it with.)
 */
async function pushOurs(
  imageUri: string,
  expected: string | undefined,
  push: (reference: string) => Promise<string>
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    log.info(`Pushing ${imageUri}`)
    const digest = await push(imageUri)
    log.info(`Pushed ${imageUri} (${digest})`)
    if (expected === undefined || digest === expected) return digest
    if (attempt === PUSH_ATTEMPTS) {
      throw new DeployError(
        `docker push gave ${imageUri} digest ${digest}, not ${expected} as the build reported, in ${PUSH_ATTEMPTS} attempts: another build on this Docker engine keeps re-tagging it. The change set names the build's digest, so it is not executed. Give concurrent jobs on one runner different 'build-id's (or stack names), or one concurrency group (docs/WORKFLOWS.md#concurrency).`
      )
    }
    log.warning(
      `docker push sent ${imageUri} as ${digest}, not ${expected} as the build reported: another build on this Docker engine re-tagged it meanwhile. Tagging and pushing again.`
    )
  }
}

/** Pushes of one tag before a tag that keeps moving to another build fails the run. */
const PUSH_ATTEMPTS = 3

/**
 * A manifest from the registry; undefined when it is not there, null when the registry could not
 * be read (a proxy the registry call cannot use, a missing ecr:BatchGetImage): then the check is
 * skipped with a warning rather than failing a push that worked.
 */
async function readManifest(
  ctx: FlowContext,
  creds: RegistryLogin,
  repository: string,
  reference: string,
  purpose: string
): Promise<ManifestInfo | undefined | null> {
  try {
    return await ctx.getManifest(creds, repository, reference)
  } catch (error) {
    log.warning(
      `Could not read ${repository}:${reference} from the registry to ${purpose}: ${errorMessage(error)}`
    )
    return null
  }
}
