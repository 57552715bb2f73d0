import { readFileSync } from 'node:fs'

/**
 * The `name<<ghadelimiter_…` blocks @actions/core appends to the GITHUB_OUTPUT `file`, in order
 * (a name set twice appears twice). The TypeScript twin of `parseOutputFile` in
 * local/action-runner.mjs, stricter: only core's own delimiters count.
 */
export function readOutputEntries(file: string): Array<[string, string]> {
  const entries: Array<[string, string]> = []
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const header = /^(.+?)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i] ?? '')
    if (header === null) continue
    const [, name, delimiter] = header
    const end = lines.indexOf(delimiter ?? '', i + 1)
    entries.push([name ?? '', lines.slice(i + 1, end).join('\n')])
    i = end
  }
  return entries
}
