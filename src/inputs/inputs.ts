/**
 * The action's inputs: one typed `Inputs`, read here and nowhere else, checked by one reader per
 * group of inputs (`build.ts`, `stack.ts`, `template.ts`, `cloudformation.ts`, `release.ts`).
 * Every check that can run without docker or AWS runs before any side effect.
 */
import { readArtifact, readBuild, readBuildCache, readBuildId, readImageTags } from './build.js'
import {
  readChangeSetName,
  readDeploymentMode,
  readNotificationArns,
  readRollbackAlarms,
  readRollbackMonitoringMinutes,
  readTags
} from './cloudformation.js'
import type { BuildCacheMode } from '../docker/builder.js'
import { InputError } from '../base/errors.js'
import { shown } from '../base/untrusted.js'
import { checkInputText, flag, list, text } from './text.js'
import type { KeyValue } from '../rules/parse.js'
import type { EcrImage } from '../rules/image-ref.js'
import {
  bucketFor,
  checkRegionalBucket,
  readImage,
  readRegions,
  readRepository
} from './release.js'
import {
  readHttpProxy,
  readRegion,
  readRoleArn,
  readStackName,
  readTimeout,
  requireStackName
} from './stack.js'
import type { Template } from '../template/template.js'
import {
  checkBucketName,
  readImageParameter,
  readTemplateInputs,
  readTemplatePath,
  requireBucket
} from './template.js'
import { readRawInputs, type RawInputs } from './raw.js'
import { readStackSet } from './stack-set.js'
import type { StackSetSettings } from '../rules/stack-set.js'
import { workspaceRoot } from './workspace-files.js'

/** Everything the deploy needs, checked. Paths are absolute. */
export interface Inputs {
  /** The Dockerfile (Sparta: dockerFile). */
  dockerfile: string
  /** Build context; defaults to the Dockerfile's directory, as Sparta does. */
  context: string
  /** Path handed to the build as `SPARTA_BINARY`, relative to the context ('' when not given). */
  binary: string
  /** The reserved label naming the ECR repository (`io.sparta.ecr-name`). */
  labelName: string
  /** The build id as given (`build-id`, else `GITHUB_SHA`). */
  buildId: string
  /** The build id as a docker tag (see `sanitizeBuildId`); used for tags, keys and names. */
  buildTag: string
  /** Extra `--build-arg` pairs, in input order. */
  buildArgs: KeyValue[]
  /** `--platform` for the build ('' = the engine's default). */
  platform: string
  /** `--target` build stage ('' = the last stage). */
  target: string
  /**
   * S3 bucket the template is uploaded to, as given: `{region}` in it stands for each region's
   * name (see `bucketFor`).
   */
  bucket: string
  stackName: string
  /** The parsed template. */
  template: Template
  /** Template parameter that receives the image URI (Sparta: `CodeImageURI`). */
  imageParameter: string
  /** Values for declared template parameters, by name. */
  parameterOverrides: Map<string, string>
  /** Capabilities passed to CloudFormation (given, or detected from the template). */
  capabilities: string[]
  /** Why detection acknowledged every capability (nested stack, macro, …); [] when given. */
  capabilityReasons: string[]
  /** Stack tags, without the `io:sparta:buildId` tag the action adds. */
  tags: KeyValue[]
  /** The region of the run: the first of `regions`, where an image is built and pushed. */
  region: string
  /**
   * The regions deployed, in order (input `regions`, else just `region`): one build (or `image`),
   * copied from the first region to the others.
   */
  regions: string[]
  /**
   * An image already in ECR to deploy instead of a build (input `image`); undefined: build the
   * Dockerfile, or upload the zip package.
   */
  image: EcrImage | undefined
  /** Where a promoted `image` goes in each region (default: its own repository name); '' without. */
  repository: string
  /** Create the ECR repository when it does not exist. */
  createRepository: boolean
  /**
   * Tag the deployed and the rollback digest (`<stack>--live`, `<stack>--previous`) and keep them
   * with a lifecycle rule added above the repository's own; false: only check the policy.
   */
  protectImages: boolean
  /** A lifecycle rule that can expire or archive a needed image fails the run before any write. */
  failOnExpirableImage: boolean
  /** Treat a change set with no changes as success. */
  noFailOnEmptyChangeset: boolean
  /** Limit for waiting on a stack operation, in minutes. */
  timeoutMinutes: number
  /** deploy: execute the change set; review: create it only; noop: build and check, change nothing. */
  mode: 'deploy' | 'review' | 'noop'
  /** Zip package to upload instead of building an image ('' = image mode). */
  codeArchive: string
  /** Template parameters receiving the archive's S3 key and object version (zip mode). */
  archiveKeyParameter: string
  archiveVersionParameter: string
  /** Extra tags pushed for the same digest (e.g. the release version). */
  imageTags: string[]
  /** Hand the template the digest-pinned URI (`repo@sha256:…`) instead of the tag. */
  pinDigest: boolean
  /** Registry images used as build cache (`--cache-from`). */
  cacheFrom: string[]
  /** `build-cache`: the cache kept between runs on BuildKit (auto, registry, inline, off). */
  buildCache: BuildCacheMode
  /** CloudFormation deploy options, as aws-cloudformation-github-deploy offers them. */
  changeSetName: string
  roleArn: string
  notificationArns: string[]
  terminationProtection: boolean
  disableRollback: boolean
  rollbackAlarms: string[]
  rollbackMonitoringMinutes: number
  deploymentMode: '' | 'REVERT_DRIFT'
  includeNestedStacks: boolean
  /**
   * `express`: create the change set with `DeploymentConfig.Mode = EXPRESS` (CloudFormation ends
   * the operation once each resource's API call succeeded, without waiting for it to stabilise).
   */
  express: boolean
  /** Proxy for every AWS call ('' = HTTPS_PROXY/NO_PROXY from the environment). */
  httpProxy: string
  /** Token for the pull-request comment ('' = no comment). */
  githubToken: string
  /** Post or update the sticky comment on pull requests. */
  prComment: boolean
  /**
   * `stack-set-name` given: deploy through a CloudFormation stack set (`stackName` is then the
   * stack set's name, `regions` its regions, the first one where it lives).
   */
  stackSet?: StackSetSettings
}

