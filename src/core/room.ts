/**
 * What every device of a room agrees on for offloading (FRIM section 4.2): which model the room
 * serves, the dependability target theta, and what each device holds and offers. Pure, so the
 * device worker, the tests and the simulator share it.
 *
 * Room settings are last-writer-wins registers (time, then device id breaks ties): any device may
 * drop a new model or change the target, every device converges on the newest value whatever
 * order the announcements arrive in, and a device that rejoins adopts the room's settings unless
 * its own are newer.
 */
import { formatBytes } from './format.js';
import type { Manifest, ManifestVariant, PartitionSpec, TensorSpec } from './onnx/manifest.js';
import { modelDependability, partitionDependability } from './availability.js';
import { hashHex } from './hash.js';
import type { Backend } from './schema.js';
import type { BatteryState } from './availability.js';

export const DEFAULT_TARGET = 0.999;

/**
 * Names one offload: the model and how it was cut. The same model cut into a different number of
 * partitions is a different offload, with different replicas.
 */
export function manifestKey(m: Manifest): string {
  return hashHex(new TextEncoder().encode(`${m.model.sha256}:${m.partitions.map((p) => p.sha256).join(',')}`));
}

export interface RoomSettings {
  /** `manifestKey` of the offload the room serves, or null */
  model: string | null;
  modelAt: number;
  modelBy: string;
  /** per-partition dependability target theta */
  target: number;
  targetAt: number;
  targetBy: string;
}

export function initialSettings(): RoomSettings {
  return { model: null, modelAt: 0, modelBy: '', target: DEFAULT_TARGET, targetAt: 0, targetBy: '' };
}

const newer = (at: number, by: string, thanAt: number, thanBy: string) => at > thanAt || (at === thanAt && by > thanBy);

/** Merges two views of the settings, field group by field group; returns the merged value. */
export function mergeSettings(mine: RoomSettings, theirs: RoomSettings): RoomSettings {
  const out = { ...mine };
  if (newer(theirs.modelAt, theirs.modelBy, mine.modelAt, mine.modelBy)) Object.assign(out, { model: theirs.model, modelAt: theirs.modelAt, modelBy: theirs.modelBy });
  if (newer(theirs.targetAt, theirs.targetBy, mine.targetAt, mine.targetBy)) Object.assign(out, { target: theirs.target, targetAt: theirs.targetAt, targetBy: theirs.targetBy });
  return out;
}

export function sameSettings(a: RoomSettings, b: RoomSettings): boolean {
  return a.model === b.model && a.modelAt === b.modelAt && a.modelBy === b.modelBy && a.target === b.target && a.targetAt === b.targetAt && a.targetBy === b.targetBy;
}

/** Targets a person can mean: at least one copy's worth, and short of certainty. */
export function isTarget(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0.5 && x <= 0.999999999;
}

export interface DefaultBudget {
  bytes: number;
  from: string;
  /** the quota, not the bounds, sets it */
  storageLimited?: boolean;
}

/**
 * The replica budget a device offers when its user has not set one: an eighth of its RAM, and at
 * most what it already holds plus half of the storage the browser still grants this origin,
 * between 64 MiB and 2 GiB. The 64 MiB floor never promises more than the quota leaves: a browser
 * whose quota is nearly used up offers only what it can really store (issue 14). Browsers that
 * report neither (plain-HTTP pages) get 256 MiB.
 *
 * `heldBytes` (the room model's copies stored here) counts as the device's own: the usage the
 * browser reports includes them, and a budget that shrank as copies arrived would push them out.
 */
export function defaultBudget(report: { deviceMemoryGiB?: number; quotaBytes?: number; usageBytes?: number; heldBytes?: number }): DefaultBudget {
  const MiB = 1024 * 1024;
  const parts: string[] = [];
  let bytes = Infinity;
  if (report.deviceMemoryGiB && report.deviceMemoryGiB > 0) {
    bytes = Math.min(bytes, (report.deviceMemoryGiB * 1024 * MiB) / 8);
    parts.push(`1/8 of ${report.deviceMemoryGiB} GiB RAM`);
  }
  let ceiling = Infinity;
  if (report.quotaBytes && report.quotaBytes > 0) {
    const held = Math.max(0, report.heldBytes ?? 0);
    const free = Math.max(0, report.quotaBytes - (report.usageBytes ?? 0));
    bytes = Math.min(bytes, held + free / 2);
    ceiling = held + free;
    parts.push('half the free storage quota');
  }
  if (!Number.isFinite(bytes)) return { bytes: 256 * MiB, from: 'default (the browser reports no memory or quota)' };
  const bounded = Math.min(2048 * MiB, Math.max(64 * MiB, bytes));
  if (bounded > ceiling) return { bytes: Math.floor(ceiling), from: `this browser's storage quota leaves only ${formatBytes(ceiling - (report.heldBytes ?? 0))} free`, storageLimited: true };
  return { bytes: Math.round(bounded), from: `${parts.join(', ')}; 64 MiB to 2 GiB` };
}

