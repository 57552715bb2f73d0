/**
 * The deploy-like modes (deploy, review, noop) for an image or a zip package:
 * preflight → build and check the image → push ∥ upload → change set → execute.
 * Every check that can fail runs before the first write (repository, push, upload, stack).
 */
import * as core from '@actions/core'
import type { Parameter } from '@aws-sdk/client-cloudformation'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { AwsClients } from './aws-clients.js'
import {
  createChangeSet,
  deployStack,
  describeStack,
  type DeployRequest,
  type DeployResult,
  type WaitOptions
} from './cloudformation.js'
import {
  buildImage,
  cacheLocation,
  checkDockerEngine,
  createDockerConfig,
  detectBuilder,
  login,
  needsLoad,
  planBuildCache,
  pullImage,
  pushImage,
  tagImage,
  type BuiltImage,
  type DockerConfig,
  type Runner
} from './docker.js'
import { createRepository, getRegistryLogin, repositoryExists } from './ecr.js'
import { DeployError, errorMessage, InputError } from './errors.js'
import {
  ecrRegistryHost,
  formatDigestUri,
  formatImageUri,
  localImageTag,
  resolveImageTarget,
  type ImageTarget
} from './image-ref.js'
import type { Inputs } from './inputs.js'
import type { Phases } from './phases.js'
import { checkLambdaManifest, type ManifestInfo } from './registry.js'
import type { RegistryLogin } from './docker.js'
import { blankReport, type Report } from './report.js'
import {
  checkBucket,
  templateKey,
  templateUrl,
  uploadObject,
  uploadTemplate,
  type BucketState
} from './s3.js'
import type { Session } from './session.js'
import {
  buildParameters,
  defaultChangeSetName,
  missingParameters,
  planStack,
  recoveryHint
} from './stack-rules.js'
import { getAccountId } from './sts.js'
import {
  architectureMismatches,
  functionsUsingParameter,
  imageArchitecture,
  noEchoParameters,
  packageTypeWarnings
} from './template.js'

/** What the flow works with. */
export interface FlowContext {
  inputs: Inputs
  aws: AwsClients
  runner: Runner
  wait: WaitOptions
  phases: Phases
  session: Session
  /** Reads a manifest from the registry (the push skip and the Lambda manifest check). */
  getManifest: ManifestReader
}

/** `getManifest` from registry.ts, or a stand-in in tests. */
export type ManifestReader = (
  login: RegistryLogin,
  repository: string,
  reference: string
) => Promise<ManifestInfo | undefined>

/** Sparta's stand-in account for `--noop` runs without credentials. */
export const NOOP_ACCOUNT_ID = '123412341234'

interface Preflight {
  accountId: string
  /** Undefined in a noop run without credentials: nothing in AWS was read. */
  bucket?: BucketState
  stackStatus?: string
  /** The image the stack runs now (its image parameter): where the build cache lives. */
  previousImage?: string
}

/** The pushed (or, in noop, the would-be) image. */
interface PublishedImage {
  imageUri: string
  pinnedUri: string
  digest: string
  /** The URI handed to the template (pinned or tagged). */
  templateValue: string
}

