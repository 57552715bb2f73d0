// The bench scripts' settings from the environment (BENCH_RUNS=5 and the like): a number that is
// not positive, or not whole where a count is asked for, stops the script with the variable named.

/** `process.env[name]` as a positive number; `fallback` when unset or empty. */
export function positiveNumber(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!(value > 0)) throw new Error(`${name}=${raw}: give a positive number`)
  return value
}

/** `process.env[name]` as a positive whole number; `fallback` when unset or empty. */
export function positiveInt(name, fallback) {
  const value = positiveNumber(name, fallback)
  if (!Number.isInteger(value)) throw new Error(`${name}=${value}: give a whole number`)
  return value
}
