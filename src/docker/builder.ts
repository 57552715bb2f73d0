/**
 * docker/: every docker CLI call (docker.ts), how it runs (runner.ts) and the builder probe
 * (builder.ts).
 * May import: rules/, base/.
 *
 * Which builder `docker build` reaches and what it can do: BuildKit or the legacy builder, the
 * buildx driver (whether `--load` is needed), attestation flags, and the build cache plan.
 * docker.ts runs the commands; this module decides how they are called.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import * as log from '../base/log.js'
import { lastLine, userDockerConfigDir, type DockerConfig } from './docker.js'
import type { Runner } from './runner.js'
import { errorMessage } from '../base/errors.js'
import { parseImageUri } from '../rules/image-ref.js'

/** How the build cache is kept between runs on BuildKit (the `build-cache` input). */
export type BuildCacheMode = 'auto' | 'registry' | 'inline' | 'off'

/** Every build cache mode, in the order the input's message lists them. */
export const BUILD_CACHE_MODES: readonly BuildCacheMode[] = ['auto', 'registry', 'inline', 'off']

/**
 * Whether `docker build` is BuildKit's (buildx) and knows `--provenance` and `--sbom`: the legacy
 * builder rejects both flags. False on any failure, so the build then runs without them.
 */
export async function supportsAttestationFlags(
  run: Runner,
  config?: DockerConfig
): Promise<boolean> {
  try {
    const result = await run('docker', ['build', '--help'], {
      silent: true,
      ...(config ? { env: config.env } : {})
    })
    if (result.exitCode !== 0) return false
    const help = `${result.stdout}\n${result.stderr}`
    return /(^|\s)--provenance\b/m.test(help) && /(^|\s)--sbom\b/m.test(help)
  } catch (error) {
    log.debug(`docker build --help failed: ${errorMessage(error)}`)
    return false
  }
}

/** The builder `docker build` goes through, as buildx and the engine describe it. */
export interface Builder {
  /** `docker build` is BuildKit's (buildx); false for the legacy builder. */
  buildkit: boolean
  /**
   * The active buildx builder's driver (`docker`, `docker-container`, `kubernetes`, `remote`);
   * '' without buildx.
   */
  driver: string
  /** The engine keeps images in the containerd image store (not the classic graph drivers). */
  containerdStore: boolean
}

/** Parses the `Driver:` line of `docker buildx inspect` (pure). '' when there is none. */
export function parseBuildxDriver(inspectOutput: string): string {
  return /^Driver:\s*(\S+)/m.exec(inspectOutput)?.[1] ?? ''
}

/**
 * Whether a buildx builder other than the context's default is selected: `BUILDX_BUILDER`, or
 * `docker buildx use` (`buildx/current` in the docker config directory, which the private config
 * links to the user's). Without one, `docker build` goes through the default builder, whose
 * driver is always `docker`, so `docker buildx inspect` has nothing to tell.
 */
export function builderSelected(env: NodeJS.ProcessEnv): boolean {
  if (env['BUILDX_BUILDER']) return true
  return existsSync(join(userDockerConfigDir(env), 'buildx', 'current'))
}

/**
 * Which builder `docker build` uses: BuildKit or legacy (`docker build --help`), the active
 * buildx builder's driver (`docker buildx inspect`, only when a builder is selected: the default
 * one is the `docker` driver) and the engine's image store (`docker info`). Every probe that
 * fails counts as the plainer answer, so a build then runs with fewer flags.
 */
export async function detectBuilder(run: Runner, config?: DockerConfig): Promise<Builder> {
  const env = config?.env
  const buildkit = await supportsAttestationFlags(run, config)
  if (!buildkit) return { buildkit: false, driver: '', containerdStore: false }
  const selected = builderSelected({ ...process.env, ...env })
  const [inspected, info] = await Promise.all([
    selected
      ? run('docker', ['buildx', 'inspect'], { silent: true, ...(env ? { env } : {}) })
      : undefined,
    run('docker', ['info', '--format', '{{json .DriverStatus}}'], {
      silent: true,
      ...(env ? { env } : {})
    })
  ])
  const driver = inspected?.exitCode === 0 ? parseBuildxDriver(inspected.stdout) : ''
  if (inspected && inspected.exitCode !== 0)
    log.debug(`docker buildx inspect: ${lastLine(inspected)}`)
  const containerdStore =
    info.exitCode === 0 && info.stdout.includes('io.containerd.snapshotter.v1')
  return { buildkit, driver: driver || 'docker', containerdStore }
}