/** Runs deploy, review or noop; returns what the report shows. */
export async function runDeployFlow(ctx: FlowContext): Promise<Report> {
  const { inputs, phases } = ctx
  const zip = inputs.codeArchive !== ''
  const preflight = await phases.run('Preflight checks', () => runPreflight(ctx, zip))

  let image: PublishedImage | undefined
  let filled: Map<string, string>
  let templateLocation: { url: string }
  let archive: { key: string; versionId?: string } | undefined

  if (zip) {
    if (inputs.mode === 'noop') return noopReport(ctx, preflight, undefined)
    const uploaded = await phases.run('Upload package and template', () =>
      uploadZip(ctx, preflight)
    )
    archive = uploaded.archive
    templateLocation = uploaded.template
    filled = new Map([[inputs.archiveKeyParameter, archive.key]])
    if (inputs.template.parameters[inputs.archiveVersionParameter] !== undefined) {
      filled.set(inputs.archiveVersionParameter, archive.versionId ?? '')
    }
  } else {
    const registry = createRegistryAccess(ctx)
    const built = await phases.run('Build image', () => build(ctx, registry, preflight))
    const target = checkBuiltImage(ctx, built, preflight.accountId)
    if (inputs.mode === 'noop') return noopReport(ctx, preflight, target)
    await ensureRepository(ctx, target, preflight.accountId)
    const [published, template] = await phases.run('Push image and upload template', () =>
      settleBoth(publishImage(ctx, registry, built, target), uploadTemplateFile(ctx, preflight))
    )
    image = published
    templateLocation = template
    filled = new Map([[inputs.imageParameter, published.templateValue]])
  }

  const request = changeSetRequest(ctx, templateLocation.url, filled)
  const base = {
    mode: inputs.mode,
    stackName: inputs.stackName,
    buildId: inputs.buildTag,
    imageUri: image?.imageUri ?? '',
    imageUriPinned: image?.pinnedUri ?? '',
    imageDigest: image?.digest ?? '',
    templateUrl: templateLocation.url,
    archiveKey: archive?.key ?? '',
    archiveVersion: archive?.versionId ?? '',
    changeOutputs: true,
    phases: phases.done
  }
  if (inputs.mode === 'review') {
    const changeSet = await phases.run('Create change set', () =>
      createChangeSet(ctx.aws.cloudformation, request, ctx.wait)
    )
    if (!changeSet.empty) {
      core.info(
        `Review mode: change set ${changeSet.changeSetName} is ready and was not executed. Execute it with 'execute-change-set: ${changeSet.changeSetId}'.`
      )
    }
    const current = changeSet.empty
      ? undefined
      : await describeStack(ctx.aws.cloudformation, changeSet.stackId)
    return {
      ...base,
      changeSetId: changeSet.changeSetId,
      changes: changeSet.changes,
      parameterChanges: changeSet.parameterChanges ?? [],
      stackId: changeSet.stackId,
      stackStatus: changeSet.stackStatus ?? current?.StackStatus ?? 'REVIEW_IN_PROGRESS',
      noChanges: changeSet.empty,
      executed: false,
      outputs: changeSet.outputs ?? current?.Outputs ?? []
    }
  }
  const deployed = await phases.run('Deploy stack', () => deploy(ctx, request))
  return {
    ...base,
    ...deployed,
    parameterChanges: deployed.parameterChanges ?? [],
    executed: !deployed.noChanges
  }
}

/**
 * Creates and executes the change set under one timeout. Once CloudFormation accepted the
 * execute, a cancelled workflow cancels the update (never before: a busy stack we waited for
 * is someone else's operation).
 */
async function deploy(ctx: FlowContext, request: DeployRequest): Promise<DeployResult> {
  const { inputs, aws, session } = ctx
  try {
    return await deployStack(aws.cloudformation, request, ctx.wait, {
      disableRollback: inputs.disableRollback,
      terminationProtection: inputs.terminationProtection,
      onExecuted: (stackId) => session.trackUpdate(aws.cloudformation, stackId)
    })
  } finally {
    session.trackUpdate(aws.cloudformation, undefined)
  }
}

