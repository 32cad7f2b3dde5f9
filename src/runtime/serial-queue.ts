/**
 * Runs asynchronous tasks one at a time, in the order they were given, whatever each one's
 * outcome. The compute worker puts every onnxruntime-web call behind one of these: all sessions
 * in a worker share one WebAssembly instance, and on the WebGPU backend a `run` suspends that
 * instance (asyncify) while it waits for the GPU; a second call entering it meanwhile corrupts the
 * saved stack (`memory access out of bounds`). Upstream onnxruntime does not support concurrent
 * runs on the WebGPU EP (microsoft/onnxruntime#32561, transformers.js#909), so we never make any.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** tasks queued or running */
  get length(): number {
    return this.waiting;
  }

  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.waiting++;
    const result = this.tail.then(() => task());
    this.tail = result.then(
      () => void this.waiting--,
      () => void this.waiting--,
    );
    return result;
  }
}
