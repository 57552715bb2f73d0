/**
 * How every region gets the image. Decided before any write (`planImage`): the build, or the image
 * input 'image' names, resolved and checked; each region's repository looked up. Then, per region
 * (`deliverImage`): the repository created if asked, and the image pushed (the build, first
 * region), or copied through the registry API (from the first region, or from where 'image' is),
 * so every region runs the same digest.
 */
import { getRegistryLogin } from '../aws/ecr.js'
import { DeployError, errorMessage } from '../base/errors.js'
import type { DeployContext, FlowContext } from './flow-context.js'
import {
  buildCheckedImage,
  checkRepository,
  createMissingRepository,
  imageArtifactFor,
  recordImage,
  pushImageArtifact,
  type CheckedImage,
  type ImageArtifact
} from './image.js'
import type { Preflight } from './flow-context.js'
import { copyImage } from '../registry/copy.js'
import { readRawManifest } from '../registry/manifests.js'
import type { RegistryRepository } from '../registry/http.js'
import { resolveSourceImage, type SourceImage } from './source-image.js'

/** Where the first region's push put the built image, for the copies to the others. */
interface Pushed {
  location: RegistryRepository
  digest: string
}

/** The image every region gets, decided before any write. */
export type PreparedImage = (
  | {
      kind: 'built'
      image: CheckedImage
      /** Settles when the first region's push did (the other regions copy from there). */
      pushed: Promise<Pushed>
      settlePushed: (result: Pushed | Error) => void
    }
  | { kind: 'promoted'; source: SourceImage }
) & {
  /** The repository in every region. */
  repository: string
  /** The tag every region gets (the build's, the source's, else the build id). */
  tag: string
}

/** How the regions get the image: the prepared image, and the repositories to create. */
export type ImagePlan = PreparedImage & {
  /** Regions whose repository is missing and is created (`create-repository`). */
  create: Set<string>
}

/** A region in the plan: its context and what preflight read there. */
export interface PlannedRegion {
  ctx: FlowContext
  preflight: Preflight
  /** The first listed region: a build is pushed there. */
  home: boolean
}

/** The build (its own phase) or the resolved 'image' (its own phase): nothing written yet. */
export async function prepareImage(
  ctx: DeployContext,
  home: PlannedRegion
): Promise<PreparedImage> {
  const { inputs } = ctx
  if (inputs.image === undefined) {
    // Built once for every region: a phase of the run, not of the first region.
    const image = await buildCheckedImage({ ...home.ctx, phases: ctx.phases }, home.preflight)
    let settlePushed: (result: Pushed | Error) => void = () => undefined
    const pushed = new Promise<Pushed>((resolve, reject) => {
      settlePushed = (result) => (result instanceof Error ? reject(result) : resolve(result))
    })
    // Nothing may await it (one region): a failed push must not be an unhandled rejection.
    pushed.catch(() => undefined)
    const { repository, tag } = image.target
    return { kind: 'built', image, pushed, settlePushed, repository, tag }
  }
  const ref = inputs.image
  const source = await ctx.phases.run('Check image', () =>
    resolveSourceImage(inputs, ref, {
      ecr: ctx.clients(ref.region).ecr,
      http: ctx.registryHttp,
      accountId: home.preflight.accountId
    })
  )
  return {
    kind: 'promoted',
    source,
    repository: inputs.repository,
    tag: ref.tag ?? inputs.buildTag
  }
}

/** True when the region's repository is where the 'image' already is: nothing to copy. */
function isSource(plan: PreparedImage, region: PlannedRegion): boolean {
  if (plan.kind !== 'promoted') return false
  const { ref } = plan.source
  return (
    ref.region === region.ctx.inputs.region &&
    ref.accountId === region.preflight.accountId &&
    ref.repository === plan.repository
  )
}

/** Looks up the region's repository (a read): true when it must be created. */
export async function repositoryMissing(
  plan: PreparedImage,
  region: PlannedRegion
): Promise<boolean> {
  if (isSource(plan, region)) return false
  const { inputs } = region.ctx
  const named =
    plan.kind === 'built'
      ? `from label ${inputs.labelName}`
      : inputs.repository === inputs.image?.repository
        ? "the source image's repository name; input 'repository' names another"
        : "input 'repository'"
  const accountId = region.preflight.accountId
  return !(await checkRepository(region.ctx, plan.repository, accountId, named))
}

