/**
 * flows/: the modes as sequences of phases: deploy/review/noop (preflight, per region, fan-out),
 * and the stack-only modes (delete, execute).
 * May import: artifacts/, inputs/, report/, registry/, docker/, aws/, template/, rules/, base/.
 *
 * The deploy-like modes (deploy, review, noop) for an image or a zip package, in one region or
 * several: every check that can fail runs in every region before the first write in any of them;
 * then each region publishes and deploys side by side.
 *
 *   preflight.ts                    the reads before any write, per region (fan-out.ts runs
 *                                   them everywhere)
 *   region-deploy.ts                one region's writes: artifact ∥ template upload, change set,
 *                                   execute
 *   ../artifacts/image-delivery.ts  the build or the given 'image', checked once; each region's
 *                                   repository; then the push (first region) or a copy (the
 *                                   others, or from 'image')
 *   ../artifacts/zip.ts             upload the package
 *   ../artifacts/artifact.ts        the artifact as a tagged union, and what each kind fills in
 */
import { artifactKind, settleBoth, type ArtifactKind } from '../artifacts/artifact.js'
import type { DeployContext, FlowContext } from '../artifacts/flow-context.js'
import {
  checkEachRegion,
  eachRegion,
  regionContexts,
  regionResult,
  regionsFailure
} from './fan-out.js'
import {
  prepareImage,
  repositoryMissing,
  type ImagePlan,
  type PlannedRegion,
  type PreparedImage
} from '../artifacts/image-delivery.js'
import { ecrRegistryHost, formatImageUri } from '../rules/image-ref.js'
import { expressWarnings } from '../rules/stack-rules.js'
import * as log from '../base/log.js'
import type { Preflight } from '../artifacts/flow-context.js'
import { checkEngine, runPreflight } from './preflight.js'
import { checkImageProtection, type RegionProtection } from './image-protection.js'
import { deployRegion } from './region-deploy.js'
import { blankReport, deploymentsJson } from '../report/report.js'
import type { RegionResult, Report } from '../report/model.js'
import { templateKey, templateUrl } from '../aws/s3.js'

/** Runs deploy, review or noop in every region; returns what the report shows. */
export async function runDeployFlow(ctx: DeployContext): Promise<Report> {
  const { inputs } = ctx
  logTemplateNotes(inputs)
  const kind = artifactKind(inputs)
  const regions = await ctx.phases.run('Preflight checks', () =>
    preflightEveryRegion(ctx, regionContexts(ctx), kind)
  )
  const home = regions[0] as PlannedRegion
  const prepared = kind === 'image' ? await prepareImage(ctx, home) : undefined
  if (inputs.mode === 'noop') return noopReport(ctx, regions, prepared)
  const plan = prepared && (await planRepositories(prepared, regions))
  return deployEveryRegion(ctx, regions, plan)
}

/** What reading the template noticed, and why every capability was acknowledged, if it was. */
function logTemplateNotes(inputs: DeployContext['inputs']): void {
  for (const warning of inputs.template.warnings) log.warning(warning)
  for (const reason of inputs.capabilityReasons) log.info(reason)
  if (!inputs.express) return
  log.info(
    'express: the change set is created in CloudFormation express mode; the step ends once each resource is configured, before it has stabilised.'
  )
  const types = Object.values(inputs.template.resources).map((r) => r.Type)
  for (const warning of expressWarnings(types, inputs.disableRollback)) log.warning(warning)
}

/** The engine (a build needs it once), then every region's reads side by side. */
async function preflightEveryRegion(
  ctx: DeployContext,
  contexts: FlowContext[],
  kind: ArtifactKind
): Promise<PlannedRegion[]> {
  // The engine check and the AWS reads need nothing from each other: side by side. A missing
  // engine is still the error reported first.
  const engine =
    kind === 'image' && ctx.inputs.image === undefined ? checkEngine(ctx) : Promise.resolve()
  const reads = checkEachRegion(
    contexts.map((c) => ({ ctx: c })),
    (r) => runPreflight(r.ctx, kind)
  )
  const [, preflights] = await settleBoth(engine, reads)
  return contexts.map((c, i) => ({ ctx: c, preflight: preflights[i] as Preflight, home: i === 0 }))
}

/** The image plan and what each region's repository needs to keep the stack's images. */
type ProtectedPlan = ImagePlan & { protection: Map<string, RegionProtection | undefined> }

/**
 * Every region's repository looked up, and its lifecycle policy checked (reads): the last checks
 * before the first write.
 */
