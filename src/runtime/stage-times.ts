/**
 * What each partition of a chain cost. On WebGPU a session's run returns once its work is queued,
 * so the time a GPU stage shows is its dispatch; the GPU work itself is paid when the chain's
 * outputs are read back at the end. That remainder is shared among the chain's GPU stages in
 * proportion to what each took when run alone (outputs read back, so the whole of its work), or
 * evenly where that is not known. WASM stages run on the worker's thread and keep their times.
 */
export function apportionStageMs(totalMs: number, measured: number[], onGpu: boolean[], soloMs: (number | undefined)[]): number[] {
  const gpu = measured.map((_, i) => i).filter((i) => onGpu[i]);
  if (!gpu.length) return measured;
  const cpuMs = measured.reduce((a, x, i) => a + (onGpu[i] ? 0 : x), 0);
  const gpuMs = Math.max(0, totalMs - cpuMs);
  const known = gpu.every((i) => (soloMs[i] ?? 0) > 0);
  const weight = (i: number) => (known ? soloMs[i]! : 1);
  const sum = gpu.reduce((a, i) => a + weight(i), 0);
  return measured.map((x, i) => (onGpu[i] ? (gpuMs * weight(i)) / sum : x));
}
