/**
 * Registry access for one run: one ECR token and one `docker login`, in a private DOCKER_CONFIG
 * that the session removes at the end; a fresh login when a push was refused.
 */
import type { RegistryLogin } from '../base/registry-login.js'
import { createDockerConfig, login, type DockerConfig } from '../docker/docker.js'
import { getRegistryLogin } from '../aws/ecr.js'
import type { FlowContext } from './flow-context.js'

/** One ECR login per run, in a private DOCKER_CONFIG that the session removes at the end. */
export interface RegistryAccess {
  /** The private docker config (made on first use). */
  config(): DockerConfig
  /** The registry credentials (the password is masked when they are read). */
  credentials(): Promise<RegistryLogin>
  /** `docker login` once; later calls reuse it. */
  login(): Promise<RegistryLogin>
  /** A fresh token and a new `docker login` (after a push was refused). */
  relogin(): Promise<void>
}

/** Nothing happens until it is used: no directory, no token, no login. */
export function createRegistryAccess(ctx: FlowContext): RegistryAccess {
  let dockerConfig: DockerConfig | undefined
  const config = (): DockerConfig => {
    if (dockerConfig === undefined) {
      const created = createDockerConfig()
      ctx.session.onDispose(() => created.dispose())
      dockerConfig = created
    }
    return dockerConfig
  }
  let creds: Promise<RegistryLogin> | undefined
  let loggedIn: Promise<void> | undefined
  const access: RegistryAccess = {
    config,
    credentials: () => (creds ??= getRegistryLogin(ctx.aws.ecr)),
    login: async () => {
      const current = await access.credentials()
      await (loggedIn ??= login(ctx.runner, config(), current))
      return current
    },
    relogin: async () => {
      creds = getRegistryLogin(ctx.aws.ecr)
      loggedIn = login(ctx.runner, config(), await creds)
      await loggedIn
    }
  }
  return access
}
