/** Every step output and the job summary: what the action tells the workflow and the person. */
import * as log from '../base/log.js'
import { errorMessage, StackOperationError } from '../base/errors.js'
import type { Phases } from '../base/phases.js'
import type { Output } from '@aws-sdk/client-cloudformation'
import type { ResourceChangeRow } from '../aws/cloudformation/types.js'
import type { ParameterChange } from '../rules/stack-rules.js'
import { textCell } from './markdown.js'
import { OutputSink } from './output-sink.js'
import type { CommentContent } from './pr-comment.js'
import {
  appendSummary,
  capSummary,
  failureBlocks,
  MAX_SUMMARY_BYTES,
  qualifiedLogicalId,
  summaryBlocks
} from './summary.js'
import type { FailureReport, Report, RegionResult } from './model.js'
import { setStackSetOutputs } from './stack-set.js'

/** The `deployments` output: per region, its stack, image and outputs (and error, if it failed). */
export function deploymentsJson(results: RegionResult[]): string {
  const deployments: Record<string, unknown> = {}
  for (const r of results) {
    deployments[r.region] = {
      stackId: r.stackId,
      stackStatus: r.stackStatus,
      imageUri: r.imageUri,
      imageUriPinned: r.imageUriPinned,
      imageDigest: r.imageDigest,
      outputs: outputsObject(r.outputs),
      ...(r.error === undefined ? {} : { error: r.error })
    }
  }
  return JSON.stringify(deployments)
}

const FIXED_OUTPUTS = new Set([
  'image-uri',
  'image-digest',
  'build-id',
  'template-url',
  'stack-id',
  'stack-status',
  'change-set-id',
  'outputs',
  'has-changes',
  'changes-count',
  'changes-summary',
  'changes-markdown',
  'image-uri-pinned',
  'archive-key',
  'archive-version',
  'deployments',
  'deployment-config',
  'stack-set-id',
  'operation-id',
  'instances'
])

/** A report with nothing in it yet: each mode fills in what it did. */
export function blankReport(
  mode: NonNullable<Report['mode']>,
  stackName: string,
  phases: Report['phases']
): Report {
  return {
    mode,
    stackName,
    buildId: '',
    imageUri: '',
    imageUriPinned: '',
    imageDigest: '',
    templateUrl: '',
    archiveKey: '',
    archiveVersion: '',
    stackId: '',
    stackStatus: '',
    changeSetId: '',
    noChanges: false,
    executed: false,
    changes: [],
    parameterChanges: [],
    outputs: [],
    phases
  }
}

/** Stack outputs as one JSON object, key → value. */
export function outputsObject(outputs: Output[]): Record<string, string> {
  const result: Record<string, string> = {}
  for (const output of outputs) {
    if (output.OutputKey) result[output.OutputKey] = output.OutputValue ?? ''
  }
  return result
}

/** One resource change as the `changes-summary` output lists it. */
export interface ChangeSummary {
  action: string
  logicalId: string
  type: string
  replacement: string
  /** The nested stack resource the change is in (`Outer/Inner` deeper down). */
  parent?: string
}

/** The change rows without physical ids: what the `changes-summary` JSON holds. */
export function changesSummary(rows: ResourceChangeRow[]): ChangeSummary[] {
  return rows.map((row) => ({
    action: row.action,
    logicalId: row.logicalId,
    type: row.type,
    replacement: row.replacement,
    ...(row.parent === undefined ? {} : { parent: row.parent })
  }))
}

/**
 * The changes as GitHub-flavoured Markdown: a table of resource changes (changes inside nested
 * stacks as `Parent / Child`), then a table of parameter changes when there are any.
 */
export function changesMarkdown(
  rows: ResourceChangeRow[],
  parameterChanges: ParameterChange[] = []
): string {
  const lines: string[] = []
  if (rows.length === 0) {
    lines.push('No resource changes.')
  } else {
    lines.push('| Action | Logical id | Type | Replacement |', '| --- | --- | --- | --- |')
    for (const row of rows) {
      lines.push(
        `| ${textCell(row.action)} | ${textCell(qualifiedLogicalId(row))} | ${textCell(row.type)} | ${textCell(row.replacement)} |`
      )
    }
  }
  if (parameterChanges.length > 0) {
    lines.push('', '| Parameter | Old value | New value |', '| --- | --- | --- |')
    for (const p of parameterChanges) {
      lines.push(
        `| ${textCell(p.key)} | ${p.old === undefined ? '(not set)' : textCell(p.old, '(empty)')} | ${p.new === undefined ? '(removed)' : textCell(p.new, '(empty)')} |`
      )
    }
  }
  return lines.join('\n')
}

/**
 * Sets every step output: the fixed ones and one per stack output key. Through `sink`, outputs
 * already set while the run went on are not written twice.
 */