/** Reads only: engine, account, bucket, stack. A noop run without credentials reads nothing. */
async function runPreflight(ctx: FlowContext, zip: boolean): Promise<Preflight> {
  const { inputs, aws } = ctx
  if (!zip) {
    const version = await checkDockerEngine(ctx.runner)
    core.info(`Docker engine ${version}`)
  }
  // The three reads need nothing from each other: one round trip instead of three.
  const [account, bucketRead, stackRead] = await Promise.allSettled([
    getAccountId(aws.sts),
    checkBucket(aws.s3, inputs.bucket, inputs.region),
    describeStack(aws.cloudformation, inputs.stackName)
  ])
  if (account.status === 'rejected') {
    if (inputs.mode !== 'noop') throw account.reason
    core.warning(
      `noop: no usable AWS credentials (${errorMessage(account.reason)}); using Sparta's stand-in account ${NOOP_ACCOUNT_ID} and skipping the AWS checks.`
    )
    return { accountId: NOOP_ACCOUNT_ID }
  }
  const accountId = account.value
  core.info(`AWS account ${accountId}, region ${inputs.region}`)
  if (bucketRead.status === 'rejected') throw bucketRead.reason
  if (stackRead.status === 'rejected') throw stackRead.reason
  const bucket = bucketRead.value
  const stack = stackRead.value
  const plan = planStack(stack?.StackStatus)
  if (plan.kind === 'blocked') {
    throw new DeployError(
      `Stack ${inputs.stackName} is in ${plan.status} and cannot be updated. ${recoveryHint(plan.status)}`
    )
  }
  const previous = new Set(
    plan.kind === 'update' || plan.kind === 'wait'
      ? (stack?.Parameters ?? []).map((p) => p.ParameterKey ?? '')
      : []
  )
  // The parameters the action fills in later count as given, like the overrides.
  const filledByAction = zip
    ? [inputs.archiveKeyParameter, inputs.archiveVersionParameter]
    : [inputs.imageParameter]
  const missing = missingParameters(
    inputs.template.parameters,
    new Map([...inputs.parameterOverrides, ...filledByAction.map((k) => [k, ''] as const)]),
    previous
  )
  if (missing.length > 0) {
    throw new InputError(
      `Template parameters ${missing.join(', ')} have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines).`
    )
  }
  if (
    zip &&
    bucket.versioningEnabled === false &&
    inputs.template.parameters[inputs.archiveVersionParameter]
  ) {
    core.warning(
      `The template declares ${inputs.archiveVersionParameter}, but bucket ${inputs.bucket} is not versioned: it gets an empty value. Enable versioning on the bucket to pin the package version.`
    )
  }
  core.info(`Stack ${inputs.stackName}: ${stack?.StackStatus ?? 'does not exist yet'}`)
  const previousImage = zip
    ? undefined
    : stack?.Parameters?.find((p) => p.ParameterKey === inputs.imageParameter)?.ParameterValue
  return {
    accountId,
    bucket,
    ...(stack?.StackStatus ? { stackStatus: stack.StackStatus } : {}),
    ...(previousImage ? { previousImage } : {})
  }
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
  const host = ecrRegistryHost({ accountId, region: inputs.region })
  let cache = planBuildCache(
    inputs.buildCache,
    builder,
    cacheLocation(preflight.previousImage, host)
  )
  for (const warning of cache.warnings) core.warning(warning)
  if (cache.needsLogin) {
    try {
      await registry.login()
    } catch (error) {
      core.warning(
        `build-cache: could not log in to ECR (${errorMessage(error)}); building without the cache.`
      )
      cache = { ...cache, cacheFrom: [], cacheTo: [] }
    }
  }
  core.info(cache.summary)
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
      load: needsLoad(builder)
    },
    config
  )
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
    core.warning(
      `cache-from: could not log in to ECR (${errorMessage(error)}); building without the cache images.`
    )
    return
  }
  for (const reference of ctx.inputs.cacheFrom) {
    const pulled = await pullImage(ctx.runner, registry.config(), reference)
    if (pulled) core.info(`cache-from: pulled ${reference}`)
    else core.warning(`cache-from: could not pull ${reference}; building without it.`)
  }
}

/** One ECR login per run, in a private DOCKER_CONFIG that the session removes at the end. */
interface RegistryAccess {
  /** The private docker config (made on first use). */
  config(): DockerConfig
  /** The registry credentials (the password is masked when they are read). */
  credentials(): Promise<RegistryLogin>
  /** `docker login` once; later calls reuse it. */
  login(): Promise<RegistryLogin>
  /** A fresh token and a new `docker login` (after a push was refused). */
  relogin(): Promise<void>
}

