/**
 * Registry credentials, shared by the ECR token reader (aws/), the docker login (docker/) and the
 * registry HTTP API (registry/), which never import each other.
 */

/** Registry credentials; the password is masked before this is built. */
export interface RegistryLogin {
  registry: string
  username: string
  password: string
}