export function setOutputs(report: Report, sink: OutputSink = new OutputSink()): void {
  const setOutput = (name: string, value: string): void => sink.set(name, value)
  // A delete's image-uri names the image it deleted, and only that one.
  const kept = report.mode === 'delete' && (report.imageCleanup ?? 'deleted') !== 'deleted'
  setOutput('image-uri', kept ? '' : report.imageUri)
  setOutput('image-digest', report.imageDigest)
  setOutput('build-id', report.buildId)
  setOutput('template-url', report.templateUrl)
  setOutput('stack-id', report.stackId)
  setOutput('stack-status', report.stackStatus)
  setOutput('change-set-id', report.changeSetId)
  if (report.imageUriPinned) setOutput('image-uri-pinned', report.imageUriPinned)
  if (report.archiveKey) {
    setOutput('archive-key', report.archiveKey)
    setOutput('archive-version', report.archiveVersion ?? '')
  }
  if (report.changeOutputs) {
    setOutput('has-changes', String(report.changes.length > 0))
    setOutput('changes-count', String(report.changes.length))
    setOutput('changes-summary', JSON.stringify(changesSummary(report.changes)))
    setOutput('changes-markdown', changesMarkdown(report.changes, report.parameterChanges))
  }
  if (report.regions) setOutput('deployments', deploymentsJson(report.regions))
  if (report.express !== undefined) {
    setOutput('deployment-config', report.express ? 'EXPRESS' : 'STANDARD')
  }
  if (report.stackSet) setStackSetOutputs(report.stackSet, setOutput)
  const outputs = outputsObject(report.outputs)
  setOutput('outputs', JSON.stringify(outputs))
  for (const [key, value] of Object.entries(outputs)) {
    if (FIXED_OUTPUTS.has(key)) {
      log.warning(
        `Stack output '${key}' has the name of one of the action's outputs; read it from 'outputs' instead.`
      )
      continue
    }
    setOutput(key, value)
  }
}

/** Where and how large a summary is written; tests pass their own. */
export interface SummaryOptions {
  /** The environment that names GITHUB_STEP_SUMMARY (process.env). */
  env?: NodeJS.ProcessEnv
  /** Bytes the summary may take (MAX_SUMMARY_BYTES). */
  limitBytes?: number
}

/**
 * Writes the job summary: image, stack, changes, outputs, time per phase. Never throws: a summary
 * that cannot be written is a warning, and one over the limit loses its largest tables first.
 * Resolves true when the summary was written.
 */
export async function writeSummary(report: Report, options: SummaryOptions = {}): Promise<boolean> {
  return writeBlocks(() => summaryBlocks(report), options)
}

/**
 * Writes the summary of a failed run: the phase that failed, the error, the failing resources,
 * the stack's status now, what was already done and what to do next. Never throws.
 */
export async function writeFailureSummary(
  failure: FailureReport,
  options: SummaryOptions = {}
): Promise<boolean> {
  return writeBlocks(() => failureBlocks(failure), options)
}

/** What `reportFailure` knows about the run that failed. */
export interface FailedRun {
  mode: NonNullable<Report['mode']>
  stackName: string
  phases: Phases
  sink: OutputSink
  /** Reads the stack's status now (DOES_NOT_EXIST when there is none); absent: not read. */
  readStackStatus?: () => Promise<string>
}

/**
 * After a failure that left something behind (an image pushed, a template uploaded, a stack
 * touched): writes the failure summary (the phase that failed, the failed resources, the stack
 * now, what was done, what to do next). A run refused before any write leaves no summary: its
 * error alone says what to fix. Never throws: the step already fails with the error itself.
 */
export async function reportFailure(
  error: unknown,
  run: FailedRun,
  options: SummaryOptions = {}
): Promise<boolean> {
  const known = run.sink.known()
  if (Object.keys(known).length === 0 && !(error instanceof StackOperationError)) return false
  let stackStatus: string | undefined
  if (error instanceof StackOperationError) stackStatus = error.stackStatus
  else if (run.readStackStatus) {
    try {
      stackStatus = await run.readStackStatus()
    } catch (readError) {
      log.warning(`Could not read the stack's status for the summary: ${errorMessage(readError)}`)
    }
  }
  return writeFailureSummary(
    {
      mode: run.mode,
      stackName: run.stackName,
      phase: run.phases.failedPhase(),
      error: errorMessage(error),
      ...(stackStatus === undefined ? {} : { stackStatus }),
      ...(error instanceof StackOperationError ? { failedResources: error.failedResources } : {}),
      known,
      phases: run.phases.done
    },
    options
  )
}

async function writeBlocks(
  render: () => ReturnType<typeof summaryBlocks>,
  options: SummaryOptions
): Promise<boolean> {
  let html: string
  try {
    html = capSummary(render(), options.limitBytes ?? MAX_SUMMARY_BYTES)
  } catch (error) {
    log.warning(
      `Could not render the job summary: ${errorMessage(error)}. The deploy itself is not affected.`
    )
    return false
  }
  return appendSummary(html, options.env)
}

/** What the sticky pull-request comment shows for a finished run. */
export function commentContent(report: Report): CommentContent {
  const state: CommentContent['state'] =
    report.mode === 'delete'
      ? 'deleted'
      : report.noChanges
        ? 'no-changes'
        : report.executed === false
          ? 'review'
          : 'deployed'
  return {
    stackName: report.stackName,
    state,
    stackStatus: report.stackStatus,
    ...(report.imageUri ? { imageUri: report.imageUri } : {}),
    ...(report.imageDigest ? { imageDigest: report.imageDigest } : {}),
    outputs: outputsObject(report.outputs),
    ...(state === 'review'
      ? { changesMarkdown: changesMarkdown(report.changes, report.parameterChanges) }
      : {}),
    ...(report.buildId ? { buildId: report.buildId } : {})
  }
}
