/**
 * The shape of src/: folders that name the parts, each saying (in the header of its first file)
 * what it may import; imports that follow those headers and never go round in a circle, type
 * imports included; files and functions short enough to read.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')

/** Every .ts file under src/, as a path relative to src/ with '/' separators. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return sourceFiles(path)
      return name.endsWith('.ts') ? [relative(SRC, path).split('\\').join('/')] : []
    })
}

const FILES = sourceFiles()
const folderOf = (file: string): string => posix.dirname(file)
const FOLDERS = [...new Set(FILES.map(folderOf))].filter((f) => f !== '.')

/** Relative imports of a file (`import`, `import type`, `export … from`, `import()`), resolved. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8')
  const specs = text.matchAll(
    /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g
  )
  return [...specs].map((m) =>
    posix.normalize(posix.join(posix.dirname(file), m[1] ?? m[2] ?? '')).replace(/\.js$/, '.ts')
  )
}

/** The folders a folder's header allows: `May import: a/, b/.` or `May import: nothing outside x/.` */
function allowedImports(folder: string): string[] | undefined {
  const first = FILES.filter((f) => folderOf(f) === folder)[0]
  if (first === undefined) return undefined
  const header = readFileSync(join(SRC, first), 'utf8').split('*/')[0] ?? ''
  if (!header.includes(`* ${folder}/:`)) return undefined
  const line = /May import: ([^\n]*)\./.exec(header)?.[1]
  if (line === undefined) return undefined
  if (line.startsWith('nothing outside')) return []
  return line.split(',').map((part) => part.trim().replace(/\/$/, ''))
}

/** Tarjan's strongly connected components of more than one file. */
function importCycles(): string[][] {
  const edges = new Map(FILES.map((f) => [f, importsOf(f).filter((t) => FILES.includes(t))]))
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const cycles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop()
      if (w !== undefined) component.push(w)
    } while (w !== v && w !== undefined)
    if (component.length > 1) cycles.push(component.sort())
  }
  for (const f of FILES) if (!index.has(f)) visit(f)
  return cycles
}

/** Functions (declarations, methods, arrows) longer than `limit` lines, as `file:line name (n)`. */
function longFunctions(limit: number): string[] {
  const found: string[] = []
  for (const file of FILES) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(SRC, file), 'utf8'),
      ts.ScriptTarget.ES2022,
      true
    )
    const walk = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line
        const lines = source.getLineAndCharacterOfPosition(node.end).line - start + 1
        if (lines > limit) found.push(`${file}:${start + 1} (${lines} lines)`)
      }
      ts.forEachChild(node, walk)
    }
    walk(source)
  }
  return found
}

describe('src/ layout', () => {
  it('keeps at most 6 files directly in src/', () => {
    expect(FILES.filter((f) => folderOf(f) === '.').length).toBeLessThanOrEqual(6)
  })

  it('keeps at most 12 files in a folder', () => {
    const crowded = FOLDERS.filter((d) => FILES.filter((f) => folderOf(f) === d).length > 12)
    expect(crowded).toEqual([])
  })

  it('keeps every file at 400 lines or fewer', () => {
    const long = FILES.filter((f) => readFileSync(join(SRC, f), 'utf8').split('\n').length > 400)
    expect(long).toEqual([])
  })

  it('keeps every function at 80 lines or fewer', () => {
    expect(longFunctions(80)).toEqual([])
  })

  it('has no import cycle, type imports included', () => {
    expect(importCycles()).toEqual([])
  })

  it.each(FOLDERS)('%s/ says in its first file what it holds and what it may import', (folder) => {
    expect(allowedImports(folder)).toBeDefined()
  })

  it.each(FOLDERS)('%s/ imports only what its header allows', (folder) => {
    const allowed = [folder, ...(allowedImports(folder) ?? [])]
    const isAllowed = (target: string): boolean =>
      allowed.some((a) => folderOf(target) === a || folderOf(target).startsWith(`${a}/`))
    const outside = FILES.filter((f) => folderOf(f) === folder).flatMap((file) =>
      importsOf(file)
        .filter((target) => !isAllowed(target))
        .map((target) => `${file} → ${target}`)
    )
    expect(outside).toEqual([])
  })

  it('no module imports from src/ itself but main.ts and index.ts', () => {
    const upward = FILES.filter((f) => folderOf(f) !== '.').flatMap((file) =>
      importsOf(file)
        .filter((target) => folderOf(target) === '.')
        .map((target) => `${file} → ${target}`)
    )
    expect(upward).toEqual([])
  })
})
