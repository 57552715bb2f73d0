/**
 * Pure rules for image references: the reserved label's value, ECR names and tags, the local tag.
 */
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'
import { DNS_SUFFIXES, partitionOf, serviceHost } from './partition.js'

/** Where the pushed image goes, resolved from the reserved label. */
export interface ImageTarget {
  /** ECR repository name, e.g. `spartaoci` or `team/service`. */
  repository: string
  /** Tag pushed, from the label or else the build id. */
  tag: string
}

/** Who is deploying where: used to check a full ECR URI in the label. */
export interface CallerScope {
  accountId: string
  region: string
}

const REPOSITORY_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const REPOSITORY = new RegExp(`^${REPOSITORY_COMPONENT}(?:/${REPOSITORY_COMPONENT})*$`)
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** `<account>.dkr.ecr[-fips].<region>.<suffix>` for any partition's DNS suffix. */
const ECR_HOST = new RegExp(
  `^(\\d{12})\\.dkr\\.ecr(?:-fips)?\\.([a-z0-9-]+)\\.(${DNS_SUFFIXES.map(escapeRegExp).join('|')})$`
)

/**
 * Account and region of a private ECR host whose DNS suffix is that of its region's partition
 * (`…cn-north-1.amazonaws.com.cn`, `…us-iso-east-1.c2s.ic.gov`); undefined for any other host.
 */
function privateEcrHost(host: string): CallerScope | undefined {
  const match = ECR_HOST.exec(host)
  if (match === null) return undefined
  const [, accountId, region, suffix] = match
  if (accountId === undefined || region === undefined) return undefined
  return partitionOf(region).dnsSuffix === suffix ? { accountId, region } : undefined
}

/** True for a valid docker tag. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag)
}

/**
 * Turns a build id into a docker tag: every character outside `[A-Za-z0-9_.-]` becomes `-`,
 * leading `.` and `-` are dropped and the result is cut to 128 characters.
 */
export function sanitizeBuildId(buildId: string): string {
  const tag = buildId
    .trim()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128)
  if (tag === '') {
    throw new InputError(
      `Input 'build-id' ('${shown(buildId)}') has no letters or digits to make a docker tag from: use e.g. the commit SHA.`
    )
  }
  return tag
}

/** Sparta's local tag: `sparta/<lower-case service name>:<build id>`. */
export function localImageTag(stackName: string, buildTag: string): string {
  const name =
    stackName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'service'
  return `sparta/${name}:${buildTag}`
}

/** The registry host of a private ECR registry; its DNS suffix follows the region's partition. */
export function ecrRegistryHost(scope: CallerScope): string {
  return `${scope.accountId}.${serviceHost('dkr.ecr', scope.region)}`
}

/** `host/repository:tag` */
export function formatImageUri(host: string, target: ImageTarget): string {
  return `${host}/${target.repository}:${target.tag}`
}

/** `host/repository@sha256:…` */
export function formatDigestUri(host: string, repository: string, digest: string): string {
  return `${host}/${repository}@${digest}`
}

/**
 * Resolves the reserved label's value to an ECR repository and tag. Accepted forms:
 * `name`, `name:tag`, `path/name[:tag]`, and a full private ECR URI
 * `<account>.dkr.ecr.<region>.<partition suffix>/name[:tag]` that must match the caller.
 */
