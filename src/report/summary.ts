/**
 * The job summary: what a finished run (or a failed one) shows on the workflow run's page. Pure
 * rendering into well-formed HTML blocks, a cap below GitHub's size limit, and a writer that
 * never fails the step: the summary is a report on the deploy, not part of it.
 */
import * as log from '../base/log.js'
import { appendFile } from 'node:fs/promises'
import { errorMessage } from '../base/errors.js'
import { escapeHtml, htmlCode, htmlLinkOrCode, htmlTable, htmlWithCode } from './markdown.js'
import type { FailureReport, Report } from './model.js'
import { isFailedState, recoveryHint } from '../rules/stack-rules.js'
import { deletedImageRecovery } from '../rules/image-recovery.js'
import { stackSetHeading, stackSetHtml } from './stack-set.js'

/** GitHub refuses a step summary over 1 MiB; stay clearly below it. */
export const MAX_SUMMARY_BYTES = 1_000_000

/**
 * One piece of the summary. A block with `drop` is a table the cap may leave out (largest
 * first), replaced by a line saying so.
 */
export interface SummaryBlock {
  html: string
  drop?: { what: string; rows: number }
}

/** A row's logical id with its nested stack path: `Network / Subnet`. */
export function qualifiedLogicalId(row: { logicalId: string; parent?: string }): string {
  return row.parent === undefined
    ? row.logicalId
    : [...row.parent.split('/'), row.logicalId].join(' / ')
}

/** The summary's first line: what happened, in the mode's words. */
export function summaryHeading(report: Report): string {
  if (report.stackSet) return stackSetHeading(report, report.stackSet)
  switch (report.mode) {
    case 'noop':
      return `Noop for ${report.stackName}: built and checked, nothing pushed or deployed`
    case 'delete':
      return report.stackStatus === 'DOES_NOT_EXIST'
        ? `Stack ${report.stackName} did not exist: nothing to delete`
        : `Deleted ${report.stackName}: ${report.stackStatus}`
    default:
      if (report.regions !== undefined && report.regions.length > 1) return regionsHeading(report)
      if (report.executed === false && !report.noChanges) {
        return `Change set for ${report.stackName}: ready, not executed`
      }
      return `Deployed ${report.stackName}: ${report.noChanges ? 'no changes' : report.stackStatus}`
  }
}

/** A fan-out's first line: how many regions ended well. */
function regionsHeading(report: Report): string {
  const regions = report.regions ?? []
  const failed = regions.filter((r) => r.error !== undefined).length
  const what = report.mode === 'review' ? 'Change sets for' : 'Deployed'
  const outcome = failed === 0 ? 'all succeeded' : `${failed} failed`
  return `${what} ${report.stackName} in ${regions.length} regions: ${outcome}`
}

/** A fan-out's result: one row per region, in the order of `regions`. */
function regionsBlocks(report: Report): SummaryBlock[] {
  const regions = report.regions ?? []
  if (regions.length < 2) return []
  return [
    heading(3, 'Regions'),
    table(
      ['Region', 'Account', 'Stack', 'Status', 'Digest', 'Error'],
      regions.map((r) => [
        escapeHtml(r.region),
        escapeHtml(r.accountId),
        htmlCode(r.stackId || r.stackName),
        escapeHtml(r.stackStatus || '-'),
        r.imageDigest ? htmlCode(r.imageDigest) : '-',
        r.error === undefined ? '-' : escapeHtml(r.error)
      ])
    )
  ]
}

const heading = (level: 2 | 3, text: string): SummaryBlock => ({
  html: `<h${level}>${escapeHtml(text)}</h${level}>\n`
})
const paragraph = (html: string): SummaryBlock => ({ html: `<p>${html}</p>\n` })
const table = (header: string[], rows: string[][], what?: string): SummaryBlock => ({
  html: `${htmlTable(header, rows)}\n`,
  ...(what === undefined ? {} : { drop: { what, rows: rows.length } })
})

/** Item/value rows, leaving out the items that have no value (a delete has no template). */
type Item = readonly [name: string, value: string | undefined, render: (value: string) => string]

function itemTable(items: readonly Item[]): SummaryBlock {
  const rows: string[][] = []
  for (const [name, value, render] of items) {
    if (value) rows.push([escapeHtml(name), render(value)])
  }
  return table(['Item', 'Value'], rows)
}

/** What the summary says of an express deploy. */
const EXPRESS_NOTE =
  'CloudFormation express mode: resources may still be stabilizing after the step ended'

