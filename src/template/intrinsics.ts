/**
 * Pure: the intrinsic functions whose value is known before CloudFormation runs the template:
 * `Ref` to a parameter (its `parameter-overrides` value, else its Default), `Fn::FindInMap` (with
 * AWS::LanguageExtensions' `DefaultValue`), `Fn::Split`, `Fn::Join`, `Fn::Select`, `Fn::Length`.
 * Anything else (`Fn::GetAtt`, `Fn::ImportValue`, pseudo parameters, SSM parameter types,
 * dynamic references) is only known at deploy time, and says why.
 */

/** True for a plain object (a template mapping), not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** What a template knows before deploy: its parameters (with the values given) and mappings. */
export interface KnownValues {
  /** Declared parameters: `Type` and `Default` are read. */
  parameters: Record<string, { Type?: unknown; Default?: unknown }>
  /** `parameter-overrides`: they win over a Default. */
  values: ReadonlyMap<string, string>
  mappings: Record<string, unknown>
}

/** A value worked out before deploy, or why it cannot be. */
export type Resolved = { value: unknown } | { unknown: string }

const known = (value: unknown): Resolved => ({ value })
const unknown = (why: string): Resolved => ({ unknown: why })

/** The value of a template expression, as far as it is known before deploy. */
export function resolveValue(value: unknown, values: KnownValues): Resolved {
  if (typeof value === 'string') {
    return /\{\{resolve:/.test(value)
      ? unknown(`the dynamic reference ${value} is read at deploy time`)
      : known(value)
  }
  if (!isRecord(value) && !Array.isArray(value)) return known(value)
  if (Array.isArray(value)) return resolveAll(value, values)
  const keys = Object.keys(value)
  const fn = keys.length === 1 ? (keys[0] as string) : undefined
  const args = fn === undefined ? undefined : value[fn]
  switch (fn) {
    case 'Ref':
      return resolveRef(args, values)
    case 'Fn::FindInMap':
      return resolveFindInMap(args, values)
    case 'Fn::Split':
    case 'Fn::Join':
    case 'Fn::Select':
    case 'Fn::Length':
      return resolveListFunction(fn, args, values)
    default:
      if (fn !== undefined && (fn.startsWith('Fn::') || fn === 'Condition')) {
        return unknown(`${fn} is worked out at deploy time`)
      }
      return resolveMapping(value, values)
  }
}

function resolveAll(items: unknown[], values: KnownValues): Resolved {
  const out: unknown[] = []
  for (const item of items) {
    const resolved = resolveValue(item, values)
    if ('unknown' in resolved) return resolved
    out.push(resolved.value)
  }
  return known(out)
}

function resolveMapping(mapping: Record<string, unknown>, values: KnownValues): Resolved {
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(mapping)) {
    const resolved = resolveValue(item, values)
    if ('unknown' in resolved) return resolved
    out[key] = resolved.value
  }
  return known(out)
}

/** The list a `CommaDelimitedList` or `List<…>` value stands for. */
export function splitList(value: string): string[] {
  return value.split(',').map((item) => item.trim())
}

function resolveRef(name: unknown, values: KnownValues): Resolved {
  if (typeof name !== 'string') return unknown('Ref of an expression is worked out at deploy time')
  const declared = values.parameters[name]
  if (declared === undefined) {
    return name.startsWith('AWS::')
      ? unknown(`the pseudo parameter ${name} is known at deploy time`)
      : unknown(`Ref ${name} names no parameter of the template`)
  }
  const type = typeof declared.Type === 'string' ? declared.Type : 'String'
  if (type.startsWith('AWS::SSM::Parameter::')) {
    return unknown(`parameter ${name} is read from SSM Parameter Store at deploy time`)
  }
  const given = values.values.get(name) ?? declared.Default
  if (given === undefined || given === null) {
    return unknown(`parameter ${name} has no Default and no value in 'parameter-overrides'`)
  }
  if (Array.isArray(given)) return known(given.map((item) => String(item)))
  if (typeof given !== 'string' && typeof given !== 'number' && typeof given !== 'boolean') {
    return unknown(`parameter ${name} has a Default that is not text`)
  }
  const text = String(given)
  const isList = type === 'CommaDelimitedList' || type.startsWith('List<')
  return known(isList ? splitList(text) : text)
}

function resolveFindInMap(args: unknown, values: KnownValues): Resolved {
  if (!Array.isArray(args) || args.length < 3) return unknown('Fn::FindInMap is malformed')
  const [mapName, topKey, secondKey, options] = args as unknown[]
  const keys = resolveAll([mapName, topKey, secondKey], values)
  if ('unknown' in keys) return keys
  const [map, top, second] = (keys.value as unknown[]).map(String) as [string, string, string]
  const level = values.mappings[map]
  const entry = isRecord(level) ? level[top] : undefined
  const found = isRecord(entry) ? entry[second] : undefined
  if (found !== undefined) return resolveValue(found, values)
  if (isRecord(options) && 'DefaultValue' in options) {
    return resolveValue(options['DefaultValue'], values)
  }
  return unknown(`Fn::FindInMap finds nothing at ${map}.${top}.${second}`)
}

function resolveListFunction(fn: string, args: unknown, values: KnownValues): Resolved {
  const resolved = resolveValue(args, values)
  if ('unknown' in resolved) return resolved
  const a = resolved.value
  if (fn === 'Fn::Length') return Array.isArray(a) ? known(a.length) : malformed(fn)
  if (!Array.isArray(a) || a.length !== 2) return malformed(fn)
  const [first, second] = a as [unknown, unknown]
  if (fn === 'Fn::Split' && typeof first === 'string' && typeof second === 'string') {
    return known(second.split(first))
  }
  if (fn === 'Fn::Join' && typeof first === 'string' && Array.isArray(second)) {
    return known(second.map(String).join(first))
  }
  if (fn === 'Fn::Select' && Array.isArray(second)) {
    const item: unknown = second[Number(first)]
    return item === undefined ? malformed(fn) : known(item)
  }
  return malformed(fn)
}

function malformed(fn: string): Resolved {
  return unknown(`${fn} is malformed or does not fit its arguments`)
}
