/**
 * Real templates from public repositories (__fixtures__/templates/corpus/, sources, licences and
 * the capabilities AWS's rules require in its SOURCES.md), read by the template reader and judged
 * by the capability rules. What is compared, and why, is in that SOURCES.md ("What the test
 * compares").
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decideCapabilities, KNOWN_CAPABILITIES } from '../../src/template/capabilities.js'
import { parseTemplate } from '../../src/template/template.js'

const CORPUS = fileURLToPath(new URL('../../__fixtures__/templates/corpus/', import.meta.url))

interface Entry {
  file: string
  source: { repository: string; path: string; commit: string; licence: string }
  /** What CreateStack/UpdateStack needs (AUTO_EXPAND for every macro). */
  capabilities: string[]
  /** The minimum CreateChangeSet needs. */
  change_set_capabilities: string[]
  /** False for nested stacks, custom macros and loops only known at deploy time. */
  decidable_from_template: boolean
  /** Keys the file gives twice: read last-wins, with a warning each. */
  duplicate_keys?: string[]
  notes: string
}

const ENTRIES = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as Entry[]

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(CORPUS, path)]
  })
}

describe('the corpus of real templates', () => {
  it('holds at least 30 templates, every one listed with its source and licence', () => {
    const files = filesUnder(join(CORPUS, 'templates')).sort()
    expect(files.length).toBeGreaterThanOrEqual(30)
    expect(ENTRIES.map((e) => e.file).sort()).toEqual(files)
    const sources = readFileSync(join(CORPUS, 'SOURCES.md'), 'utf8')
    for (const entry of ENTRIES) {
      expect(entry.source.licence).toMatch(/^(Apache-2\.0|MIT-0)$/)
      expect(entry.source.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(sources).toContain(`\`${entry.file}\``)
    }
  })

  it.each(ENTRIES.map((entry) => [entry.file, entry] as const))(
    '%s: read, and given the capabilities AWS requires',
    (file, entry) => {
      const template = parseTemplate(readFileSync(join(CORPUS, file)), file)
      const { capabilities, reasons } = decideCapabilities(template)
      // Never less than a change set needs.
      expect(capabilities).toEqual(expect.arrayContaining(entry.change_set_capabilities))
      if (entry.decidable_from_template) {
        expect(capabilities).toEqual(entry.capabilities)
        expect(reasons).toEqual([])
      } else {
        expect(capabilities).toEqual([...KNOWN_CAPABILITIES])
        expect(reasons).not.toEqual([])
      }
      const warned = template.warnings.map((w) => /gives '([^']+)' twice/.exec(w)?.[1])
      expect(warned).toEqual(entry.duplicate_keys ?? [])
    }
  )
})
