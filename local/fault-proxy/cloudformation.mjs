// CloudFormation as the faults see it: the stack a query-protocol call names, the calls that
// write to a stack, and the patch of a DescribeStacks answer (XML or JSON) that shows a stack in
// another status. A fault that changes what CloudFormation answers builds on these.

import { xmlEscape } from './http.mjs'

/** The operations that change a stack (and so can be followed by stale reads of it). */
export const STACK_WRITES = [
  'ExecuteChangeSet',
  'DeleteStack',
  'CreateChangeSet',
  'UpdateStack',
  'CreateStack'
]

/** The StackName a query-protocol body gives, as given (a name or a stack ARN); "" without one. */
export function stackNameParam(body) {
  return body ? new URLSearchParams(body.toString('utf8')).get('StackName') || '' : ''
}

/** The stack a query-protocol request names (StackName; a stack ARN counts by its name). */
export function stackNameOf(body) {
  const value = stackNameParam(body)
  const arn = /:stack\/([^/]+)\//.exec(value)
  return arn ? arn[1] : value
}

/**
 * A DescribeStacks answer (JSON when `contentType` says so, else XML) with the StackStatus of
 * each stack replaced by `statusFor(isStack)`, where `isStack(name)` tells whether that stack is
 * `name`; an undefined status leaves the stack as it is. Returns {text, changed}.
 */
export function rewriteStackStatus(text, contentType, statusFor) {
  return contentType.includes('json')
    ? rewriteStackStatusJson(text, statusFor)
    : rewriteStackStatusXml(text, statusFor)
}

/** The XML answer: each top-level <member> of <Stacks> is one stack. */
function rewriteStackStatusXml(text, statusFor) {
  const start = text.indexOf('<Stacks>')
  const end = text.lastIndexOf('</Stacks>')
  if (start < 0 || end < 0) return { text, changed: false }
  const inner = text.slice(start + 8, end)
  let out = ''
  let depth = 0
  let blockStart = -1
  let last = 0
  let changed = false
  const re = /<(\/?)member>/g
  let m
  while ((m = re.exec(inner))) {
    if (!m[1]) {
      if (depth === 0) blockStart = m.index
      depth++
      continue
    }
    depth--
    if (depth !== 0 || blockStart < 0) continue
    const blockEnd = m.index + m[0].length
    let block = inner.slice(blockStart, blockEnd)
    const status = statusFor((name) => block.includes(`<StackName>${xmlEscape(name)}</StackName>`))
    if (status !== undefined) {
      block = block.replace(
        /<StackStatus>[^<]*<\/StackStatus>/,
        `<StackStatus>${xmlEscape(status)}</StackStatus>`
      )
      changed = true
    }
    out += inner.slice(last, blockStart) + block
    last = blockEnd
    blockStart = -1
  }
  out += inner.slice(last)
  return { text: text.slice(0, start + 8) + out + text.slice(end), changed }
}

/** The JSON answer: {"Stacks": [...]}; an answer that is not JSON is left alone. */
function rewriteStackStatusJson(text, statusFor) {
  let doc
  try {
    doc = JSON.parse(text)
  } catch {
    return { text, changed: false }
  }
  let changed = false
  for (const s of doc?.Stacks || []) {
    const status = statusFor((name) => s.StackName === name)
    if (status !== undefined) {
      s.StackStatus = status
      changed = true
    }
  }
  return changed ? { text: JSON.stringify(doc), changed } : { text, changed }
}
