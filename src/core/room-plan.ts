/**
 * Cutting a model for the room at hand (beyond the paper, which cuts first and places after):
 * the most balanced cut (FRIM's partitioner, `planPartitions`) whose copies Algorithm 1 can also
 * place within the devices' budgets at the target. A cut whose largest partition fits one device
 * can still be unplaceable: three copies of it may leave no device room for the rest. So the plan
 * is checked by running Algorithm 1 on an empty room; while it cannot be placed the largest
 * partition is made smaller, and then the model is cut into a few more, smaller partitions.
 */
import type { GraphAnalysis } from './onnx/graph.js';
import { PartitionError, planPartitions, type PartitionOptions, type PartitionPlan } from './onnx/partition.js';
import { planPlacement } from './placement.js';

export interface RoomCapacity {
  /** live devices: bytes each offers, and its availability a_d */
  devices: { budget: number; availability: number }[];
  /** per-partition dependability target theta */
  target: number;
}

/** a partition file's bytes beyond its weights: the graph, names, attributes */
const FILE_OVERHEAD = 64 * 1024;
const MAX_TRIES = 16;

export interface RoomPlan {
  plan: PartitionPlan;
  /** Algorithm 1 can place every partition at the target within the budgets (null: no room given) */
  placeable: boolean | null;
}

/** Can Algorithm 1 place this plan's partitions in an empty room of these devices? */
export function placeable(plan: PartitionPlan, room: RoomCapacity): boolean {
  const r = planPlacement({
    devices: room.devices.map((d, i) => ({ id: `d${String(i).padStart(3, '0')}`, alive: true, budgetBytes: d.budget, availability: d.availability, speed: 1 })),
    partitions: plan.partitions.map((p) => ({ id: p.id, bytes: p.paramBytes + FILE_OVERHEAD, flops: p.flops })),
    current: new Map(),
    target: room.target,
  });
  return r.unmet.length === 0;
}

/**
 * `parts` partitions where they can be placed; if no cut into that many can, a few more (finer
 * pieces pack into what budgets are left), up to twice as many. Unplaceable everywhere: the
 * balanced cut into `parts`, flagged, so the room serves it below the target and says so.
 */
export function planForRoom(a: GraphAnalysis, opts: PartitionOptions, room: RoomCapacity | null): RoomPlan {
  if (!room?.devices.length) return { plan: planPartitions(a, opts), placeable: null };
  if (a.variant) {
    const plan = planPartitions(a, opts);
    return { plan, placeable: placeable(plan, room) };
  }
  const first = placeableCut(a, opts, room);
  if (first.placeable) return first;
  for (let parts = opts.parts + 1; parts <= Math.min(2 * opts.parts, a.nodes.length); parts++) {
    try {
      const r = placeableCut(a, { ...opts, parts }, room);
      if (r.placeable) return r;
    } catch (e) {
      if (!(e instanceof PartitionError)) throw e;
    }
  }
  return first;
}

/** The balanced cut into `opts.parts`, its largest partition made smaller until Algorithm 1 can place it. */
function placeableCut(a: GraphAnalysis, opts: PartitionOptions, room: RoomCapacity): RoomPlan {
  let cap = opts.memoryCapBytes ?? Math.max(...room.devices.map((d) => d.budget));
  let first: PartitionPlan | null = null;
  for (let i = 0; i < MAX_TRIES; i++) {
    let plan: PartitionPlan;
    try {
      plan = planPartitions(a, { ...opts, memoryCapBytes: cap });
    } catch (e) {
      // no cut with smaller partitions exists: the first one, flagged
      if (first && e instanceof PartitionError) return { plan: first, placeable: false };
      throw e;
    }
    if (placeable(plan, room)) return { plan, placeable: true };
    first ??= plan;
    cap = Math.max(...plan.partitions.map((p) => p.paramBytes + p.inputBytes + p.outputBytes)) - 1;
  }
  return { plan: first!, placeable: false };
}