/** Puts the image into the region: its repository first, then a push or a copy. */
export async function deliverImage(plan: ImagePlan, region: PlannedRegion): Promise<ImageArtifact> {
  if (plan.kind === 'built' && region.home) return pushToFirstRegion(plan, region.ctx)
  const { ctx } = region
  if (plan.create.has(ctx.inputs.region)) await createMissingRepository(ctx, plan.repository)
  if (plan.kind === 'promoted' && isSource(plan, region)) return inPlace(ctx, plan.source)
  return copyInto(plan, ctx)
}

/**
 * The image as the region will hold it, when its digest is known before it is there: always for
 * the given 'image' (copied or in place), and for a build whose engine reported the manifest
 * digest (the containerd image store). Then the change set can be made while the image travels.
 * Undefined where only the push tells the digest (the classic store): the order stays.
 */
export async function expectedImage(
  plan: ImagePlan,
  region: PlannedRegion
): Promise<ImageArtifact | undefined> {
  const { ctx } = region
  if (plan.kind === 'promoted' && isSource(plan, region)) return undefined
  const digest = plan.kind === 'promoted' ? plan.source.digest : plan.image.built.manifestDigest
  if (digest === undefined) return undefined
  const host =
    plan.kind === 'built' && region.home
      ? (await plan.image.registry.credentials()).registry
      : (await getRegistryLogin(ctx.aws.ecr)).registry
  return imageArtifactFor(ctx, host, plan.repository, plan.tag, digest)
}

/** The push of the build; the other regions wait for it, and learn when it failed. */
async function pushToFirstRegion(
  plan: Extract<ImagePlan, { kind: 'built' }>,
  ctx: FlowContext
): Promise<ImageArtifact> {
  try {
    if (plan.create.has(ctx.inputs.region)) await createMissingRepository(ctx, plan.repository)
    const { location, ...artifact } = await pushImageArtifact(ctx, plan.image)
    plan.settlePushed({ location, digest: artifact.digest })
    return artifact
  } catch (error) {
    plan.settlePushed(notPushed(ctx.inputs.region, errorMessage(error)))
    throw error
  }
}

/** What a region that copies from the first one fails with when that push failed. */
export function notPushed(region: string, reason: string): DeployError {
  return new DeployError(
    `The image was not pushed to ${region}, the first region, so there is nothing to copy here: ${reason}`
  )
}

/** The 'image' is already in this region's repository: deployed as it is, nothing written. */
function inPlace(ctx: FlowContext, source: SourceImage): ImageArtifact {
  const { ref, digest } = source
  return recordImage(
    ctx,
    imageArtifactFor(ctx, source.location.login.registry, ref.repository, ref.tag, digest)
  )
}

/** Copies the image from where it is into the region's repository, under the run's tags. */
async function copyInto(plan: ImagePlan, ctx: FlowContext): Promise<ImageArtifact> {
  const { inputs } = ctx
  const from =
    plan.kind === 'promoted'
      ? {
          location: plan.source.location,
          manifest: plan.source.manifest,
          grantee: plan.source.grantee
        }
      : await fromFirstRegion(ctx, plan)
  const login = await getRegistryLogin(ctx.aws.ecr)
  const target = { login, repository: plan.repository }
  const tags = [plan.tag, ...inputs.imageTags.filter((t) => t !== plan.tag)]
  await copyImage(ctx.registryHttp, {
    source: from.location,
    target,
    manifest: from.manifest,
    tags,
    sourceGrantee: from.grantee
  })
  return recordImage(
    ctx,
    imageArtifactFor(ctx, login.registry, plan.repository, plan.tag, from.manifest.digest)
  )
}

/** The first region's pushed image and its exact manifest. */
async function fromFirstRegion(ctx: FlowContext, plan: Extract<ImagePlan, { kind: 'built' }>) {
  const pushed = await plan.pushed
  const manifest = await readRawManifest(ctx.registryHttp, pushed.location, pushed.digest)
  if (manifest === undefined) {
    throw new DeployError(
      `The registry ${pushed.location.login.registry} does not show ${pushed.location.repository}@${pushed.digest} after the push, so it cannot be copied to ${ctx.inputs.region}.`
    )
  }
  return { location: pushed.location, manifest, grantee: 'the deploy role' }
}