/** What one device tells the room about itself. */
export interface DeviceHoldings {
  /** hashes of verified replicas it holds (of any model) */
  holds: string[];
  /** replicas it is fetching, with the bytes verified so far */
  fetching: { hash: string; verified: number }[];
  budget: number;
  /** bytes its verified replicas of the room's model take */
  used: number;
  /**
   * partitions whose sessions are loaded in its compute worker, and the backend each got; `warm`:
   * it has run once, so its kernels are compiled (absent from older devices: taken as warm); `ms`:
   * a warm run's time there, once measured
   */
  sessions: { hash: string; backend: Backend; warm?: boolean; ms?: number }[];
  /** its Battery Status API's reading (absent: no API there, or an older device) */
  battery?: BatteryState;
}

export type CellState = 'verified' | 'transferring' | 'missing';

export interface PartitionView {
  id: number;
  hash: string;
  bytes: number;
  flops: number;
  /** live devices holding a verified copy, sorted */
  replicas: string[];
  dependability: number;
  /** `backend`: what runs the partition there, once its session is loaded; `warm`: that session has run once */
  cells: Record<string, { state: CellState; fraction: number; backend: Backend | null; warm: boolean }>;
}

/** Each partition's live verified copies and dependability D_i, and the model's D (FRIM.md). */
export function partitionViews(manifest: Manifest, devices: { id: string; alive: boolean; availability: number; holdings: DeviceHoldings | null }[]): { partitions: PartitionView[]; model: number } {
  const partitions = manifest.partitions.map((p): PartitionView => {
    const cells: PartitionView['cells'] = {};
    const replicas: string[] = [];
    const avail: number[] = [];
    for (const d of devices) {
      const h = d.holdings;
      const fetching = h?.fetching.find((f) => f.hash === p.sha256);
      if (d.alive && h?.holds.includes(p.sha256)) {
        const session = h.sessions.find((s) => s.hash === p.sha256);
        cells[d.id] = { state: 'verified', fraction: 1, backend: session?.backend ?? null, warm: sessionWarm(session) };
        replicas.push(d.id);
        avail.push(d.availability);
      } else if (d.alive && fetching) cells[d.id] = { state: 'transferring', fraction: p.bytes ? fetching.verified / p.bytes : 0, backend: null, warm: false };
      else cells[d.id] = { state: 'missing', fraction: 0, backend: null, warm: false };
    }
    return { id: p.id, hash: p.sha256, bytes: p.bytes, flops: p.flops, replicas: replicas.sort(), dependability: partitionDependability(avail), cells };
  });
  return { partitions, model: modelDependability(partitions.map((p) => p.dependability)) };
}

/** Bytes a device's verified copies of this manifest's partitions occupy. */
export function usedBytes(manifest: Manifest | null, holds: Iterable<string>): number {
  if (!manifest) return 0;
  const set = new Set(holds);
  return manifest.partitions.reduce((s, p) => (set.has(p.sha256) ? s + p.bytes : s), 0);
}

// ---- validation of manifests that arrive from peers ----

const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 512 && v.every((s) => isStr(s, 256));

function checkSpec(x: unknown): TensorSpec | null {
  if (typeof x !== 'object' || x === null) return null;
  const s = x as Record<string, unknown>;
  if (!isStr(s.name, 256) || !isStr(s.type, 32) || !Array.isArray(s.dims) || s.dims.length > 16) return null;
  if (!s.dims.every((d) => isCount(d) || isStr(d, 64))) return null;
  return { name: s.name, dims: s.dims as (number | string)[], type: s.type };
}

function checkPartition(x: unknown, index: number): PartitionSpec | null {
  if (typeof x !== 'object' || x === null) return null;
  const p = x as Record<string, unknown>;
  if (p.id !== index || !isStr(p.file, 160) || !isHash(p.sha256) || !isCount(p.bytes) || !isNames(p.inputs) || !isNames(p.outputs)) return null;
  if (typeof p.flops !== 'number' || !(p.flops >= 0) || !isCount(p.paramBytes)) return null;
  const shapes = p.inputShapes;
  if (!Array.isArray(shapes) || shapes.length !== p.inputs.length || !shapes.every((d) => d === null || (Array.isArray(d) && d.length <= 16 && d.every((x) => isCount(x) && x <= 2 ** 31)))) return null;
  return { id: p.id, file: p.file, sha256: p.sha256, bytes: p.bytes, inputs: p.inputs, inputShapes: shapes as (number[] | null)[], outputs: p.outputs, flops: p.flops, paramBytes: p.paramBytes };
}

