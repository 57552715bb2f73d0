/**
 * scripts/check-lock.mjs, the guard `.ci/run` runs before `npm ci`: it must pass the project's own lock
 * and fail, naming the entry, on the lock shapes that broke `npm ci` before.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'

const SCRIPT = join(process.cwd(), 'scripts', 'check-lock.mjs')
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, Record<string, unknown>>
}

const folders: string[] = []
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

function checkLock(
  pkg: unknown,
  lockFile: unknown
): { status: number | null; stdout: string; stderr: string } {
  const folder = mkdtempSync(join(tmpdir(), 'check-lock-'))
  folders.push(folder)
  writeFileSync(join(folder, 'package.json'), JSON.stringify(pkg))
  writeFileSync(join(folder, 'package-lock.json'), JSON.stringify(lockFile))
  const result = spawnSync(process.execPath, [SCRIPT, folder], { encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function cloneLock(): typeof lock {
  return JSON.parse(JSON.stringify(lock)) as typeof lock
}

describe('check-lock', () => {
  it('accepts the committed lock', () => {
    const result = checkLock(manifest, lock)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it('refuses a placeholder entry with no version or integrity, naming it', () => {
    const broken = cloneLock()
    broken.packages[
      'node_modules/unrs-resolver/node_modules/@unrs/resolver-binding-android-arm-eabi'
    ] = {
      dev: true,
      optional: true
    }
    const result = checkLock(manifest, broken)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(
      '"node_modules/unrs-resolver/node_modules/@unrs/resolver-binding-android-arm-eabi" has no version and no integrity'
    )
    expect(result.stderr).toContain('npm install --package-lock-only --ignore-scripts')
  })

  it('refuses an entry that lost only its integrity hash', () => {
    const broken = cloneLock()
    const yaml = broken.packages['node_modules/yaml']
    expect(yaml).toBeDefined()
    delete yaml!['integrity']
    const result = checkLock(manifest, broken)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('"node_modules/yaml" has no integrity')
  })

  it('refuses a lock that disagrees with package.json', () => {
    const changed = JSON.parse(JSON.stringify(manifest)) as {
      devDependencies: Record<string, string>
    }
    changed.devDependencies['jest'] = '30.5.2'
    changed.devDependencies['left-pad'] = '1.3.0'
    const result = checkLock(changed, lock)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(
      'package.json devDependencies wants jest@30.5.2, the lock records jest@29.7.0'
    )
    expect(result.stderr).toContain(
      'package.json devDependencies has left-pad@1.3.0, the lock does not'
    )
  })

  it('refuses a lock whose installed version differs from an exact pin', () => {
    const broken = cloneLock()
    broken.packages['node_modules/yaml']!['version'] = '2.0.0'
    const result = checkLock(manifest, broken)
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/pins yaml@[\d.]+, the lock installs 2\.0\.0/)
  })

  it('says which file it could not read', () => {
    const result = spawnSync(process.execPath, [SCRIPT, join(tmpdir(), 'no-such-project-folder')], {
      encoding: 'utf8'
    })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('cannot read')
    expect(result.stderr).toContain('package.json')
  })
})
