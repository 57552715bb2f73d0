/**
 * Pure: reads a YAML template the way CloudFormation does (docs/TEMPLATES.md says how that was
 * decided, with sources): YAML 1.2 core scalars, every documented short form (`!Ref`, `!Sub`, the
 * rule functions, …) turned into its long form, multi-line quoted scalars and flow collections
 * read however their lines are indented, duplicate keys kept last-wins with a warning, and
 * aliases and merge keys refused as CloudFormation refuses them.
 */
import {
  isScalar,
  LineCounter,
  Parser,
  parseDocument,
  visit,
  type Document,
  type Tags,
  type YAMLError
} from 'yaml'
import { InputError } from '../base/errors.js'

/**
 * The short forms and the long form each stands for: the intrinsic and condition functions, the
 * rule functions (used in `Rules`), and `!Length`/`!ToJsonString` of AWS::LanguageExtensions
 * (AWS documents only their long forms; every AWS tool reads `!X` as `Fn::X`, so they stay).
 */
const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'Contains',
  'EachMemberEquals',
  'EachMemberIn',
  'RefAll',
  'ValueOf',
  'ValueOfAll',
  'Length',
  'ToJsonString'
]
const SHORT_FORMS: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  ...Object.fromEntries(FUNCTIONS.map((name) => [`!${name}`, `Fn::${name}`]))
}

function shortFormTags(): Tags {
  const tags: Tags = []
  for (const [tag, fn] of Object.entries(SHORT_FORMS)) {
    tags.push({
      tag,
      resolve: (value: string) =>
        // `!GetAtt Resource.Attribute` is the scalar form of ['Resource', 'Attribute'].
        fn === 'Fn::GetAtt' ? { [fn]: splitGetAtt(value) } : { [fn]: value }
    })
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [fn]: value.toJSON() })
      })
    }
  }
  return tags
}

function splitGetAtt(value: string): string[] {
  const dot = value.indexOf('.')
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)]
}

/** A YAML template, read: its value and what the reader noticed without refusing it. */
export interface YamlTemplate {
  document: unknown
  warnings: string[]
}

/** Reads YAML template text (without a byte order mark); `path` is only used in messages. */
export function readYaml(text: string, path: string): YamlTemplate {
  const { doc, lines } = parseForgivingIndentation(text)
  // An unknown tag (a typo such as !GetAttr) is only a warning to the library, but CloudFormation
  // refuses the template: fail here, before the image is built.
  const problem =
    doc.errors[0] ?? doc.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED')
  if (problem !== undefined) throw yamlError(path, problem)
  refuseAliases(doc, lines, path)
  return { document: doc.toJS() as unknown, warnings: duplicateKeyWarnings(doc, lines, path) }
}

interface Parsed {
  doc: Document
  lines: LineCounter
}

function parse(text: string): Parsed {
  const lines = new LineCounter()
  // Duplicate keys are found by duplicateKeyWarnings; the library keeps the last, as CloudFormation does.
  const doc = parseDocument(text, {
    customTags: shortFormTags(),
    uniqueKeys: false,
    lineCounter: lines
  })
  return { doc, lines }
}

/**
 * The yaml library cuts a quoted scalar or flow collection at the first continuation line that is
 * not indented past its key (a hard-coded check of its lexer, YAML 1.2 §7.3); PyYAML and SnakeYAML,
 * like CloudFormation, never check it, and AWS's own samples rely on that. So when a parse fails
 * that way, the lines inside the cut scalar or collection are indented one column past the key's
 * line and the text parsed again, one region at a time. In flow context the leading white space
 * of a continuation line is never content (§6.3 s-flow-line-prefix, §7.3 line folding), so the
 * value read is the one CloudFormation reads; line numbers stay the same for messages.
 */
function parseForgivingIndentation(text: string): Parsed {
  let source = text
  let parsed = parse(source)
  while (parsed.doc.errors.some((e) => e.code === 'MISSING_CHAR' || e.code === 'BAD_INDENT')) {
    const region = firstCutRegion(source)
    const repaired = region === undefined ? source : indentRegion(source, region)
    if (repaired === source) break
    source = repaired
    parsed = parse(source)
  }
  return parsed
}

/** The offsets of an opening quote or bracket and of the character that closes it. */
interface Region {
  start: number
  end: number
}

/** The first quoted scalar or flow collection the lexer ended before its closing character. */
function firstCutRegion(text: string): Region | undefined {
  const regions: Region[] = []
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== 'object') return
    const token = node as { type?: string; offset?: number; source?: string; end?: unknown }
    const region = cutRegion(text, token)
    if (region !== undefined) regions.push(region)
    Object.values(node).forEach(walk)
  }
  for (const token of new Parser().parse(text)) walk(token)
  return regions.sort((a, b) => a.start - b.start)[0]
}