/** Nothing happens until it is used: no directory, no token, no login. */
function createRegistryAccess(ctx: FlowContext): RegistryAccess {
  let dockerConfig: DockerConfig | undefined
  const config = (): DockerConfig => {
    if (dockerConfig === undefined) {
      const created = createDockerConfig()
      ctx.session.onDispose(() => created.dispose())
      dockerConfig = created
    }
    return dockerConfig
  }
  let creds: Promise<RegistryLogin> | undefined
  let loggedIn: Promise<void> | undefined
  const access: RegistryAccess = {
    config,
    credentials: () => (creds ??= getRegistryLogin(ctx.aws.ecr)),
    login: async () => {
      const current = await access.credentials()
      await (loggedIn ??= login(ctx.runner, config(), current))
      return current
    },
    relogin: async () => {
      creds = getRegistryLogin(ctx.aws.ecr)
      loggedIn = login(ctx.runner, config(), await creds)
      await loggedIn
    }
  }
  return access
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
  core.info(`Label ${inputs.labelName} → ECR repository ${target.repository}, tag ${target.tag}`)
  const functions = functionsUsingParameter(inputs.template, inputs.imageParameter)
  const architecture = imageArchitecture(inputs.platform, built.architecture)
  const mismatches = architectureMismatches(functions, architecture)
  if (mismatches.length > 0) throw new InputError(mismatches.join(' '))
  for (const warning of packageTypeWarnings(inputs.template, inputs.imageParameter)) {
    core.warning(warning)
  }
  return target
}

/** The repository must exist, or is created when asked (the first write of the run). */
async function ensureRepository(
  ctx: FlowContext,
  target: ImageTarget,
  accountId: string
): Promise<void> {
  const { inputs, aws } = ctx
  if (await repositoryExists(aws.ecr, target.repository)) return
  if (!inputs.createRepository) {
    throw new InputError(
      `ECR repository '${target.repository}' (from label ${inputs.labelName}) does not exist in account ${accountId}, ${inputs.region}: create it, or set 'create-repository: true'.`
    )
  }
  core.info(`Creating ECR repository ${target.repository}`)
  await createRepository(aws.ecr, target.repository)
}

/**
 * Logs in (password on stdin, private DOCKER_CONFIG), skips the push when the registry already
 * holds this exact image under the tag, else pushes; extra tags follow; the manifest must be one
 * Lambda accepts.
 */
async function publishImage(
  ctx: FlowContext,
  registry: RegistryAccess,
  built: BuiltImage,
  target: ImageTarget
): Promise<PublishedImage> {
  const { inputs, runner } = ctx
  const creds = await registry.credentials()
  const imageUri = formatImageUri(creds.registry, target)
  const push = async (reference: string): Promise<string> => {
    await registry.login()
    await tagImage(runner, built.localTag, reference)
    return pushImage(runner, registry.config(), reference, () => registry.relogin())
  }

  const existing = await readManifest(
    ctx,
    creds,
    target.repository,
    target.tag,
    'see if it is already there'
  )
  let digest: string
  if (existing && existing.configDigest === built.configDigest) {
    core.info(`${imageUri} already holds this image (${existing.digest}); nothing to push.`)
    digest = existing.digest
  } else {
    core.info(`Pushing ${imageUri}`)
    digest = await push(imageUri)
    core.info(`Pushed ${imageUri} (${digest})`)
  }
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
    core.info(`Tagged ${extra}`)
  }
  const pinnedUri = formatDigestUri(creds.registry, target.repository, digest)
  return { imageUri, pinnedUri, digest, templateValue: inputs.pinDigest ? pinnedUri : imageUri }
}

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
    core.warning(
      `Could not read ${repository}:${reference} from the registry to ${purpose}: ${errorMessage(error)}`
    )
    return null
  }
}

function requireBucket(preflight: Preflight): BucketState {
  if (preflight.bucket === undefined) throw new DeployError('The bucket was not checked.')
  return preflight.bucket
}

