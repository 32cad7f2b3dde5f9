import { describe, expect, it } from 'vitest';
import { resnet50, vgg16 } from '../../scripts/big/models.js';
import { analyseModel } from './onnx/graph.js';
import { decodeModel } from './onnx/model.js';
import { planPartitions } from './onnx/partition.js';
import { placeable, planForRoom, type RoomCapacity } from './room-plan.js';

// ImageNet-shaped models at an eighth of their width (a few MiB): VGG-16's first dense layer holds
// most of its weights, which is what makes placing copies within small budgets hard
const vggBytes = vgg16(8);
const vgg = analyseModel(decodeModel(vggBytes));
const room = (bytes: number, n: number, fraction: number, target: number): RoomCapacity =>
  ({ devices: Array.from({ length: n }, () => ({ budget: Math.floor(bytes * fraction), availability: 0.905 })), target });

describe('cutting for the room at hand', () => {
  it('without a room, it is the plain balanced cut', () => {
    expect(planForRoom(vgg, { parts: 4 }, null)).toEqual({ plan: planPartitions(vgg, { parts: 4 }), placeable: null });
  });

  it('devices each offering less than the model: a cut whose copies all fit, where the balanced one does not', () => {
    const five = room(vggBytes.length, 5, 0.95, 0.999);
    expect(placeable(planPartitions(vgg, { parts: 4, memoryCapBytes: five.devices[0].budget }), five)).toBe(false);
    const r = planForRoom(vgg, { parts: 4 }, five);
    expect(r.placeable).toBe(true);
    expect(r.plan.partitions).toHaveLength(4);
    // the same model, every weight somewhere
    expect(r.plan.partitions.reduce((s, p) => s + p.paramBytes, 0)).toBe(vgg.totalParamBytes);
  });

  it('finer pieces when no cut into as many as asked can be placed', () => {
    const bytes = resnet50(8);
    const a = analyseModel(decodeModel(bytes));
    const tight = room(bytes.length, 5, 0.8, 0.999);
    expect(placeable(planPartitions(a, { parts: 4, memoryCapBytes: tight.devices[0].budget }), tight)).toBe(false);
    const r = planForRoom(a, { parts: 4 }, tight);
    expect(r.placeable).toBe(true);
    expect(r.plan.partitions.length).toBeGreaterThan(4);
  });

  it('says so when no cut can be placed, and still returns the balanced one', () => {
    const r = planForRoom(vgg, { parts: 4 }, room(vggBytes.length, 4, 0.8, 0.999));
    expect(r.placeable).toBe(false);
    expect(r.plan.partitions).toHaveLength(4);
  });
});