/** Inputs of the modes that act on an existing stack only. */
export interface StackOnlyInputs {
  /** delete: remove the stack (preview clean-up); execute: run a change set made earlier in review mode. */
  mode: 'delete' | 'execute'
  stackName: string
  region: string
  timeoutMinutes: number
  /** execute: the change set's ARN or name. */
  changeSet: string
  /** delete: also delete the image tag the stack's image parameter names. */
  deleteImage: boolean
  imageParameter: string
  terminationProtection: boolean
  disableRollback: boolean
  /** delete: the role CloudFormation assumes to delete the stack ('' = the stack's own). */
  roleArn: string
  httpProxy: string
  githubToken: string
  prComment: boolean
  /** mode delete with `stack-set-name`: delete the stack set's instances, then the stack set. */
  stackSet?: StackSetSettings
}

/** What `getInputs` returns: a deploy-like mode, or a stack-only one. */
export type ActionInputs = Inputs | StackOnlyInputs

const MODES = ['deploy', 'review', 'noop', 'delete'] as const

/** Reads every input through `@actions/core` and checks it. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const raw = readRawInputs()
  checkInputText(raw)
  const mode = modeOf(raw)
  return mode === 'delete' || mode === 'execute'
    ? parseStackOnlyInputs(raw, env, mode)
    : parseInputs(raw, env)
}

/** The mode asked for: the `mode` input, or `execute` when `execute-change-set` is given. */
export function modeOf(raw: RawInputs): Inputs['mode'] | StackOnlyInputs['mode'] {
  const mode = text(raw, 'mode') || 'deploy'
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new InputError(`Input 'mode' must be one of ${MODES.join(', ')}, got '${shown(mode)}'.`)
  }
  if (text(raw, 'execute-change-set') !== '') {
    if (mode !== 'deploy') {
      throw new InputError(
        `Input 'execute-change-set' runs a change set made earlier and cannot be combined with mode '${mode}': remove one of them.`
      )
    }
    return 'execute'
  }
  return mode as Inputs['mode'] | 'delete'
}

/** Inputs of `mode: delete` and of `execute-change-set`: only the stack is needed. */
export function parseStackOnlyInputs(
  raw: RawInputs,
  env: NodeJS.ProcessEnv,
  mode: StackOnlyInputs['mode']
): StackOnlyInputs {
  checkInputText(raw)
  if (mode === 'delete' && text(raw, 'stack-set-name') !== '') {
    return parseStackSetDeleteInputs(raw, env)
  }
  if (text(raw, 'regions') !== '') {
    throw new InputError(
      `${mode === 'delete' ? "Mode 'delete'" : "Input 'execute-change-set'"} acts on one stack in one region, and 'regions' lists several: run one step per region (a job matrix over the regions) with 'region' set.`
    )
  }
  return {
    mode,
    stackName: readStackName(raw),
    region: readRegion(raw, env),
    timeoutMinutes: readTimeout(raw),
    changeSet: text(raw, 'execute-change-set'),
    deleteImage: flag(raw, 'delete-image', false),
    imageParameter: readImageParameter(raw),
    terminationProtection: flag(raw, 'termination-protection', false),
    disableRollback: flag(raw, 'disable-rollback', false),
    roleArn: readRoleArn(raw),
    httpProxy: readHttpProxy(raw),
    githubToken: text(raw, 'github-token'),
    prComment: flag(raw, 'pr-comment', true)
  }
}

