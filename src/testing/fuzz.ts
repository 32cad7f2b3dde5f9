/**
 * Shared settings for the property-based fuzz tests (`*.fuzz.test.ts`, fast-check): one fixed seed
 * so a failure seen in CI reproduces here, case counts sized for a CI run, and more of everything
 * with FUZZ_SCALE (FUZZ_SCALE=20 npx vitest run fuzz). FUZZ_SEED picks another seed; FUZZ_DEBUG=1
 * names each ONNX case before it runs, to find one that hangs.
 *
 * The property every decoder of outside bytes must hold: an input ends in a valid result or in a
 * clean rejection that says why (a returned reason, or one of our typed errors with a message),
 * never an exception of any other kind, and within a time bound (a hang or a loop over a huge
 * count read from the input).
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261203);
export const FUZZ_SCALE = Math.max(0.01, Number(process.env.FUZZ_SCALE ?? 1));

/** fast-check parameters: `runs` cases at scale 1, the fixed seed, every failure shrunk and reported. */
export function fuzz(runs: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * FUZZ_SCALE)), endOnFailure: false };
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `f` on one input: its result, or the rejection it threw when that is one of `allowed` with a
 * message. Anything else thrown, or a run longer than `boundMs`, fails the case.
 */
export function cleanly<T>(f: () => T, allowed: ErrorClass[], boundMs: number): { ok: true; value: T } | { ok: false; error: Error } {
  const t0 = performance.now();
  let out: { ok: true; value: T } | { ok: false; error: Error };
  try {
    out = { ok: true, value: f() };
  } catch (e) {
    if (!allowed.some((c) => e instanceof c)) throw new Error(`escaped: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    if (!(e as Error).message) throw new Error(`a ${(e as Error).constructor.name} without a message`);
    out = { ok: false, error: e as Error };
  }
  const ms = performance.now() - t0;
  if (ms > boundMs) throw new Error(`took ${ms.toFixed(0)} ms, over the ${boundMs} ms bound`);
  return out;
}

/** Byte-level mutations of a valid input: truncation, flipped bytes, overwritten runs, spliced garbage. */
export function mutatedBytes(input: Uint8Array): fc.Arbitrary<Uint8Array> {
  // a copy that is a plain Uint8Array: a Node Buffer's slice() is a view, and mutating it would corrupt the seed
  const valid = new Uint8Array(input);
  const n = valid.length;
  const at = fc.nat({ max: Math.max(0, n - 1) });
  return fc.oneof(
    at.map((k) => valid.slice(0, k)),
    fc.array(fc.tuple(at, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
      const out = valid.slice();
      for (const [i, x] of flips) out[i] ^= x;
      return out;
    }),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([i, junk]) => {
      const out = valid.slice();
      out.set(junk.subarray(0, n - i), i);
      return out;
    }),
    fc.tuple(at, fc.uint8Array({ maxLength: 64 })).map(([i, junk]) => {
      const out = new Uint8Array(n + junk.length);
      out.set(valid.subarray(0, i));
      out.set(junk, i);
      out.set(valid.subarray(i), i + junk.length);
      return out;
    }),
  );
}

/** `cleanly` for decoders that return their rejections as values: nothing may be thrown at all. */
export function returns<T>(f: () => T, boundMs: number): T {
  const r = cleanly(f, [], boundMs);
  if (!r.ok) throw r.error;
  return r.value;
}

/** a test's time limit at this scale: `ms` at scale 1 */
export function fuzzTimeout(ms: number): number {
  return Math.max(ms, Math.round(ms * FUZZ_SCALE));
}
