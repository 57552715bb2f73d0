/** The step outputs, set once each as soon as a run knows them. */
import * as core from '@actions/core'
import type { KnownValues } from './model.js'

/** The output names the action itself sets (a stack output of the same name is not copied). */
export type OutputName =
  | 'image-uri'
  | 'image-digest'
  | 'build-id'
  | 'template-url'
  | 'stack-id'
  | 'stack-status'
  | 'change-set-id'
  | 'outputs'
  | 'has-changes'
  | 'changes-count'
  | 'changes-summary'
  | 'changes-markdown'
  | 'image-uri-pinned'
  | 'archive-key'
  | 'archive-version'
  | 'deployments'
  | 'stack-set-id'
  | 'operation-id'
  | 'instances'

/**
 * Sets each step output as soon as it is known, so a run that fails later still leaves the image it
 * pushed, the template it uploaded and the stack it touched. Setting a name again with the same
 * value writes nothing; `setOutputs` at the end goes through the same sink.
 */
export class OutputSink {
  private readonly values = new Map<string, string>()

  constructor(private readonly write: (name: string, value: string) => void = core.setOutput) {}

  /** Sets one output unless it already holds this value. */
  set(name: string, value: string): void {
    if (this.values.get(name) === value) return
    this.values.set(name, value)
    this.write(name, value)
  }

  /** The value set for `name`, if any. */
  get(name: OutputName): string | undefined {
    return this.values.get(name)
  }

  /** After the push: image-uri, image-digest and, when there is one, image-uri-pinned. */
  image(image: { imageUri: string; imageDigest: string; imageUriPinned?: string }): void {
    this.set('image-uri', image.imageUri)
    this.set('image-digest', image.imageDigest)
    if (image.imageUriPinned) this.set('image-uri-pinned', image.imageUriPinned)
  }

  /** Zip mode, after the package upload: archive-key and archive-version. */
  archive(key: string, version: string | undefined): void {
    this.set('archive-key', key)
    this.set('archive-version', version ?? '')
  }

  /** After the template upload. */
  template(url: string): void {
    this.set('template-url', url)
  }

  /** Once the stack has an id (the change set made it, or it existed). */
  stack(stackId: string): void {
    if (stackId) this.set('stack-id', stackId)
  }

  /** Once the change set exists. */
  changeSet(changeSetId: string): void {
    if (changeSetId) this.set('change-set-id', changeSetId)
  }

  /** What is known so far, as the failure summary's "done before the failure" shows it. */
  known(): KnownValues {
    const pick = (name: OutputName) => this.values.get(name) || undefined
    const known: KnownValues = {
      imageUri: pick('image-uri'),
      imageDigest: pick('image-digest'),
      imageUriPinned: pick('image-uri-pinned'),
      archiveKey: pick('archive-key'),
      templateUrl: pick('template-url'),
      stackId: pick('stack-id'),
      changeSetId: pick('change-set-id'),
      buildId: pick('build-id')
    }
    return Object.fromEntries(Object.entries(known).filter(([, value]) => value !== undefined))
  }
}