/** The summary of a finished run, as blocks: image and stack, changes, outputs, time per phase. */
export function summaryBlocks(report: Report): SummaryBlock[] {
  if (report.stackSet) return stackSetBlocks(report, report.stackSet)
  if (report.mode === 'delete') return deleteBlocks(report)
  const blocks: SummaryBlock[] = [heading(2, summaryHeading(report))]
  blocks.push(
    itemTable([
      ...(report.archiveKey
        ? [
            ['Package', report.archiveKey, htmlCode] as const,
            ['Package version', report.archiveVersion || '-', htmlCode] as const
          ]
        : [
            ['Image', report.imageUri, htmlCode] as const,
            ['Digest', report.imageDigest, htmlCode] as const
          ]),
      ['Build id', report.buildId, htmlCode],
      ['Stack', report.stackId || report.stackName, htmlCode],
      ['Status', report.stackStatus || (report.mode === 'noop' ? 'new stack' : ''), escapeHtml],
      ['Template', report.templateUrl, htmlLinkOrCode],
      ['Deployment', report.express ? EXPRESS_NOTE : undefined, escapeHtml]
    ])
  )
  blocks.push(...regionsBlocks(report))
  blocks.push(heading(3, 'Changes'))
  if (report.mode === 'noop') {
    blocks.push(paragraph('Not computed: noop builds and checks, it makes no change set.'))
  } else if (report.changes.length === 0) {
    blocks.push(paragraph(report.noChanges ? 'None: the stack already matched.' : 'None reported.'))
  } else {
    blocks.push(
      table(
        ['Action', 'Logical id', 'Type', 'Replacement'],
        report.changes.map((c) =>
          [c.action, qualifiedLogicalId(c), c.type, c.replacement || '-'].map(escapeHtml)
        ),
        'changes'
      )
    )
  }
  if (report.parameterChanges && report.parameterChanges.length > 0) {
    blocks.push(
      heading(3, 'Parameter changes'),
      table(
        ['Parameter', 'Old value', 'New value'],
        report.parameterChanges.map((p) => [
          escapeHtml(p.key),
          p.old === undefined ? '<em>not set</em>' : htmlCode(p.old),
          p.new === undefined ? '<em>removed</em>' : htmlCode(p.new)
        ]),
        'parameter changes'
      )
    )
  }
  if (report.mode !== 'noop') blocks.push(...outputBlocks(report))
  blocks.push(...timeBlocks(report.phases))
  return blocks
}

function outputBlocks(report: Report): SummaryBlock[] {
  if (report.outputs.length === 0) {
    return [heading(3, 'Stack outputs'), paragraph('The stack has no outputs.')]
  }
  return [
    heading(3, 'Stack outputs'),
    table(
      ['Key', 'Value', 'Description'],
      report.outputs.map((o) => [
        escapeHtml(o.OutputKey ?? ''),
        htmlLinkOrCode(o.OutputValue ?? ''),
        escapeHtml(o.Description ?? '')
      ]),
      'stack outputs'
    )
  ]
}

function timeBlocks(phases: Report['phases']): SummaryBlock[] {
  if (phases.length === 0) return []
  const total = phases.reduce((sum, p) => sum + p.seconds, 0)
  return [
    heading(3, 'Time'),
    table(
      ['Phase', 'Seconds'],
      [
        ...phases.map((p) => [escapeHtml(p.name), p.seconds.toFixed(1)]),
        ['Total', total.toFixed(1)]
      ]
    )
  ]
}

/** What happened to the stack's image: the answer to "was it deleted?", never a blank. */
export function imageCleanupText(report: Report): string {
  // Flows that predate `imageCleanup` set `imageUri` only when they deleted the image.
  const cleanup = report.imageCleanup ?? (report.imageUri ? 'deleted' : 'kept')
  const uri = report.imageUri ? ` ${htmlCode(report.imageUri)}` : ''
  switch (cleanup) {
    case 'deleted':
      return `deleted from ECR:${uri}`
    case 'not-found':
      return `not found in ECR (already deleted?):${uri}`
    case 'kept':
      return `kept${uri}${report.imageUri ? '' : ' (delete-image is off, or the stack named no image of this region)'}`
  }
}

/** A stack set run: the image, the operations, one row per account and region. */
function stackSetBlocks(report: Report, result: NonNullable<Report['stackSet']>): SummaryBlock[] {
  return [
    heading(2, summaryHeading(report)),
    itemTable([
      ['Image', report.imageUriPinned || report.imageUri, htmlCode],
      ['Digest', report.imageDigest, htmlCode],
      ['Template', report.templateUrl, htmlLinkOrCode],
      ['Error', result.error, escapeHtml]
    ]),
    { html: stackSetHtml(result), drop: { what: 'instances', rows: result.instances.length } },
    ...timeBlocks(report.phases)
  ]
}

/** A delete shows what it did: the stack, how it ended, what happened to the image. */
function deleteBlocks(report: Report): SummaryBlock[] {
  return [
    heading(2, summaryHeading(report)),
    itemTable([
      ['Stack', report.stackName, htmlCode],
      ['Stack id', report.stackId, htmlCode],
      ['Final status', report.stackStatus, escapeHtml],
      ['Image', imageCleanupText(report), (html) => html]
    ]),
    ...timeBlocks(report.phases)
  ]
}

/** What to do after a failure: the flow's own advice, else what the stack's status calls for. */
export function failureNextSteps(failure: FailureReport): string[] {
  if (failure.nextSteps && failure.nextSteps.length > 0) return failure.nextSteps
  const status = failure.stackStatus ?? ''
  const steps = deletedImageRecovery(failure.stackName, status, failure.failedResources ?? [])
  if (isFailedState(status) && !(status === 'UPDATE_ROLLBACK_FAILED' && steps.length > 0))
    steps.push(recoveryHint(status).replace(/<stack>/g, failure.stackName))
  steps.push('Fix the cause named above and run the workflow again.')
  return steps
}

