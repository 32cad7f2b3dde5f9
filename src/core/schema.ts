/**
 * A tiny parser kit for message tables: each field is a parser that returns the typed value or
 * an `Invalid` with its reason, so a table of fields both validates a message and, through
 * TypeScript inference, defines its type. Both protocols (mesh frames, worker ⇄ tab) use it.
 */
export interface Invalid {
  readonly invalid: string;
}
export type Parse<T> = (v: unknown) => T | Invalid;
export type Parsed<P> = P extends Parse<infer T> ? T : never;
export type Fields = Record<string, Parse<unknown>>;
export type BodyOf<F extends Fields> = { [K in keyof F]: Parsed<F[K]> };

export function invalid(reason: string): Invalid {
  return { invalid: reason };
}
export function isInvalid(v: unknown): v is Invalid {
  return typeof v === 'object' && v !== null && typeof (v as Invalid).invalid === 'string' && Object.keys(v).length === 1;
}

/** A parser from a checker that returns the value, or why it is bad (a string), or null (then `reason`). */
export function checked<T>(check: (v: unknown) => T | string | null, reason: string): Parse<T> {
  return (v) => {
    const r = check(v);
    return r === null ? invalid(reason) : typeof r === 'string' ? invalid(r) : r;
  };
}

/** A parser from a type guard; `reason` is what a bad value reports. */
export function guard<T>(test: (v: unknown) => v is T, reason: string): Parse<T>;
export function guard<T>(test: (v: unknown) => boolean, reason: string): Parse<T>;
export function guard<T>(test: (v: unknown) => boolean, reason: string): Parse<T> {
  return (v) => (test(v) ? (v as T) : invalid(reason));
}

export function oneOf<const T extends readonly (string | boolean | number)[]>(values: T, reason: string): Parse<T[number]> {
  return guard<T[number]>((v) => values.includes(v as T[number]), reason);
}

export function listOf<T>(item: (v: unknown) => boolean, max: number, reason: string): Parse<T[]> {
  return guard<T[]>((v) => Array.isArray(v) && v.length <= max && v.every(item), reason);
}

export function orNull<T>(p: Parse<T>): Parse<T | null> {
  return (v) => (v === null ? null : p(v));
}

/**
 * Parses a plain object against `fields`: every field must parse, and a field the table does not
 * name is refused, not ignored (a peer cannot smuggle data past the schema).
 */
export function parseFields<F extends Fields>(fields: F, body: unknown, skip: readonly string[] = []): BodyOf<F> | Invalid {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('body is not a map');
  const b = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, parse] of Object.entries(fields)) {
    const v = parse(b[name]);
    if (isInvalid(v)) return v;
    out[name] = v;
  }
  const extra = Object.keys(b).find((k) => !(k in fields) && !skip.includes(k));
  return extra === undefined ? (out as BodyOf<F>) : invalid(`unexpected field ${extra}`);
}

// ---- field parsers both protocols share ----
export const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
export const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
export const text = (max: number, reason: string): Parse<string> => guard<string>((v) => typeof v === 'string' && v.length <= max, reason);
export const uint = (reason: string): Parse<number> => guard(isUint, reason);
export const time = (reason: string): Parse<number> => guard(isTime, reason);
export const hash = (reason: string): Parse<string> => guard(isHash, reason);
/** where a device runs its partitions: WebGPU, or WebAssembly where there is no GPU adapter */
export const backend = oneOf(['webgpu', 'wasm'] as const, 'bad backend');
export type Backend = Parsed<typeof backend>;
