/**
 * A strict check of the HTML the job summary holds: every element closed, in order, tables and
 * lists nested as HTML allows, attributes quoted, no stray `<` or `&`. Browsers forgive all of
 * these; GitHub's Markdown renderer and other strict readers do not. Returns the problems found
 * (none: well-formed), each naming the offset.
 */

const VOID = new Set(['br', 'hr', 'img', 'wbr'])
/** Elements that may only sit directly inside the listed parents. */
const PARENTS: Record<string, string[]> = {
  tr: ['table', 'thead', 'tbody', 'tfoot'],
  td: ['tr'],
  th: ['tr'],
  thead: ['table'],
  tbody: ['table'],
  tfoot: ['table'],
  li: ['ul', 'ol'],
  summary: ['details']
}
/** Elements that hold only the listed children (text aside). */
const CHILDREN: Record<string, string[]> = {
  table: ['tr', 'thead', 'tbody', 'tfoot'],
  thead: ['tr'],
  tbody: ['tr'],
  tr: ['td', 'th'],
  ul: ['li'],
  ol: ['li']
}
const INLINE = new Set(['a', 'code', 'em', 'strong', 'sub', 'sup', 'b', 'i', 'span'])
const BLOCK = new Set([
  'table',
  'tr',
  'td',
  'th',
  'ul',
  'ol',
  'li',
  'p',
  'pre',
  'h1',
  'h2',
  'h3',
  'h4',
  'div',
  'details'
])

export function htmlProblems(html: string): string[] {
  const problems: string[] = []
  const stack: Array<{ name: string; at: number }> = []
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g
  let last = 0
  const checkText = (text: string, at: number): void => {
    const parent = stack[stack.length - 1]
    if (text.trim() !== '' && parent && CHILDREN[parent.name]) {
      problems.push(
        `text ${JSON.stringify(text.slice(0, 20))} directly inside <${parent.name}> at ${at}`
      )
    }
    const lt = text.indexOf('<')
    if (lt >= 0)
      problems.push(`stray '<' or malformed tag at ${at + lt}: ${text.slice(lt, lt + 30)}`)
    const amp = /&(?!(?:amp|lt|gt|quot|#39|#x27|nbsp|middot);)/.exec(text)
    if (amp) problems.push(`unescaped '&' at ${at + amp.index}`)
  }
  for (let m = tag.exec(html); m !== null; m = tag.exec(html)) {
    checkText(html.slice(last, m.index), last)
    last = m.index + m[0].length
    if (m[0].startsWith('<!--')) continue
    const closing = m[1] === '/'
    const name = (m[2] ?? '').toLowerCase()
    const parent = stack[stack.length - 1]
    if (closing) {
      if (!parent) problems.push(`</${name}> at ${m.index} closes nothing`)
      else if (parent.name !== name) {
        problems.push(`</${name}> at ${m.index} while <${parent.name}> (at ${parent.at}) is open`)
      } else stack.pop()
      continue
    }
    const allowed = PARENTS[name]
    if (allowed && !(parent && allowed.includes(parent.name))) {
      problems.push(`<${name}> at ${m.index} inside <${parent?.name ?? 'document'}>`)
    }
    const children = parent ? CHILDREN[parent.name] : undefined
    if (parent && children && !children.includes(name)) {
      problems.push(`<${name}> at ${m.index} directly inside <${parent.name}>`)
    }
    if (parent && INLINE.has(parent.name) && BLOCK.has(name)) {
      problems.push(`block <${name}> at ${m.index} inside inline <${parent.name}>`)
    }
    if (VOID.has(name) || m[4] === '/') continue
    stack.push({ name, at: m.index })
  }
  checkText(html.slice(last), last)
  for (const open of stack.reverse()) problems.push(`<${open.name}> at ${open.at} is never closed`)
  return problems
}