/** mode delete with `stack-set-name`: the stack set lives in the first of `regions` (or `region`). */
function parseStackSetDeleteInputs(raw: RawInputs, env: NodeJS.ProcessEnv): StackOnlyInputs {
  const { region, regions } = readRegions(raw, env)
  const stackSet = readStackSet(raw, regions) as StackSetSettings
  return {
    mode: 'delete',
    stackName: stackSet.name,
    region,
    timeoutMinutes: readTimeout(raw),
    changeSet: '',
    deleteImage: false,
    imageParameter: readImageParameter(raw),
    terminationProtection: false,
    disableRollback: false,
    roleArn: '',
    httpProxy: readHttpProxy(raw),
    githubToken: text(raw, 'github-token'),
    prComment: flag(raw, 'pr-comment', true),
    stackSet
  }
}

/**
 * Checks raw input text of the deploy-like modes; pure apart from reading the named files. The
 * readers run in this order, so with several bad inputs the first one here is reported.
 */
export function parseInputs(raw: RawInputs, env: NodeJS.ProcessEnv): Inputs {
  checkInputText(raw)
  const mode = modeOf(raw)
  if (mode === 'delete' || mode === 'execute') {
    throw new InputError(`Mode '${mode}' takes only the stack inputs; this is a bug in the action.`)
  }
  const workspace = workspaceRoot(env)
  const image = readImage(raw)
  const artifact = readArtifact(raw, workspace, image !== undefined)
  const bucket = requireBucket(raw)
  if (text(raw, 'stack-set-name') === '') requireStackName(raw)
  const { region, regions } = readRegions(raw, env)
  const stackSet = readStackSet(raw, regions)
  const templatePath = readTemplatePath(raw, workspace)
  const build = readBuild(raw, workspace, artifact.dockerfile)
  const buildId = readBuildId(raw, env)
  const stackName = stackSet ? stackSet.name : readStackName(raw)
  // A stack set reads its template from the bucket of the region it lives in: one bucket.
  if (stackSet === undefined) checkRegionalBucket(bucket, regions)
  for (const r of regions) checkBucketName(bucketFor(bucket, r))
  const zip = artifact.codeArchive !== ''
  return {
    mode,
    image,
    repository: readRepository(raw, image),
    regions,
    ...artifact,
    ...build,
    ...buildId,
    platform: text(raw, 'platform'),
    target: text(raw, 'target'),
    bucket,
    stackName,
    region,
    ...readTemplateInputs(raw, workspace, templatePath, zip, stackSet !== undefined),
    tags: readTags(raw),
    timeoutMinutes: readTimeout(raw),
    imageTags: readImageTags(raw),
    changeSetName: readChangeSetName(raw),
    roleArn: readRoleArn(raw),
    notificationArns: readNotificationArns(raw),
    rollbackAlarms: readRollbackAlarms(raw),
    rollbackMonitoringMinutes: readRollbackMonitoringMinutes(raw),
    deploymentMode: readDeploymentMode(raw),
    createRepository: flag(raw, 'create-repository', false),
    protectImages: flag(raw, 'protect-images', false),
    failOnExpirableImage: flag(raw, 'fail-on-expirable-image', false),
    noFailOnEmptyChangeset: flag(raw, 'no-fail-on-empty-changeset', true),
    pinDigest: flag(raw, 'pin-digest', true),
    cacheFrom: list(raw, 'cache-from'),
    buildCache: readBuildCache(raw),
    terminationProtection: flag(raw, 'termination-protection', false),
    disableRollback: flag(raw, 'disable-rollback', false),
    includeNestedStacks: flag(raw, 'include-nested-stacks', false),
    express: flag(raw, 'express', false),
    httpProxy: readHttpProxy(raw),
    githubToken: text(raw, 'github-token'),
    prComment: flag(raw, 'pr-comment', true),
    ...(stackSet ? { stackSet } : {})
  }
}

/** True for the modes that need only the stack (`delete`, `execute`). */
export function isStackOnly(inputs: ActionInputs): inputs is StackOnlyInputs {
  return inputs.mode === 'delete' || inputs.mode === 'execute'
}
