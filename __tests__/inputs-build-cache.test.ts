import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { createRawInputs, createWorkspace, type Workspace } from '../__fixtures__/inputs.js'
import { InputError } from '../src/errors.js'
import { INPUT_NAMES, parseBuildCache, parseInputs } from '../src/inputs.js'

let ws: Workspace

beforeEach(() => {
  ws = createWorkspace()
})
afterEach(() => {
  ws.remove()
})

describe('build-cache', () => {
  it('is declared in action.yml with the default auto', () => {
    const action = parseYaml(readFileSync(new URL('../action.yml', import.meta.url), 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    expect(action.inputs['build-cache']?.default).toBe('auto')
    expect(INPUT_NAMES).toContain('build-cache')
  })

  it('defaults to auto when empty', () => {
    expect(parseInputs(createRawInputs(), ws.env).buildCache).toBe('auto')
  })

  it.each(['auto', 'registry', 'inline', 'off'] as const)('accepts %s', (mode) => {
    expect(parseInputs(createRawInputs({ 'build-cache': ` ${mode} ` }), ws.env).buildCache).toBe(
      mode
    )
  })

  it('refuses anything else, naming the input and the choices', () => {
    expect(() => parseBuildCache('local')).toThrow(InputError)
    expect(() => parseBuildCache('local')).toThrow(
      "Input 'build-cache' must be one of auto, registry, inline, off, got 'local'."
    )
  })
})
