import { describe, expect, it } from 'vitest';
import type { InferenceMode } from '../../core/protocol.js';
import { InferenceRoom } from '../../testing/inference-room.js';
import { TINY_EARLY_EXIT, TINY_SAMPLE, TINY_SKIP, type TinyModel } from '../../testing/tiny-models.js';

const id = (i: number) => `device${String(i).padStart(6, '0')}`;
const label = (i: number) => TINY_SAMPLE.labels[i % TINY_SAMPLE.count];

/** Device 0 asks; partition k runs on device k + 1 (the skip model's output layer on device 0, as in the bench). */
async function baselineRun(model: TinyModel, mode: InferenceMode, kill: number[], count = 40, batch = 1) {
  const n = model.manifest.partitions.length;
  const stages = Array.from({ length: n }, (_, k) => (k === 3 ? 0 : k + 1));
  const room = new InferenceRoom({ devices: 4, holders: stages.map((d) => [d]), model });
  await room.run(2000);
  room.device(0).inference.run({ count, ratePerSec: 10 / batch, mode, path: stages.map(id), batch });
  await room.clock.advance(0);
  await room.run(1000);
  for (const k of kill) room.kill(k);
  await room.run(20_000);
  const v = room.device(0).inference.view();
  expect(v.error).toBeNull();
  expect(v.answered + v.lost).toBe(count);
  expect(v.reissued).toBe(0);
  return v;
}

/** Requests issued after the failure was detected (the last `tail`), by what they answered. */
const tailAnswers = (v: Awaited<ReturnType<typeof baselineRun>>, tail: number) => v.predictions.slice(-tail).map((p, j) => (p === null ? null : (p - label(v.predictions.length - tail + j) + 10) % 10));

describe("the paper's baselines run as real systems in the room", () => {
  it('early-exit, healthy: every answer comes from the final classifier', async () => {
    const v = await baselineRun(TINY_EARLY_EXIT, 'early-exit', []);
    expect([v.answered, v.correct, v.lost]).toEqual([40, 40, 0]);
  });

  it("early-exit: the second partition's device fails, and requests are answered by the first exit", async () => {
    const v = await baselineRun(TINY_EARLY_EXIT, 'early-exit', [2]);
    expect(v.lost).toBe(0);
    expect(tailAnswers(v, 20)).toEqual(new Array(20).fill(1)); // exit 1 answers label + 1
    expect(v.recent.at(-1)!.note).toMatch(/answered by the exit after partition 0/);
  });

  it("early-exit: the last partition's device fails, and the second exit answers", async () => {
    const v = await baselineRun(TINY_EARLY_EXIT, 'early-exit', [3]);
    expect(v.lost).toBe(0);
    expect(tailAnswers(v, 20)).toEqual(new Array(20).fill(2));
  });

  it("early-exit: the first partition's device fails, and nothing can answer", async () => {
    const v = await baselineRun(TINY_EARLY_EXIT, 'early-exit', [1]);
    expect(tailAnswers(v, 20)).toEqual(new Array(20).fill(null));
    expect(v.answered).toBeGreaterThan(0); // those finished before the failure
  });

  it('skip-connection: a failed partition is bypassed with zeros and the hyper-connection carries the request on', async () => {
    const first = await baselineRun(TINY_SKIP, 'skip-connection', [1]);
    expect(tailAnswers(first, 20)).toEqual(new Array(20).fill(0));
    // what was in flight on the failed device goes on once its failure is known: from the requester (it handed those over) ...
    expect(first.lost).toBe(0);
    const second = await baselineRun(TINY_SKIP, 'skip-connection', [2]);
    // ... or from the device before it, which kept what it sent
    expect(second.lost).toBe(0);
    const third = await baselineRun(TINY_SKIP, 'skip-connection', [3]);
    expect(third.lost).toBe(0);
    expect(tailAnswers(third, 20)).toEqual(new Array(20).fill(5)); // the output layer answered from h2
  });

  it('skip-connection: two neighbouring partitions fail and the answers collapse (zeros all the way)', async () => {
    const v = await baselineRun(TINY_SKIP, 'skip-connection', [1, 2]);
    // h2 and h1 both zero: the classifier sees an empty image and says 0 whatever the label
    const tail = v.predictions.slice(-20);
    expect(tail.every((p) => p === 0)).toBe(true);
  });

  it('requests of several images: a bypass fills zeros for the whole batch, and every image is counted', async () => {
    const v = await baselineRun(TINY_SKIP, 'skip-connection', [3], 64, 8);
    expect(v.batch).toBe(8);
    expect(v.sent).toBe(64);
    // lost requests count all their images; the answered ones after the failure come from the output hyper-connection
    expect(v.answered % 8).toBe(0);
    expect(tailAnswers(v, 16)).toEqual(new Array(16).fill(5));
  });

  it('a mode the model was not trained for is refused with the reason', async () => {
    const room = new InferenceRoom({ devices: 4, holders: [[1], [2], [3]], model: TINY_EARLY_EXIT });
    await room.run(1000);
    room.device(0).inference.run({ count: 5, ratePerSec: 10, mode: 'skip-connection' });
    await room.clock.advance(0);
    expect(room.device(0).inference.view().error).toMatch(/skip hyper-connections/);
  });
});
