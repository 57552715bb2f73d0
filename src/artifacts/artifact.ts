/**
 * artifacts/: what the stack runs, made ready in each region: the image (built and pushed, or the
 * given 'image' copied) or the zip package, the template upload beside it, and the flow context
 * they work in.
 * May import: inputs/, report/, registry/, docker/, aws/, template/, rules/, base/.
 *
 * The build artifact the stack runs: a pushed container image or an uploaded zip package. What
 * differs between the two is decided here, once: the template parameters the action fills in
 * and the report fields. Also the template upload both publish steps run beside the artifact.
 */
import * as log from '../base/log.js'
import type { FlowContext } from './flow-context.js'
import type { Inputs } from '../inputs/inputs.js'
import { templateKey, uploadTemplate, type BucketState } from '../aws/s3.js'

/** Which artifact a run deploys: `code-archive` set means a zip package. */
export type ArtifactKind = 'image' | 'zip'

/** The published artifact. */
export type BuildArtifact =
  | {
      kind: 'image'
      imageUri: string
      /** `registry/repository@sha256:…` */
      pinnedUri: string
      digest: string
      /** The URI handed to the template (pinned or tagged). */
      templateValue: string
    }
  | {
      kind: 'zip'
      /** The package's S3 key and (versioned bucket) version. */
      key: string
      versionId?: string
    }

/** What a publish step leaves: the artifact and the uploaded template beside it. */
export interface Publication {
  artifact: BuildArtifact
  templateUrl: string
}

/** The kind of artifact the inputs ask for. */
export function artifactKind(inputs: Inputs): ArtifactKind {
  return inputs.codeArchive === '' ? 'image' : 'zip'
}

/** The template parameters the action fills in for this kind (they count as given in preflight). */
export function filledParameterNames(kind: ArtifactKind, inputs: Inputs): string[] {
  return kind === 'zip'
    ? [inputs.archiveKeyParameter, inputs.archiveVersionParameter]
    : [inputs.imageParameter]
}

/** The values the action fills in: the image URI, or the package's key (and version, if declared). */
export function filledParameters(artifact: BuildArtifact, inputs: Inputs): Map<string, string> {
  if (artifact.kind === 'image') return new Map([[inputs.imageParameter, artifact.templateValue]])
  const filled = new Map([[inputs.archiveKeyParameter, artifact.key]])
  if (inputs.template.parameters[inputs.archiveVersionParameter] !== undefined) {
    filled.set(inputs.archiveVersionParameter, artifact.versionId ?? '')
  }
  return filled
}

/** The report's artifact fields; the other kind's fields are empty. */
export function artifactReport(artifact: BuildArtifact): {
  imageUri: string
  imageUriPinned: string
  imageDigest: string
  archiveKey: string
  archiveVersion: string
} {
  const image = artifact.kind === 'image' ? artifact : undefined
  const zip = artifact.kind === 'zip' ? artifact : undefined
  return {
    imageUri: image?.imageUri ?? '',
    imageUriPinned: image?.pinnedUri ?? '',
    imageDigest: image?.digest ?? '',
    archiveKey: zip?.key ?? '',
    archiveVersion: zip?.versionId ?? ''
  }
}

/** Uploads the template under a key with the stack name and build id. */
export async function uploadTemplateFile(
  ctx: FlowContext,
  bucket: BucketState
): Promise<{ url: string }> {
  const { inputs, aws } = ctx
  const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
  const location = await uploadTemplate(
    aws.s3,
    inputs.bucket,
    inputs.region,
    key,
    inputs.template.body,
    bucket.versioningEnabled
  )
  // aws/s3.ts said whether the bytes were uploaded or already there; this is where they are.
  log.info(`Template URL: ${location.url}`)
  ctx.sink.template(location.url)
  return location
}

/** Awaits both promises (neither is left running) and throws the first failure. */
export async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}
