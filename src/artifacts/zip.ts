/** The zip artifact: the code package and the template uploaded side by side (one phase). */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { settleBoth, uploadTemplateFile, type Publication } from './artifact.js'
import type { FlowContext } from './flow-context.js'
import { requireBucket, type Preflight } from './flow-context.js'
import { uploadObject } from '../aws/s3.js'

/** Uploads the package under a key with the stack name and build id, beside the template. */
export async function publishZipArtifact(
  ctx: FlowContext,
  preflight: Preflight
): Promise<Publication> {
  return ctx.phases.run('Upload package and template', () => uploadZip(ctx, preflight))
}

async function uploadZip(ctx: FlowContext, preflight: Preflight): Promise<Publication> {
  const { inputs, aws } = ctx
  const bucket = requireBucket(preflight)
  const key = `${inputs.stackName}/${inputs.buildTag}/${basename(inputs.codeArchive)}`
  const [archive, template] = await settleBoth(
    uploadObject(
      aws.s3,
      inputs.bucket,
      key,
      await readFile(inputs.codeArchive),
      bucket.versioningEnabled
    ).then((uploaded) => {
      // Set now: a template upload that fails must not hide the package that is there.
      ctx.sink.archive(key, uploaded.versionId)
      return uploaded
    }),
    uploadTemplateFile(ctx, bucket)
  )
  return {
    artifact: { kind: 'zip', key, ...(archive.versionId ? { versionId: archive.versionId } : {}) },
    templateUrl: template.url
  }
}
