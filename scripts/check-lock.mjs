#!/usr/bin/env node
// Checks package-lock.json before `npm ci` trusts it: every installed entry must carry a version and an
// integrity hash (a placeholder entry makes npm's arborist crash with "Invalid Version:" on a mirror that
// serves the package), and the lock must record exactly the dependencies package.json asks for.
// Usage: node scripts/check-lock.mjs [project folder]. Exits 1 and names each bad entry.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies'
]

/**
 * Lists what is wrong with a lock file against its package.json; an empty list means the lock is usable.
 * @param {Record<string, any>} manifest package.json, parsed
 * @param {Record<string, any>} lock package-lock.json, parsed
 * @returns {string[]}
 */
export function findLockProblems(manifest, lock) {
  const problems = []
  if (lock.lockfileVersion !== 3 && lock.lockfileVersion !== 2) {
    problems.push(`lockfileVersion is ${lock.lockfileVersion}; npm 10 and 11 write version 3`)
  }
  const packages = lock.packages ?? {}
  const root = packages['']
  if (!root) {
    return [...problems, 'the lock has no root entry (packages[""]): regenerate it']
  }
  if (lock.name !== manifest.name || root.name !== manifest.name) {
    problems.push(`the lock names the project "${lock.name}", package.json "${manifest.name}"`)
  }
  for (const field of DEPENDENCY_FIELDS) {
    const wanted = manifest[field] ?? {}
    const locked = root[field] ?? {}
    for (const [name, spec] of Object.entries(wanted)) {
      if (locked[name] === undefined) {
        problems.push(`package.json ${field} has ${name}@${spec}, the lock does not`)
      } else if (locked[name] !== spec) {
        problems.push(
          `package.json ${field} wants ${name}@${spec}, the lock records ${name}@${locked[name]}`
        )
      } else if (field !== 'peerDependencies' && /^\d+\.\d+\.\d+$/.test(spec)) {
        const installed = packages[`node_modules/${name}`]?.version
        if (installed !== spec) {
          problems.push(
            `package.json pins ${name}@${spec}, the lock installs ${installed ?? 'nothing'}`
          )
        }
      }
    }
    for (const name of Object.keys(locked)) {
      if (wanted[name] === undefined) {
        problems.push(`the lock's ${field} has ${name}, package.json does not`)
      }
    }
  }
  for (const [path, entry] of Object.entries(packages)) {
    if (path === '' || entry.link === true) continue
    const missing = ['version', 'integrity'].filter(
      (key) => typeof entry[key] !== 'string' || entry[key] === ''
    )
    if (missing.length > 0) {
      problems.push(`"${path}" has no ${missing.join(' and no ')}`)
    }
  }
  return problems
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(
      `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}

function main() {
  const folder = resolve(process.argv[2] ?? '.')
  const problems = findLockProblems(
    readJson(join(folder, 'package.json')),
    readJson(join(folder, 'package-lock.json'))
  )
  if (problems.length === 0) {
    console.log(
      'package-lock.json: every entry has a version and an integrity hash, and it matches package.json'
    )
    return 0
  }
  console.error(`package-lock.json cannot be trusted by npm ci (${problems.length} problem(s)):`)
  for (const problem of problems) console.error(`  - ${problem}`)
  console.error(
    'Fix: never edit the lock by hand. Run `npm install --package-lock-only --ignore-scripts` ' +
      '(after deleting package-lock.json if entries are broken) and commit the result.'
  )
  return 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main()
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exitCode = 1
  }
}