async function planRepositories(
  prepared: PreparedImage,
  regions: PlannedRegion[]
): Promise<ProtectedPlan> {
  const missing = await checkEachRegion(regions, (r) => repositoryMissing(prepared, r))
  const create = new Set(regions.filter((_, i) => missing[i]).map((r) => r.ctx.inputs.region))
  const protections = await checkEachRegion(regions, (r) =>
    checkImageProtection(prepared, r, missing[regions.indexOf(r)] === true)
  )
  return {
    ...prepared,
    create,
    protection: new Map(regions.map((r, i) => [r.ctx.inputs.region, protections[i]]))
  }
}

/**
 * Every region publishes and deploys side by side; one that fails does not stop the others. One
 * region fails the run with its own error; several report each region's result, and the step
 * fails afterwards (main.ts) when any of them failed.
 */
async function deployEveryRegion(
  ctx: DeployContext,
  regions: PlannedRegion[],
  plan: ProtectedPlan | undefined
): Promise<Report> {
  const run = () =>
    eachRegion(regions, (r) => deployRegion(r, plan, plan?.protection.get(r.ctx.inputs.region)))
  const settled =
    regions.length > 1
      ? await ctx.phases.run(`Deploy to ${regions.length} regions`, run)
      : await run()
  const results = regions.map((r, i) =>
    regionResult(r.ctx, r.preflight.accountId, settled[i] as PromiseSettledResult<Report>)
  )
  // Written however the regions ended: a failed run still says what each region did.
  ctx.sink.set('deployments', deploymentsJson(results))
  const first = settled[0] as PromiseSettledResult<Report>
  if (regions.length === 1 && first.status === 'rejected') throw first.reason
  const report = first.status === 'fulfilled' ? first.value : failedFirstRegion(ctx, results)
  return { ...report, phases: ctx.phases.done, regions: results }
}

/** The report when the first region failed and others went on: its row, as far as it got. */
function failedFirstRegion(ctx: DeployContext, results: RegionResult[]): Report {
  const [first] = results
  return {
    ...blankReport(ctx.inputs.mode, ctx.inputs.stackName, ctx.phases.done),
    buildId: ctx.inputs.buildTag,
    imageUri: first?.imageUri ?? '',
    imageUriPinned: first?.imageUriPinned ?? '',
    imageDigest: first?.imageDigest ?? '',
    stackId: first?.stackId ?? '',
    stackStatus: first?.stackStatus ?? ''
  }
}

/** The step's error when regions failed (undefined when none did, or for a single region). */
export function failedRegions(report: Report) {
  return report.regions && report.regions.length > 1
    ? regionsFailure(report.regions, report.mode ?? 'deploy')
    : undefined
}

/** noop: what would have been pushed or copied and deployed, region by region. */
async function noopReport(
  ctx: DeployContext,
  regions: PlannedRegion[],
  prepared: PreparedImage | undefined
): Promise<Report> {
  const lines = await eachRegion(regions, (r) => Promise.resolve(noopLine(r, prepared)))
  const first = lines[0]
  const home = regions[0] as PlannedRegion
  return {
    ...blankReport('noop', ctx.inputs.stackName, ctx.phases.done),
    buildId: ctx.inputs.buildTag,
    imageUri: first?.status === 'fulfilled' ? first.value.imageUri : '',
    templateUrl: first?.status === 'fulfilled' ? first.value.url : '',
    stackStatus: home.preflight.stackStatus ?? '',
    noChanges: true
  }
}

/** Logs what noop would have done in one region. */
function noopLine(
  region: PlannedRegion,
  prepared: PreparedImage | undefined
): { imageUri: string; url: string } {
  const { inputs } = region.ctx
  const { preflight } = region
  const host = ecrRegistryHost({ accountId: preflight.accountId, region: inputs.region })
  const imageUri = prepared
    ? formatImageUri(host, { repository: prepared.repository, tag: prepared.tag })
    : ''
  const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
  const url = templateUrl(inputs.bucket, inputs.region, key)
  const verb = prepared?.kind === 'built' && region.home ? 'push' : 'copy the image to'
  log.info(
    `noop: would ${imageUri ? `${verb} ${imageUri}` : 'push nothing (zip package)'}, upload the template to ${url} and deploy stack ${inputs.stackName}${preflight.stackStatus ? ` (now ${preflight.stackStatus})` : ' (new)'}; nothing was changed.`
  )
  return { imageUri, url }
}
