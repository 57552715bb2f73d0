/**
 * Readers of the release inputs: `image` (deploy an image already in ECR instead of building),
 * `repository` (where a promoted image goes), `regions` (deploy one build to several regions) and
 * the per-region `bucket` (`{region}` in its name).
 */
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'
import { checkRepositoryName, parseEcrImage, type EcrImage } from '../rules/image-ref.js'
import { list, text } from './text.js'
import type { InputName, RawInputs } from './raw.js'
import { isRegionName, readRegion } from './stack.js'

/** Inputs that only shape a build: with `image` nothing is built, so each is refused. */
const BUILD_ONLY_INPUTS: InputName[] = [
  'context',
  'binary',
  'build-args',
  'platform',
  'target',
  'cache-from'
]

/** The placeholder in `bucket` replaced by each region's name. */
export const REGION_PLACEHOLDER = '{region}'

/**
 * `image`: a private ECR image by digest or tag; undefined when not given. Refused together with
 * `dockerfile`, `code-archive` or an input that only shapes a build.
 */
export function readImage(raw: RawInputs): EcrImage | undefined {
  if (text(raw, 'image') === '') return undefined
  if (text(raw, 'dockerfile') !== '') {
    throw new InputError(
      `Inputs 'image' and 'dockerfile' are both set: 'image' deploys an image that is already in ECR, 'dockerfile' builds a new one; give only one of them.`
    )
  }
  if (text(raw, 'code-archive') !== '') {
    throw new InputError(
      `Inputs 'image' and 'code-archive' are both set: 'image' deploys a container image, 'code-archive' a zip package; give only one of them.`
    )
  }
  for (const name of BUILD_ONLY_INPUTS) {
    if (text(raw, name) !== '') {
      throw new InputError(
        `Input '${name}' shapes a build, and with 'image' nothing is built (the image's architecture is read from the registry): remove '${name}'.`
      )
    }
  }
  return parseEcrImage(text(raw, 'image'))
}

/** `repository`: where a promoted image goes (default: the source's repository name). */
export function readRepository(raw: RawInputs, image: EcrImage | undefined): string {
  const repository = text(raw, 'repository')
  if (image === undefined) {
    if (repository !== '') {
      throw new InputError(
        `Input 'repository' names the target repository of a promoted 'image'; a built image goes to the repository its label names: remove 'repository', or set 'image'.`
      )
    }
    return ''
  }
  if (repository === '') return image.repository
  checkRepositoryName(repository, `Input 'repository' ('${shown(repository)}')`)
  return repository
}

/**
 * `regions`: the regions deployed, in order, comma- or newline-separated; none: just `region`.
 * The first listed is where a build is pushed, and it is the run's `region`.
 */
export function readRegions(
  raw: RawInputs,
  env: NodeJS.ProcessEnv
): { region: string; regions: string[] } {
  const listed = list(raw, 'regions')
  if (listed.length === 0) {
    const region = readRegion(raw, env)
    return { region, regions: [region] }
  }
  listed.forEach((region, index) => {
    if (!isRegionName(region)) {
      throw new InputError(
        `Input 'regions' has '${region}', which is not an AWS region name such as us-east-1 or eu-west-2.`
      )
    }
    if (listed.indexOf(region) !== index) {
      throw new InputError(`Input 'regions' lists ${region} twice: list each region once.`)
    }
  })
  const given = text(raw, 'region')
  if (given !== '' && !listed.includes(given)) {
    throw new InputError(
      `Input 'region' (${given}) is not one of 'regions' (${listed.join(', ')}): leave 'region' empty or list it in 'regions'; the first listed region is where the image is built and pushed.`
    )
  }
  return { region: listed[0] as string, regions: listed }
}

/** The bucket of one region: `{region}` in the name replaced by the region. */
export function bucketFor(bucket: string, region: string): string {
  return bucket.split(REGION_PLACEHOLDER).join(region)
}

/** Buckets are regional: several regions need `{region}` in the bucket's name. */
export function checkRegionalBucket(bucket: string, regions: string[]): void {
  if (regions.length > 1 && !bucket.includes(REGION_PLACEHOLDER)) {
    throw new InputError(
      `Input 'bucket' ('${shown(bucket)}') names one bucket, but 'regions' lists ${regions.length} regions and a bucket is in one region (CloudFormation reads the template from the stack's region): put ${REGION_PLACEHOLDER} in the name, e.g. '${bucket}-${REGION_PLACEHOLDER}', with one bucket per region.`
    )
  }
}
