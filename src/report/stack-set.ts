/**
 * What a stack set run shows: the outputs `stack-set-id`, `operation-id` and `instances`, and the
 * job summary's account × region table (status, reason, stack id, image).
 */
import { escapeHtml, htmlCode, htmlTable } from './markdown.js'
import type { Report, StackSetResult } from './model.js'

/** The `instances` output: one entry per account and region. */
export function instancesJson(result: StackSetResult): string {
  return JSON.stringify(
    result.instances.map((i) => ({
      account: i.account,
      region: i.region,
      status: i.status,
      reason: i.reason,
      stackId: i.stackId,
      imageUri: i.imageUri,
      ...(i.organizationalUnitId ? { organizationalUnitId: i.organizationalUnitId } : {})
    }))
  )
}

/** Sets stack-set-id, operation-id (the last operation, '' when none ran) and instances. */
export function setStackSetOutputs(
  result: StackSetResult,
  setOutput: (name: string, value: string) => void
): void {
  setOutput('stack-set-id', result.stackSetId)
  setOutput('operation-id', result.operations.at(-1)?.id ?? '')
  setOutput('instances', instancesJson(result))
}

/** The summary's heading for a stack set run. */
export function stackSetHeading(report: Report, result: StackSetResult): string {
  const n = result.instances.length
  const failed = result.instances.filter((i) => i.status === 'FAILED').length
  if (report.mode === 'noop') return `Noop for stack set ${report.stackName}: nothing changed`
  if (report.mode === 'delete') return `Deleted stack set ${report.stackName}`
  if (result.operations.length === 0) {
    return `Stack set ${report.stackName}: no changes (${n} instances up to date)`
  }
  return `Stack set ${report.stackName}: ${n} instances, ${failed === 0 ? 'all succeeded' : `${failed} failed`}`
}

/** The operations and the account × region table, as summary HTML. */
export function stackSetHtml(result: StackSetResult): string {
  const operations =
    result.operations.length === 0
      ? '<p>No operation: the stack set and its instances already matched.</p>\n'
      : `${htmlTable(
          ['Operation', 'Action', 'Status'],
          result.operations.map((o) => [htmlCode(o.id), escapeHtml(o.action), escapeHtml(o.status)])
        )}\n`
  const instances = htmlTable(
    ['Account', 'Region', 'Status', 'Reason', 'Stack', 'Image'],
    result.instances.map((i) => [
      escapeHtml(i.account),
      escapeHtml(i.region),
      escapeHtml(i.status || '-'),
      escapeHtml(i.reason || '-'),
      i.stackId ? htmlCode(i.stackId) : '-',
      i.imageUri ? htmlCode(i.imageUri) : '-'
    ])
  )
  return `<h3>Stack set ${escapeHtml(result.stackSetId)}</h3>\n${operations}<h3>Instances</h3>\n${instances}\n`
}
