/** Every step output and the job summary: what the action tells the workflow and the person. */
import * as core from '@actions/core'
import type { Output } from '@aws-sdk/client-cloudformation'
import type { ResourceChangeRow } from './cloudformation.js'

/** What a finished deploy hands to `report`. */
export interface Report {
  buildId: string
  imageUri: string
  imageDigest: string
  templateUrl: string
  stackName: string
  stackId: string
  stackStatus: string
  changeSetId: string
  noChanges: boolean
  changes: ResourceChangeRow[]
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
  'outputs'
])

/** Stack outputs as one JSON object, key → value. */
export function outputsObject(outputs: Output[]): Record<string, string> {
  const result: Record<string, string> = {}
  for (const output of outputs) {
    if (output.OutputKey) result[output.OutputKey] = output.OutputValue ?? ''
  }
  return result
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
  const ok = report.noChanges ? 'no changes' : report.stackStatus
  summary.addHeading(`Deployed ${report.stackName}: ${ok}`, 2)
  summary.addTable([
    [
      { data: 'Item', header: true },
      { data: 'Value', header: true }
    ],
    ['Image', `<code>${escapeHtml(report.imageUri)}</code>`],
    ['Digest', `<code>${escapeHtml(report.imageDigest)}</code>`],
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
        [c.action, c.logicalId, c.type, c.replacement || '-'].map(escapeHtml)
      )
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
