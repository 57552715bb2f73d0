/** Every step output and the job summary: what the action tells the workflow and the person. */
import * as core from '@actions/core'
import type { Output } from '@aws-sdk/client-cloudformation'
import type { ParameterChange, ResourceChangeRow } from './cloudformation/index.js'
import type { CommentContent } from './pr-comment.js'

/** What a finished run hands to `report`. */
export interface Report {
  /** The mode that ran (deploy when absent). */
  mode?: 'deploy' | 'review' | 'noop' | 'delete' | 'execute'
  buildId: string
  imageUri: string
  imageDigest: string
  /** `registry/repository@sha256:…` (image mode). */
  imageUriPinned?: string
  /** Zip mode: the package's S3 key and version. */
  archiveKey?: string
  archiveVersion?: string
  templateUrl: string
  stackName: string
  stackId: string
  stackStatus: string
  changeSetId: string
  noChanges: boolean
  changes: ResourceChangeRow[]
  /** UPDATE change sets: the parameters whose values change (shown under the changes). */
  parameterChanges?: ParameterChange[]
  /** False when the change set was made but not executed (review): the summary says so. */
  executed?: boolean
  /** Also write has-changes, changes-count, changes-summary and changes-markdown. */
  changeOutputs?: boolean
  outputs: Output[]
  /** Seconds per phase, in order. */
  phases: Array<{ name: string; seconds: number }>
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
  'archive-version'
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

/** A row's logical id with its nested stack path: `Network / Subnet`. */
export function qualifiedLogicalId(row: { logicalId: string; parent?: string }): string {
  return row.parent === undefined
    ? row.logicalId
    : [...row.parent.split('/'), row.logicalId].join(' / ')
}

/** A Markdown table cell: one line, `|` escaped, never empty. */
function cell(text: string | undefined, empty = '-'): string {
  if (text === undefined || text === '') return empty
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
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
        `| ${cell(row.action)} | ${cell(qualifiedLogicalId(row))} | ${cell(row.type)} | ${cell(row.replacement)} |`
      )
    }
  }
  if (parameterChanges.length > 0) {
    lines.push('', '| Parameter | Old value | New value |', '| --- | --- | --- |')
    for (const p of parameterChanges) {
      lines.push(
        `| ${cell(p.key)} | ${p.old === undefined ? '(not set)' : cell(p.old, '(empty)')} | ${p.new === undefined ? '(removed)' : cell(p.new, '(empty)')} |`
      )
    }
  }
  return lines.join('\n')
}

/** Sets every step output: the fixed ones and one per stack output key. */
export function setOutputs(report: Report): void {
  core.setOutput('image-uri', report.imageUri)
  core.setOutput('image-digest', report.imageDigest)
  core.setOutput('build-id', report.buildId)
  core.setOutput('template-url', report.templateUrl)
  core.setOutput('stack-id', report.stackId)
  core.setOutput('stack-status', report.stackStatus)
  core.setOutput('change-set-id', report.changeSetId)
  if (report.imageUriPinned) core.setOutput('image-uri-pinned', report.imageUriPinned)
  if (report.archiveKey) {
    core.setOutput('archive-key', report.archiveKey)
    core.setOutput('archive-version', report.archiveVersion ?? '')
  }
  if (report.changeOutputs) {
    core.setOutput('has-changes', String(report.changes.length > 0))
    core.setOutput('changes-count', String(report.changes.length))
    core.setOutput('changes-summary', JSON.stringify(changesSummary(report.changes)))
    core.setOutput('changes-markdown', changesMarkdown(report.changes, report.parameterChanges))
  }
  const outputs = outputsObject(report.outputs)
  core.setOutput('outputs', JSON.stringify(outputs))
  for (const [key, value] of Object.entries(outputs)) {
    if (FIXED_OUTPUTS.has(key)) {
      core.warning(
        `Stack output '${key}' has the name of one of the action's outputs; read it from 'outputs' instead.`
      )
      continue
    }
    core.setOutput(key, value)
  }
}