/** A manifest from the wire, rebuilt field by field (nothing unchecked passes), or why not. */
export function checkManifest(x: unknown): Manifest | string {
  if (typeof x !== 'object' || x === null) return 'manifest is not a map';
  const m = x as Record<string, unknown>;
  if (m.format !== 1) return `manifest format ${String(m.format)} is not 1`;
  const model = m.model as Record<string, unknown> | null;
  if (typeof model !== 'object' || model === null || !isStr(model.name, 64) || !isHash(model.sha256)) return 'bad model identity';
  if (!Array.isArray(model.inputs) || !Array.isArray(model.outputs) || model.inputs.length > 64 || model.outputs.length > 64) return 'bad model inputs or outputs';
  const inputs = model.inputs.map(checkSpec);
  const outputs = model.outputs.map(checkSpec);
  if (inputs.includes(null) || outputs.includes(null)) return 'bad tensor spec';
  if (!Array.isArray(m.partitions) || m.partitions.length < 1 || m.partitions.length > 64) return 'bad partition list';
  const partitions = m.partitions.map(checkPartition);
  if (partitions.includes(null)) return 'bad partition entry';
  const variant = model.variant === undefined ? undefined : checkVariant(model.variant, (outputs as TensorSpec[]).map((o) => o.name), partitions.length);
  if (variant === null) return 'bad variant';
  return { format: 1, model: { name: model.name, sha256: model.sha256, inputs: inputs as TensorSpec[], outputs: outputs as TensorSpec[], ...(variant ? { variant } : {}) }, partitions: partitions as PartitionSpec[] };
}

function checkVariant(x: unknown, outputs: string[], parts: number): ManifestVariant | null {
  if (typeof x !== 'object' || x === null || Object.keys(x).length !== 2) return null;
  const v = x as Record<string, unknown>;
  if (v.kind !== 'early-exit' && v.kind !== 'skip-connection') return null;
  if (!Array.isArray(v.exits) || !v.exits.every((e) => isStr(e, 256) && outputs.includes(e))) return null;
  if (v.kind === 'early-exit' ? v.exits.length !== parts - 1 : v.exits.length !== 0) return null;
  return { kind: v.kind, exits: v.exits as string[] };
}

export function checkSettings(x: unknown): RoomSettings | null {
  if (typeof x !== 'object' || x === null) return null;
  const s = x as Record<string, unknown>;
  if (!(s.model === null || isHash(s.model)) || !isTime(s.modelAt) || !isStr(s.modelBy, 12) || !isTarget(s.target) || !isTime(s.targetAt) || !isStr(s.targetBy, 12)) return null;
  if (Object.keys(s).length !== 6) return null;
  return { model: s.model as string | null, modelAt: s.modelAt, modelBy: s.modelBy, target: s.target, targetAt: s.targetAt, targetBy: s.targetBy };
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** A run time a device may announce: at most 10 min, anything longer is nonsense. */
export const isRunMs = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 600_000;

/** Whether a session a device announced has run once; one announced without the flag (an older device) is taken as warm. */
export const sessionWarm = (s: DeviceHoldings['sessions'][number] | undefined): boolean => !!s && s.warm !== false;

export function checkHoldings(x: unknown): DeviceHoldings | null {
  if (typeof x !== 'object' || x === null) return null;
  const h = x as Record<string, unknown>;
  if (!Array.isArray(h.holds) || h.holds.length > 4096 || !h.holds.every(isHash)) return null;
  if (!Array.isArray(h.fetching) || h.fetching.length > 256) return null;
  const fetching: DeviceHoldings['fetching'] = [];
  for (const f of h.fetching as unknown[]) {
    const r = f as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || !isHash(r.hash) || !isCount(r.verified)) return null;
    fetching.push({ hash: r.hash, verified: r.verified });
  }
  if (!isCount(h.budget) || !isCount(h.used)) return null;
  if (!Array.isArray(h.sessions) || h.sessions.length > 4096) return null;
  const sessions: DeviceHoldings['sessions'] = [];
  for (const x of h.sessions as unknown[]) {
    const r = x as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || !isHash(r.hash) || (r.backend !== 'webgpu' && r.backend !== 'wasm')) return null;
    const extra = Object.keys(r).filter((k) => k !== 'hash' && k !== 'backend');
    if (extra.some((k) => k !== 'warm' && k !== 'ms')) return null;
    if (r.warm !== undefined && typeof r.warm !== 'boolean') return null;
    if (r.ms !== undefined && !isRunMs(r.ms)) return null;
    sessions.push({ hash: r.hash, backend: r.backend, ...(r.warm !== undefined ? { warm: r.warm as boolean } : {}), ...(r.ms !== undefined ? { ms: r.ms as number } : {}) });
  }
  let battery: BatteryState | undefined;
  if (h.battery !== undefined) {
    const b = checkBattery(h.battery);
    if (!b) return null;
    battery = b;
  }
  return { holds: h.holds as string[], fetching, budget: h.budget, used: h.used, sessions, ...(battery ? { battery } : {}) };
}

/** A battery reading from outside (a tab, a peer): level in [0, 1], charging, seconds to empty or null; nothing else. */
export function checkBattery(x: unknown): BatteryState | null {
  if (typeof x !== 'object' || x === null) return null;
  const b = x as Record<string, unknown>;
  if (Object.keys(b).some((k) => k !== 'level' && k !== 'charging' && k !== 'dischargingSec')) return null;
  if (typeof b.level !== 'number' || !(b.level >= 0 && b.level <= 1) || typeof b.charging !== 'boolean') return null;
  const t = b.dischargingSec;
  if (t !== null && (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > 30 * 86_400)) return null;
  return { level: b.level, charging: b.charging, dischargingSec: t };
}
