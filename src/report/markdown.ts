/**
 * report/: what users see: step outputs, the job summary, the pull-request comment, escaping.
 * May import: aws/, rules/, base/.
 *
 * The one home of escaping: text going into the job summary's HTML and into GitHub-flavoured
 * Markdown (the `changes-markdown` output, the pull-request comment). Everything a user or a stack
 * controls (output values, parameter values, reasons) passes through here before it is rendered.
 */

/** Text safe inside an HTML element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** A cell of an HTML table: trusted HTML (already escaped) and whether it is a header cell. */
export type HtmlCell = string | { html: string; header: true }

/**
 * An HTML table whose every element is closed. `core.summary.addTable` writes an empty cell as a
 * bare `<td>` (its `wrap` drops the closing tag when the content is empty), which strict renderers
 * read as a table that never ends; this writes `<td></td>`.
 */
export function htmlTable(header: string[], rows: HtmlCell[][]): string {
  const row = (cells: HtmlCell[]): string =>
    `<tr>${cells
      .map((cell) => (typeof cell === 'string' ? `<td>${cell}</td>` : `<th>${cell.html}</th>`))
      .join('')}</tr>`
  const head = row(header.map((html) => ({ html: escapeHtml(html), header: true as const })))
  return `<table>${head}${rows.map(row).join('')}</table>`
}

/** A value as inline HTML code, escaped. */
export function htmlCode(text: string): string {
  return `<code>${escapeHtml(text)}</code>`
}

/** An http(s) value as a link, anything else as code; escaped in the href too (`"` would end it). */
export function htmlLinkOrCode(value: string): string {
  const text = escapeHtml(value)
  return /^https?:\/\/\S+$/.test(value) ? `<a href="${text}">${text}</a>` : `<code>${text}</code>`
}

/** Text as HTML, its `backticked` parts as code: how hints written for the log read in HTML. */
export function htmlWithCode(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>')
}

/** Text with the Markdown characters that change rendering backslash-escaped (`|` is the cell's job). */
export function escapeMarkdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>&~#]/g, '\\$&')
}

/**
 * Keeps ready Markdown inside one table cell: `|` would end the cell and a line break the table.
 * GitHub splits the row before it parses inline spans, so `\|` is a pipe inside code spans too.
 */
export function escapeCell(markdown: string): string {
  return markdown.replace(/\|/g, '\\|').replace(/\r?\n|\r/g, '<br>')
}

/** Plain text as one Markdown table cell: escaped, on one row, `empty` when there is none. */
export function textCell(text: string | undefined, empty = '-'): string {
  if (text === undefined || text === '') return empty
  return escapeCell(escapeMarkdownText(text))
}

/** A Markdown table of ready Markdown cells; every cell is kept on its row by `escapeCell`. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** An inline code span that survives backticks in the value; multi-line values become escaped text. */
export function markdownCode(text: string): string {
  if (text === '') return '(empty)'
  if (/[\r\n]/.test(text)) return escapeMarkdownText(text)
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  const ticks = '`'.repeat(longestRun + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${ticks}${pad}${text}${pad}${ticks}`
}

/** A fenced code block longer than any backtick run inside the text. */
export function fence(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length))
  const ticks = '`'.repeat(Math.max(3, longestRun + 1))
  return `${ticks}text\n${text}\n${ticks}`
}

/** A URL as one Markdown link destination: characters that would end it are percent-encoded. */
export function linkDestination(url: string): string {
  return url.replace(
    /[()<>\s]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
  )
}

/** An http(s) value as a Markdown link, anything else as code. */
export function markdownLinkOrCode(value: string): string {
  if (/^https?:\/\/\S+$/i.test(value)) {
    return `[${escapeMarkdownText(value)}](${linkDestination(value)})`
  }
  return markdownCode(value)
}