function link(value: string): string {
  // Escaped in the href too: a stack output is any string, and `"` would end the attribute.
  const text = escapeHtml(value)
  return /^https?:\/\/\S+$/.test(value) ? `<a href="${text}">${text}</a>` : `<code>${text}</code>`
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** Writes the job summary: image, stack, changes, outputs, time per phase. */
export async function writeSummary(report: Report): Promise<void> {
  const summary = core.summary
  summary.addHeading(summaryHeading(report), 2)
  summary.addTable([
    [
      { data: 'Item', header: true },
      { data: 'Value', header: true }
    ],
    ...(report.archiveKey
      ? [
          ['Package', `<code>${escapeHtml(report.archiveKey)}</code>`],
          ['Package version', `<code>${escapeHtml(report.archiveVersion || '-')}</code>`]
        ]
      : [
          ['Image', `<code>${escapeHtml(report.imageUri)}</code>`],
          ['Digest', `<code>${escapeHtml(report.imageDigest)}</code>`]
        ]),
    ['Build id', `<code>${escapeHtml(report.buildId)}</code>`],
    ['Stack', `<code>${escapeHtml(report.stackId)}</code>`],
    ['Status', escapeHtml(report.stackStatus)],
    ['Template', link(report.templateUrl)]
  ])
  summary.addHeading('Changes', 3)
  if (report.changes.length === 0) {
    summary.addRaw(report.noChanges ? 'None: the stack already matched.' : 'None reported.', true)
  } else {
    summary.addTable([
      ['Action', 'Logical id', 'Type', 'Replacement'].map((data) => ({ data, header: true })),
      ...report.changes.map((c) =>
        [c.action, qualifiedLogicalId(c), c.type, c.replacement || '-'].map(escapeHtml)
      )
    ])
  }
  if (report.parameterChanges && report.parameterChanges.length > 0) {
    summary.addHeading('Parameter changes', 3)
    summary.addTable([
      ['Parameter', 'Old value', 'New value'].map((data) => ({ data, header: true })),
      ...report.parameterChanges.map((p) => [
        escapeHtml(p.key),
        p.old === undefined ? '<em>not set</em>' : `<code>${escapeHtml(p.old)}</code>`,
        p.new === undefined ? '<em>removed</em>' : `<code>${escapeHtml(p.new)}</code>`
      ])
    ])
  }
  summary.addHeading('Stack outputs', 3)
  if (report.outputs.length === 0) {
    summary.addRaw('The stack has no outputs.', true)
  } else {
    summary.addTable([
      ['Key', 'Value', 'Description'].map((data) => ({ data, header: true })),
      ...report.outputs.map((o) => [
        escapeHtml(o.OutputKey ?? ''),
        link(o.OutputValue ?? ''),
        escapeHtml(o.Description ?? '')
      ])
    ])
  }
  const total = report.phases.reduce((sum, p) => sum + p.seconds, 0)
  summary.addHeading('Time', 3)
  summary.addTable([
    [
      { data: 'Phase', header: true },
      { data: 'Seconds', header: true }
    ],
    ...report.phases.map((p) => [p.name, p.seconds.toFixed(1)]),
    ['Total', total.toFixed(1)]
  ])
  await summary.write()
}

/** The summary's first line: what happened, in the mode's words. */
export function summaryHeading(report: Report): string {
  switch (report.mode) {
    case 'noop':
      return `Noop for ${report.stackName}: built and checked, nothing pushed or deployed`
    case 'delete':
      return report.stackStatus === 'DOES_NOT_EXIST'
        ? `Stack ${report.stackName} did not exist: nothing to delete`
        : `Deleted ${report.stackName}: ${report.stackStatus}`
    default:
      if (report.executed === false && !report.noChanges) {
        return `Change set for ${report.stackName}: ready, not executed`
      }
      return `Deployed ${report.stackName}: ${report.noChanges ? 'no changes' : report.stackStatus}`
  }
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