function failureVerb(mode: Report['mode']): string {
  switch (mode) {
    case 'delete':
      return 'Delete of'
    case 'execute':
      return 'Change set execution for'
    case 'review':
      return 'Review of'
    case 'noop':
      return 'Noop for'
    default:
      return 'Deploy of'
  }
}

/** The summary of a failed run, as blocks: where it failed, why, the stack now, what is done. */
export function failureBlocks(failure: FailureReport): SummaryBlock[] {
  const known = failure.known ?? {}
  const blocks: SummaryBlock[] = [
    heading(2, `${failureVerb(failure.mode)} ${failure.stackName} failed: ${failure.phase}`),
    itemTable([
      ['Failed phase', failure.phase, escapeHtml],
      ['Stack status now', failure.stackStatus ?? 'unknown (could not be read)', escapeHtml]
    ]),
    { html: `<pre><code>${escapeHtml(failure.error.trim() || 'No error message.')}</code></pre>\n` }
  ]
  const failed = failure.failedResources ?? []
  if (failed.length > 0) {
    blocks.push(
      heading(3, 'Failed resources'),
      table(
        ['Logical id', 'Type', 'Status', 'Reason'],
        failed.map((r) => [
          escapeHtml(r.logicalId),
          escapeHtml(r.type ?? ''),
          escapeHtml(r.status ?? ''),
          escapeHtml(r.reason ?? 'no reason given')
        ]),
        'failed resources'
      )
    )
  }
  const done = itemTable([
    ['Image', known.imageUri, htmlCode],
    ['Digest', known.imageDigest, htmlCode],
    ['Pinned image', known.imageUriPinned, htmlCode],
    ['Package', known.archiveKey, htmlCode],
    ['Template', known.templateUrl, htmlLinkOrCode],
    ['Stack id', known.stackId, htmlCode],
    ['Change set', known.changeSetId, htmlCode],
    ['Build id', known.buildId, htmlCode]
  ])
  if (done.html.includes('<td>')) blocks.push(heading(3, 'Done before the failure'), done)
  blocks.push(
    heading(3, 'What to do next'),
    {
      html: `<ul>${failureNextSteps(failure)
        .map((s) => `<li>${htmlWithCode(s)}</li>`)
        .join('')}</ul>\n`
    },
    ...timeBlocks(failure.phases ?? [])
  )
  return blocks
}

/**
 * Joins the blocks into at most `limit` bytes (UTF-8): the largest droppable tables are left out
 * first, each replaced by a line saying so, and a note under the heading says the summary was
 * shortened. Past that, only the heading and the note remain.
 */
export function capSummary(blocks: SummaryBlock[], limit = MAX_SUMMARY_BYTES): string {
  const parts = blocks.map((b) => b.html)
  const size = (): number => parts.reduce((sum, p) => sum + Buffer.byteLength(p), 0)
  const dropped: string[] = []
  const candidates = blocks
    .map((block, index) => ({ block, index, bytes: Buffer.byteLength(block.html) }))
    .filter((c) => c.block.drop !== undefined)
    .sort((a, b) => b.bytes - a.bytes)
  const note = (): string =>
    `<p><strong>Shortened:</strong> the summary would exceed GitHub's 1 MiB limit, so these tables were left out: ${escapeHtml(dropped.join(', '))}. The step outputs and the log hold them in full.</p>\n`
  const total = (): number => size() + (dropped.length > 0 ? Buffer.byteLength(note()) : 0)
  for (const candidate of candidates) {
    if (total() <= limit) break
    const drop = candidate.block.drop as NonNullable<SummaryBlock['drop']>
    dropped.push(`${drop.what} (${drop.rows} rows)`)
    parts[candidate.index] =
      `<p>The ${escapeHtml(drop.what)} table (${drop.rows} rows) was left out to keep the summary under GitHub's limit.</p>\n`
  }
  if (dropped.length === 0) return parts.join('')
  const headed = [parts[0] ?? '', note(), ...parts.slice(1)].join('')
  if (Buffer.byteLength(headed) <= limit) return headed
  return `${parts[0] ?? ''}${note()}<p>Even without those tables it was too long; see the log.</p>\n`
}

/**
 * Appends the HTML to the step's summary file. Never throws: without GITHUB_STEP_SUMMARY, or when
 * the file cannot be written, it warns and the step keeps the deploy's result.
 */
export async function appendSummary(
  html: string,
  env: NodeJS.ProcessEnv = process.env
): Promise<boolean> {
  const path = env['GITHUB_STEP_SUMMARY']
  if (!path) {
    log.warning(
      'No job summary written: GITHUB_STEP_SUMMARY is not set (the Actions runner sets it). The deploy itself is not affected.'
    )
    return false
  }
  try {
    await appendFile(path, html, 'utf8')
    return true
  } catch (error) {
    log.warning(
      `Could not write the job summary to ${path}: ${errorMessage(error)}. The deploy itself is not affected.`
    )
    return false
  }
}