function cutRegion(
  text: string,
  token: { type?: string; offset?: number; source?: string; end?: unknown }
): Region | undefined {
  const { type, offset } = token
  if (offset === undefined) return undefined
  if (type === 'single-quoted-scalar' || type === 'double-quoted-scalar') {
    const end = closingOffset(text, offset)
    const tokenEnd = offset + (token.source ?? '').length - 1
    return end > tokenEnd ? { start: offset, end } : undefined
  }
  if (type !== 'flow-collection') return undefined
  const ends = Array.isArray(token.end) ? (token.end as Array<{ type?: string }>) : []
  if (ends.some((e) => e.type === 'flow-map-end' || e.type === 'flow-seq-end')) return undefined
  const end = closingOffset(text, offset)
  return end > offset ? { start: offset, end } : undefined
}

/**
 * The offset of the character that closes the quoted scalar or flow collection opening at
 * `start` (as a reader that ignores indentation finds it), or -1 when nothing closes it.
 */
function closingOffset(text: string, start: number): number {
  const open = text[start]
  if (open === "'") {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] !== "'") continue
      if (text[i + 1] !== "'") return i
      i++ // '' is an escaped quote
    }
    return -1
  }
  if (open === '"') {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\') i++
      else if (text[i] === '"') return i
    }
    return -1
  }
  return open === '[' || open === '{' ? closingBracket(text, start) : -1
}

function closingBracket(text: string, start: number): number {
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string
    const tokenStart = /[\s[{,:]/.test(text[i - 1] ?? ' ')
    if ((c === "'" || c === '"') && tokenStart) {
      i = closingOffset(text, i)
      if (i < 0) return -1
    } else if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '[' || c === '{') depth++
    else if (c === ']' || c === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Indents the region's continuation lines one column past its first line's key or `- ` items. */
function indentRegion(text: string, region: Region): string {
  const lineStart = text.lastIndexOf('\n', region.start - 1) + 1
  const lead = /^ *(?:- +)*/.exec(text.slice(lineStart))?.[0].length ?? 0
  const firstBreak = text.indexOf('\n', region.start)
  if (firstBreak < 0 || firstBreak > region.end) return text
  const inside = text.slice(firstBreak + 1, region.end + 1)
  const indented = inside.replace(/^( *)(?=[^ \r\n])/gm, (spaces: string) =>
    spaces.length > lead ? spaces : ' '.repeat(lead + 1)
  )
  return text.slice(0, firstBreak + 1) + indented + text.slice(region.end + 1)
}

function position(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset)
  return `line ${line}, column ${col}`
}

/**
 * CloudFormation refuses aliases ("Template error: YAML aliases are not allowed in CloudFormation
 * templates") and merge keys (`<<`, "Hash merges" in its list of unsupported YAML).
 */
function refuseAliases(doc: Document, lines: LineCounter, path: string): void {
  let refused: string | undefined
  visit(doc, {
    Alias(_, node) {
      const at = position(lines, node.range?.[0] ?? 0)
      refused = `uses the YAML alias *${node.source} at ${at}; CloudFormation refuses aliases ("YAML aliases are not allowed in CloudFormation templates"): write the value out in full`
      return visit.BREAK
    },
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== '<<' || pair.key.type !== 'PLAIN') return
      const at = position(lines, pair.key.range?.[0] ?? 0)
      refused = `uses the YAML merge key << at ${at}, which CloudFormation does not support: write the keys out in full`
      return visit.BREAK
    }
  })
  if (refused !== undefined) throw new InputError(`Input 'template': ${path} ${refused}.`)
}

/**
 * One warning per key given twice in a mapping. CloudFormation accepts such a template and keeps
 * the last value without a word (docs/TEMPLATES.md has the evidence); so does this action, but a
 * reviewer reading the first one is misled, so it says so.
 */
function duplicateKeyWarnings(doc: Document, lines: LineCounter, path: string): string[] {
  const warnings: string[] = []
  visit(doc, {
    Map(_, map, ancestors) {
      const seen = new Map<string, number>()
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue
        const key = String(pair.key.value)
        const line = lines.linePos(pair.key.range?.[0] ?? 0).line
        const first = seen.get(key)
        seen.set(key, line)
        if (first === undefined) continue
        const where = [...keyPath(ancestors), key].join('.')
        warnings.push(
          `${path} gives '${where}' twice (lines ${first} and ${line}); CloudFormation keeps the last one without a word, and so does this action: remove the one you do not mean.`
        )
      }
    }
  })
  return warnings
}

function keyPath(ancestors: readonly unknown[]): string[] {
  return ancestors.flatMap((node) => {
    const key = (node as { key?: unknown }).key
    return isScalar(key) ? [String(key.value)] : []
  })
}

function yamlError(path: string, error: YAMLError): InputError {
  const pos = error.linePos?.[0]
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ''
  // The library appends its own position and a source excerpt; keep only the sentence.
  const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
  return new InputError(
    `Input 'template': ${path} is not valid YAML${where} (${reason}): fix the syntax.`
  )
}
