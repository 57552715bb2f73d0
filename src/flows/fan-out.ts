/**
 * Several regions from one run: a context per region (its clients, its bucket, its own phases and
 * an output sink that only the first region writes through), work run in every region side by
 * side with each region's log lines prefixed, the checks' failures gathered into one error, and
 * each region's result.
 */
import { DeployError, errorMessage, InputError, RegionsError } from '../base/errors.js'
import type { DeployContext, FlowContext } from '../artifacts/flow-context.js'
import * as log from '../base/log.js'
import { OutputSink } from '../report/output-sink.js'
import { Phases } from '../base/phases.js'
import { bucketFor } from '../inputs/release.js'
import type { RegionResult, Report } from '../report/model.js'

/** Each region's context, in the order of `regions`; the first is the run's own. */
export function regionContexts(ctx: DeployContext): FlowContext[] {
  const { inputs } = ctx
  const fanOut = inputs.regions.length > 1
  return inputs.regions.map((region, index) => ({
    ...ctx,
    inputs: { ...inputs, region, bucket: bucketFor(inputs.bucket, region) },
    aws: ctx.clients(region),
    // Side by side, each region keeps its own phases; alone, the run's.
    phases: fanOut ? new Phases() : ctx.phases,
    // The step outputs describe the first region; the others report through `deployments`.
    sink: index === 0 ? ctx.sink : new OutputSink(() => undefined)
  }))
}

/**
 * Runs `fn` for every region side by side and waits for all of them: a region that fails does not
 * stop the others. With several regions each one's log lines carry `[<region>] `.
 */
export async function eachRegion<R extends { ctx: FlowContext }, T>(
  regions: R[],
  fn: (region: R) => Promise<T>
): Promise<Array<PromiseSettledResult<T>>> {
  const fanOut = regions.length > 1
  return Promise.allSettled(
    regions.map((r) => (fanOut ? log.inRegion(r.ctx.inputs.region, () => fn(r)) : fn(r)))
  )
}

/**
 * The values of checks run in every region, or one error: a single region's own, or one line per
 * failed region (an InputError when every failure is one).
 */
export function checkedValues<R extends { ctx: FlowContext }, T>(
  regions: R[],
  settled: Array<PromiseSettledResult<T>>
): T[] {
  const failures = settled.flatMap((result, i) =>
    result.status === 'rejected' ? [{ region: regions[i], reason: result.reason as unknown }] : []
  )
  if (failures.length === 0) {
    return settled.map((result) => (result as PromiseFulfilledResult<T>).value)
  }
  if (regions.length === 1) throw failures[0]?.reason
  const lines = failures.map((f) => `[${f.region?.ctx.inputs.region}] ${errorMessage(f.reason)}`)
  const allInput = failures.every((f) => f.reason instanceof InputError)
  throw allInput ? new InputError(lines.join('\n')) : new DeployError(lines.join('\n'))
}

/** Runs the checks in every region and returns their values, or throws as `checkedValues`. */
export async function checkEachRegion<R extends { ctx: FlowContext }, T>(
  regions: R[],
  fn: (region: R) => Promise<T>
): Promise<T[]> {
  return checkedValues(regions, await eachRegion(regions, fn))
}

/** A region's row in `deployments` and the summary, from its report or its failure. */
export function regionResult(
  ctx: FlowContext,
  accountId: string,
  outcome: PromiseSettledResult<Report>
): RegionResult {
  const known = ctx.sink.known()
  const report = outcome.status === 'fulfilled' ? outcome.value : undefined
  return {
    region: ctx.inputs.region,
    accountId,
    stackName: ctx.inputs.stackName,
    stackId: report?.stackId ?? known.stackId ?? '',
    stackStatus: report?.stackStatus ?? errorStatus(outcome),
    imageUri: report?.imageUri ?? known.imageUri ?? '',
    imageUriPinned: report?.imageUriPinned ?? known.imageUriPinned ?? '',
    imageDigest: report?.imageDigest ?? known.imageDigest ?? '',
    outputs: report?.outputs ?? [],
    ...(outcome.status === 'rejected' ? { error: errorMessage(outcome.reason) } : {})
  }
}

/** A failed region's status: the stack's when CloudFormation ran something, else FAILED. */
function errorStatus(outcome: PromiseSettledResult<Report>): string {
  if (outcome.status === 'fulfilled') return ''
  const reason: unknown = outcome.reason
  const status =
    reason !== null && typeof reason === 'object' && 'stackStatus' in reason
      ? reason.stackStatus
      : undefined
  return typeof status === 'string' ? status : 'FAILED'
}

/** The step's error when regions failed: which ones, and why, one line each. */
export function regionsFailure(results: RegionResult[], mode: string): RegionsError | undefined {
  const failed = results.filter((r) => r.error !== undefined)
  if (failed.length === 0) return undefined
  const names = failed.map((r) => r.region)
  const verb = mode === 'review' ? 'The review' : 'The deploy'
  return new RegionsError(
    [
      `${verb} failed in ${failed.length} of ${results.length} regions: ${names.join(', ')}.`,
      ...failed.map((r) => `[${r.region}] ${r.error ?? ''}`)
    ].join('\n'),
    names
  )
}
