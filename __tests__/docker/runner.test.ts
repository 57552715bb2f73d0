import { afterEach, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execRunner, resolveExecutable } from '../../src/docker/runner.js'

const savedPath = process.env['PATH']
const dirs: string[] = []

/** A directory holding an executable `docker` that prints `name` and its argv. */
function dockerIn(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\necho "${name} $*"\n`)
  chmodSync(join(dir, 'docker'), 0o755)
  return dir
}

afterEach(() => {
  process.env['PATH'] = savedPath
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('resolveExecutable', () => {
  it('looks docker up once per PATH and afresh when PATH changes', async () => {
    const first = dockerIn('first')
    process.env['PATH'] = `${first}:${savedPath}`
    const lookup = resolveExecutable('docker')
    expect(resolveExecutable('docker')).toBe(lookup)
    await expect(lookup).resolves.toBe(join(first, 'docker'))

    const second = dockerIn('second')
    process.env['PATH'] = `${second}:${first}`
    await expect(resolveExecutable('docker')).resolves.toBe(join(second, 'docker'))
  })

  it('does not remember a failed lookup: a docker installed later is found', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'runner-empty-'))
    dirs.push(empty)
    process.env['PATH'] = empty
    await expect(resolveExecutable('docker')).rejects.toThrow(/Unable to locate executable/)
    writeFileSync(join(empty, 'docker'), '#!/bin/sh\necho late\n')
    chmodSync(join(empty, 'docker'), 0o755)
    await expect(resolveExecutable('docker')).resolves.toBe(join(empty, 'docker'))
  })
})

describe('execRunner', () => {
  it('spawns the resolved executable with the argv as given, its output collected', async () => {
    process.env['PATH'] = `${dockerIn('resolved')}:${savedPath}`
    const result = await execRunner('docker', ['image', 'inspect', 'a b'], { silent: true })
    expect(result).toEqual({ exitCode: 0, stdout: 'resolved image inspect a b\n', stderr: '' })
  })
})