/** Uploads the template under a key with the stack name and build id. */
async function uploadTemplateFile(
  ctx: FlowContext,
  preflight: Preflight
): Promise<{ url: string }> {
  const { inputs, aws } = ctx
  const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
  const bucket = requireBucket(preflight)
  const location = await uploadTemplate(
    aws.s3,
    inputs.bucket,
    inputs.region,
    key,
    inputs.template.body,
    bucket.versioningEnabled
  )
  core.info(`Uploaded template to ${location.url}`)
  return location
}

/** Zip mode: the package and the template, side by side. */
async function uploadZip(
  ctx: FlowContext,
  preflight: Preflight
): Promise<{ archive: { key: string; versionId?: string }; template: { url: string } }> {
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
    ),
    uploadTemplateFile(ctx, preflight)
  )
  core.info(
    `Uploaded package to s3://${inputs.bucket}/${key}${archive.versionId ? ` (version ${archive.versionId})` : ''}`
  )
  return {
    archive: { key, ...(archive.versionId ? { versionId: archive.versionId } : {}) },
    template
  }
}

/** The change set request: parameters, tags, capabilities and CloudFormation's options. */
function changeSetRequest(
  ctx: FlowContext,
  url: string,
  filled: Map<string, string>
): DeployRequest {
  const { inputs } = ctx
  const values = new Map([...inputs.parameterOverrides, ...filled])
  return {
    stackName: inputs.stackName,
    templateUrl: url,
    parameters: (previous): Parameter[] =>
      buildParameters(Object.keys(inputs.template.parameters), values, previous),
    capabilities: inputs.capabilities,
    tags: [
      ...inputs.tags.map((t) => ({ Key: t.key, Value: t.value })),
      { Key: 'io:sparta:buildId', Value: inputs.buildTag }
    ],
    changeSetName: inputs.changeSetName || defaultChangeSetName(inputs.stackName, inputs.buildTag),
    description: `oci-stack-deploy build ${inputs.buildTag}`.slice(0, 1024),
    noFailOnEmptyChangeset: inputs.noFailOnEmptyChangeset,
    ...(inputs.roleArn ? { roleArn: inputs.roleArn } : {}),
    ...(inputs.notificationArns.length > 0 ? { notificationArns: inputs.notificationArns } : {}),
    ...(inputs.rollbackAlarms.length > 0
      ? {
          rollbackConfiguration: {
            RollbackTriggers: inputs.rollbackAlarms.map((Arn) => ({
              Arn,
              Type: 'AWS::CloudWatch::Alarm'
            })),
            MonitoringTimeInMinutes: inputs.rollbackMonitoringMinutes
          }
        }
      : {}),
    ...(inputs.deploymentMode ? { deploymentMode: inputs.deploymentMode } : {}),
    ...(inputs.includeNestedStacks ? { includeNestedStacks: true } : {}),
    noEchoParameters: noEchoParameters(inputs.template)
  }
}

/** noop: what would have been pushed and deployed. */
function noopReport(
  ctx: FlowContext,
  preflight: Preflight,
  target: ImageTarget | undefined
): Report {
  const { inputs } = ctx
  const host = ecrRegistryHost({ accountId: preflight.accountId, region: inputs.region })
  const imageUri = target ? formatImageUri(host, target) : ''
  const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
  const url = templateUrl(inputs.bucket, inputs.region, key)
  core.info(
    `noop: would push ${imageUri || 'nothing (zip package)'}, upload the template to ${url} and deploy stack ${inputs.stackName}${preflight.stackStatus ? ` (now ${preflight.stackStatus})` : ' (new)'}; nothing was changed.`
  )
  return {
    ...blankReport('noop', inputs.stackName, ctx.phases.done),
    buildId: inputs.buildTag,
    imageUri,
    templateUrl: url,
    stackStatus: preflight.stackStatus ?? '',
    noChanges: true
  }
}

/** Awaits both promises (neither is left running) and throws the first failure. */
export async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}
