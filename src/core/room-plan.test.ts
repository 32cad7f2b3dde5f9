import { describe, expect, it } from 'vitest';
import { vgg16 } from '../../scripts/big/models.js';
import { analyseModel } from './onnx/graph.js';
import { decodeModel } from './onnx/model.js';
import { planPartitions } from './onnx/partition.js';
import { placeable, planForRoom } from './room-plan.js';

// VGG-16's layout at an eighth of its width (~10 MiB): its first dense layer holds most of the
// weights, which is what makes placing copies of it within small budgets hard
const bytes = vgg16(8);
const vgg = analyseModel(decodeModel(bytes));
const room = (fraction: number, target: number, n = 4) => ({ devices: Array.from({ length: n }, () => ({ budget: Math.floor(bytes.length * fraction), availability: 0.905 })), target });

describe('cutting for the room at hand', () => {
  it('without a room, it is the plain balanced cut', () => {
    expect(planForRoom(vgg, { parts: 4 }, null)).toEqual({ plan: planPartitions(vgg, { parts: 4 }), placeable: null });
  });

  it('four devices, each offering less than the model: a cut whose copies all fit, where the balanced one does not', () => {
    const r80 = room(0.95, 0.99);
    const balanced = planPartitions(vgg, { parts: 4, memoryCapBytes: r80.devices[0].budget });
    expect(placeable(balanced, r80)).toBe(false);
    const r = planForRoom(vgg, { parts: 4 }, r80);
    expect(r.placeable).toBe(true);
    expect(placeable(r.plan, r80)).toBe(true);
    // the same model, every weight somewhere
    expect(r.plan.partitions.reduce((s, p) => s + p.paramBytes, 0)).toBe(vgg.totalParamBytes);
  });

  it('finer pieces when no cut into as many as asked can be placed', () => {
    // at a quarter width (~36 MiB) the first dense layer is three quarters of the model
    const wide = vgg16(4);
    const a = analyseModel(decodeModel(wide));
    const tight = { devices: Array.from({ length: 4 }, () => ({ budget: Math.floor(wide.length * 0.98), availability: 0.905 })), target: 0.999 };
    expect(placeable(planPartitions(a, { parts: 4, memoryCapBytes: tight.devices[0].budget }), tight)).toBe(false);
    const r = planForRoom(a, { parts: 4 }, tight);
    expect(r.placeable).toBe(true);
    expect(r.plan.partitions.length).toBeGreaterThan(4);
  });

  it('says so when no cut can be placed, and still returns the balanced one', () => {
    const r = planForRoom(vgg, { parts: 4 }, room(0.8, 0.999));
    expect(r.placeable).toBe(false);
    expect(r.plan.partitions).toHaveLength(4);
  });
});
