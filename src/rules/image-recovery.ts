/**
 * Recovery when an image a stack needs is already gone: a failed update or rollback whose stack
 * events say the image does not exist (Lambda: "Source image … does not exist", "trying to use a
 * deleted image", `ImageDeleted`, "cannot initialize the provided container image") gets the
 * missing digest, where a copy may be, and the exact steps back.
 */
import type { FailedResource } from '../base/errors.js'

const GONE =
  /(source image .* does not exist|deleted image|ImageDeleted|cannot initialize the provided container image|image .*(not found|does not exist|archived))/i
const URI =
  /\b(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/[a-z0-9._/-]+(?:@sha256:[a-f0-9]{64}|:[\w.-]+))/
const DIGEST = /sha256:[a-f0-9]{64}/

/** What the failed resources say about a missing image. */
export interface MissingImage {
  /** The resources whose reason names a missing image. */
  logicalIds: string[]
  /** The image's URI or digest as the reason gives it; undefined when it names none. */
  image?: string
  digest?: string
}

/** The missing image the failed resources report, if any. */
export function missingImage(resources: readonly FailedResource[]): MissingImage | undefined {
  const gone = resources.filter((r) => r.reason !== undefined && GONE.test(r.reason))
  if (gone.length === 0) return undefined
  const reasons = gone.map((r) => r.reason ?? '').join('\n')
  const image = URI.exec(reasons)?.[1]
  const digest = DIGEST.exec(reasons)?.[0]
  return {
    logicalIds: [...new Set(gone.map((r) => r.logicalId))],
    ...(image ? { image } : {}),
    ...(digest ? { digest } : {})
  }
}

/**
 * The steps back: copy the exact digest back (from `copies`, where the action knows one), then,
 * in UPDATE_ROLLBACK_FAILED, continue the rollback (the caller adds its usual hint otherwise).
 * Empty when no image is missing.
 */
export function deletedImageRecovery(
  stackName: string,
  status: string,
  resources: readonly FailedResource[],
  copies: readonly string[] = []
): string[] {
  const missing = missingImage(resources)
  if (missing === undefined) return []
  const named = missing.image ?? missing.digest
  const steps = [
    `The image${named ? ` ${named}` : ''} is gone from ECR (a lifecycle rule, or a delete): ${missing.logicalIds.join(', ')} could not use it. 'protect-images: true' keeps it next time (docs/RELEASE.md#keeping-images-for-rollback).`
  ]
  const where =
    copies.length > 0
      ? `A copy may still be at: ${copies.join(', ')}.`
      : 'Find a copy of that exact digest (another region or account, the promote source); a rebuild has another digest and does not help.'
  steps.push(
    `${where} Copy it back under its digest, e.g. \`crane copy <copy>@${missing.digest ?? '<digest>'} ${missing.image?.replace(/[@:][^/]*$/, '') ?? '<repository>'}:restored\` (crane and regctl keep the digest; docker pull/push may not).`
  )
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    steps.push(
      `Then run \`aws cloudformation continue-update-rollback --stack-name ${stackName}\`. If the image cannot be put back: \`aws cloudformation continue-update-rollback --stack-name ${stackName} --resources-to-skip ${missing.logicalIds.join(' ')}\` (the skipped resources no longer match the template: deploy again right after).`
    )
  }
  return steps
}
