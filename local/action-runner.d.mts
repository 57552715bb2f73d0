/** What one run of the bundled action produced. */
export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Epoch milliseconds: spawned, first stdout byte (null if none was captured), exited. */
  timing: { spawnedAt: number; firstOutputAt: number | null; exitedAt: number }
}
export function parseOutputFile(text: string): Record<string, string>
export function runAction(
  root: string,
  inputs: Record<string, string>,
  options?: {
    env?: Record<string, string>
    stdio?: 'inherit' | 'pipe'
    signal?: { pattern: RegExp; delayMs?: number; name?: NodeJS.Signals }
  }
): Promise<ActionRun>
/** Temporary credentials, as the SDK takes them. */
export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
}
export function createBucket(
  bucket: string,
  options?: { versioning?: boolean; region?: string; credentials?: Credentials }
): Promise<void>
export function assumeRole(
  account: string,
  options?: { role?: string; sessionName?: string }
): Promise<Credentials>
export function credentialsEnv(credentials: Credentials): Record<string, string>