/**
 * Whether the build result must be loaded into the engine with `--load`: every driver but
 * `docker` keeps it in the builder's own cache otherwise ("No such image" afterwards).
 * `--load` rather than `--push`: the label (which names the repository) and the architecture
 * are checked on the local image before anything is written to ECR.
 */
export function needsLoad(builder: Builder): boolean {
  return builder.buildkit && builder.driver !== 'docker'
}

/**
 * Whether the builder can export a build cache (`--cache-to type=registry`): any BuildKit
 * driver but `docker`, and the `docker` driver on the containerd image store. The `docker`
 * driver on the classic store knows only the inline cache.
 */
export function canExportCache(builder: Builder): boolean {
  return builder.buildkit && (builder.driver !== 'docker' || builder.containerdStore)
}

/** Where a build cache can live: known only when the stack already names an image. */
export interface CacheLocation {
  /** The registry cache reference, `<registry>/<repository>:<cache tag>`. */
  ref: string
  /** The image the stack runs now (an inline cache source). */
  image: string
}

/** The tag of the registry build cache, next to the images in their repository. */
export const CACHE_TAG = 'oci-stack-deploy-cache'

/**
 * Where the build cache lives (pure): in the repository of the image the stack runs now, when
 * that image is in this account's ECR registry (`registryHost`). Undefined for a new stack.
 */
export function cacheLocation(
  previousImage: string | undefined,
  registryHost: string
): CacheLocation | undefined {
  if (previousImage === undefined) return undefined
  const parsed = parseImageUri(previousImage)
  if (parsed === undefined || parsed.host !== registryHost) return undefined
  return { ref: `${registryHost}/${parsed.repository}:${CACHE_TAG}`, image: previousImage }
}

/** The cache flags of a build and what to tell the user about them. */
export interface CachePlan {
  cacheFrom: string[]
  cacheTo: string[]
  /** Whether the build needs the ECR login (it reads or writes the registry cache). */
  needsLogin: boolean
  /** Why a requested cache is not used; shown as warnings. */
  warnings: string[]
  /** What is used, for the log. */
  summary: string
}

/**
 * The cache flags for a mode, a builder and a cache location (pure). `auto` takes the registry
 * cache where the builder can export one, else the inline cache; the legacy builder gets none.
 */
export function planBuildCache(
  mode: BuildCacheMode,
  builder: Builder,
  location: CacheLocation | undefined
): CachePlan {
  const none = (summary: string, warnings: string[] = []): CachePlan => ({
    cacheFrom: [],
    cacheTo: [],
    needsLogin: false,
    warnings,
    summary
  })
  if (mode === 'off') return none('build cache: off')
  if (!builder.buildkit) {
    return none(
      'build cache: none (the legacy builder exports no cache)',
      mode === 'auto'
        ? []
        : [
            `build-cache: ${mode} needs BuildKit, but docker build is the legacy builder here; building without it. Install the buildx plugin (docker/setup-buildx-action).`
          ]
    )
  }
  const warnings: string[] = []
  let kind: 'registry' | 'inline' = mode === 'inline' ? 'inline' : 'registry'
  if (kind === 'registry' && !canExportCache(builder)) {
    if (mode === 'registry') {
      warnings.push(
        'build-cache: registry needs a builder that exports caches (the docker driver on the classic image store does not); using the inline cache. Turn on the containerd image store, or use a docker-container builder (docker/setup-buildx-action).'
      )
    }
    kind = 'inline'
  }
  if (kind === 'inline') {
    return {
      cacheFrom: location ? [location.image] : [],
      cacheTo: ['type=inline'],
      needsLogin: location !== undefined,
      warnings,
      summary: location
        ? `build cache: inline, reusing ${location.image}`
        : 'build cache: inline (no earlier image to reuse yet)'
    }
  }
  if (location === undefined) {
    return none(
      'build cache: registry, from the next run on (the stack names no image yet)',
      warnings
    )
  }
  return {
    cacheFrom: [`type=registry,ref=${location.ref}`],
    // ignore-error: a cache that cannot be written (a missing permission) never fails a deploy.
    cacheTo: [
      `type=registry,ref=${location.ref},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true`
    ],
    needsLogin: true,
    warnings,
    summary: `build cache: registry, ${location.ref}`
  }
}
