/**
 * File-system checks on the paths inputs name: where the checkout is, that a file exists, that a
 * directory stays inside another, that a package is a zip. Only these read the disk while inputs
 * are checked (besides reading the template and parameter files themselves).
 */
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { InputError } from '../base/errors.js'
import type { InputName } from './raw.js'

/** The directory paths are resolved against: the checked-out repository. */
export function workspaceRoot(env: NodeJS.ProcessEnv): string {
  return resolve(env['GITHUB_WORKSPACE'] ?? process.cwd())
}

/** The absolute path of an existing file an input names; an error naming the input otherwise. */
export function existingFile(workspace: string, name: InputName, path: string): string {
  const absolute = resolve(workspace, path)
  if (!existsSync(absolute)) {
    throw new InputError(
      `Input '${name}': ${path} does not exist (resolved to ${absolute}); give a path relative to the repository root.`
    )
  }
  if (!statSync(absolute).isFile()) {
    throw new InputError(`Input '${name}': ${path} is a directory; give the path of a file.`)
  }
  return absolute
}

/** True when `path` exists and is a directory. */
export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory()
}

/** True when `path` exists and is a file. */
export function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile()
}

/** True when `child` is `parent` or below it, comparing the paths as written. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Where an existing `path` really is when, symlinks followed, it leaves `root`; undefined when it
 * stays inside. Both real paths are returned so the error can show them.
 */
export function realPathOutside(
  root: string,
  path: string
): { root: string; path: string } | undefined {
  const realRoot = realpathSync(root)
  const realPath = realpathSync(path)
  return isInside(realRoot, realPath) ? undefined : { root: realRoot, path: realPath }
}

/** A zip package: the file must start with a zip signature (a local file or an empty archive). */
export function checkZipArchive(path: string, shown: string): void {
  const head = Buffer.alloc(4)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, 4, 0)
  } finally {
    closeSync(fd)
  }
  if (head.readUInt32LE(0) !== 0x04034b50 && head.readUInt32LE(0) !== 0x06054b50) {
    throw new InputError(
      `Input 'code-archive': ${shown} is not a zip file: give the .zip package Lambda runs (e.g. made with 'zip -r function.zip bootstrap').`
    )
  }
}