export function resolveImageTarget(
  labelValue: string | undefined,
  labelName: string,
  buildTag: string,
  scope: CallerScope
): ImageTarget {
  const labelLine = `LABEL ${labelName}="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL \${SPARTA_ECR_LABEL_NAME}="<repository>")`
  if (labelValue === undefined) {
    throw new InputError(
      `The built image has no '${labelName}' label, so there is no ECR repository to push to: add ${labelLine} to the Dockerfile.`
    )
  }
  const value = labelValue.trim()
  if (value === '') {
    throw new InputError(
      `The built image's '${labelName}' label is empty: set it to the ECR repository name, e.g. ${labelLine}.`
    )
  }
  if (/\s/.test(value)) {
    throw new InputError(
      `The '${labelName}' label ('${shown(labelValue)}') contains whitespace; it must be an image reference such as 'my-service' or 'my-service:v1'.`
    )
  }
  if (value.includes('@')) {
    throw new InputError(
      `The '${labelName}' label ('${shown(value)}') holds a digest; it must name a repository (and optionally a tag) to push to, not a digest.`
    )
  }

  let rest = value
  const firstSlash = value.indexOf('/')
  const first = firstSlash >= 0 ? value.slice(0, firstSlash) : ''
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    rest = value.slice(firstSlash + 1)
    const ecr = privateEcrHost(first)
    if (ecr === undefined) {
      throw new InputError(
        `The '${labelName}' label ('${shown(value)}') names the registry '${first}'; only a private ECR repository in the deploying account (${scope.accountId}) and region (${scope.region}) is supported: set the label to '<repository>[:tag]' or '${ecrRegistryHost(scope)}/<repository>[:tag]'.`
      )
    }
    const { accountId: account, region } = ecr
    if (account !== scope.accountId) {
      throw new InputError(
        `The '${labelName}' label ('${shown(value)}') names AWS account ${account}, but the credentials belong to account ${scope.accountId}: label the image with a bare repository name, or deploy with credentials for ${account}.`
      )
    }
    if (region !== scope.region) {
      throw new InputError(
        `The '${labelName}' label ('${shown(value)}') names region ${region}, but the deploy region is ${scope.region}: label the image with a bare repository name, or set input 'region' to ${region}.`
      )
    }
  }

  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  const hasTag = colon > lastSlash
  const repository = hasTag ? rest.slice(0, colon) : rest
  const tag = hasTag ? rest.slice(colon + 1) : buildTag

  checkRepositoryName(repository, `The '${labelName}' label ('${shown(value)}')`)
  if (!isValidTag(tag)) {
    throw new InputError(
      `The '${labelName}' label ('${shown(value)}') has an invalid tag '${tag}': a tag is up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'.`
    )
  }
  return { repository, tag }
}

/** A full image URI taken apart: `host/repository:tag` or `host/repository@sha256:…`. */
export interface ParsedImageUri {
  host: string
  repository: string
  tag?: string
  digest?: string
}

/** Parses a full image URI as the action writes it into the template; undefined when it is not one. */
export function parseImageUri(uri: string): ParsedImageUri | undefined {
  const match =
    /^([^/]+)\/([a-z0-9._/-]+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(
      uri.trim()
    )
  if (match === null) return undefined
  const [, host, repository, tag, digest] = match
  if (
    host === undefined ||
    repository === undefined ||
    (tag === undefined && digest === undefined)
  ) {
    return undefined
  }
  return {
    host,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest })
  }
}

/** The account and region of a private ECR registry host; undefined for any other host. */
export function ecrRegistryOf(host: string): CallerScope | undefined {
  return privateEcrHost(host)
}

/** An image in a private ECR registry, as input 'image' names it. */
export interface EcrImage {
  /** The reference as given (trimmed). */
  uri: string
  /** `<account>.dkr.ecr.<region>.<suffix>` */
  host: string
  accountId: string
  region: string
  repository: string
  /** The tag, when given (resolved to its digest once, at the start). */
  tag?: string
  /** The digest, when given (`sha256:` and 64 hex digits). */
  digest?: string
}

/** The forms input 'image' takes, for its error messages. */
export const ECR_IMAGE_FORMS =
  "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> (the 'image-uri-pinned' output of an earlier run) or <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>"

/**
 * Parses input 'image': a private ECR image by digest or by tag (both: the digest decides). Any
 * other registry, or a reference without tag and digest, is an InputError naming the forms.
 */
export function parseEcrImage(value: string): EcrImage {
  const uri = value.trim()
  const parsed = parseImageUri(uri)
  const scope = parsed === undefined ? undefined : privateEcrHost(parsed.host)
  if (parsed === undefined || scope === undefined) {
    throw new InputError(
      `Input 'image' ('${shown(uri)}') is not an image in a private ECR registry: give ${ECR_IMAGE_FORMS}.`
    )
  }
  checkRepositoryName(parsed.repository, `Input 'image' ('${shown(uri)}')`)
  return { uri, ...parsed, ...scope }
}

/** ECR's repository naming rules; `subject` starts the message. */
export function checkRepositoryName(repository: string, subject: string): void {
  if (!REPOSITORY.test(repository) || repository.length < 2 || repository.length > 256) {
    throw new InputError(
      `${subject} has an invalid ECR repository name '${repository}': use 2-256 lower-case letters, digits and the separators '.', '_', '-', '/'.`
    )
  }
}
