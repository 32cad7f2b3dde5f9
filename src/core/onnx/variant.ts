/**
 * Baseline variants of a model (the paper's table, FRIM 5.2): a model trained with exit heads at its
 * partition boundaries (`early-exit`) or with skip hyper-connections over each partition
 * (`skip-connection`, the DFG / ResiliNet idea). Such a model says so in its ONNX metadata, with the
 * tensors after which it must be cut: its exits and hyper-connections only work at those cuts.
 *
 *   frim.variant  early-exit | skip-connection
 *   frim.cuts     comma-separated tensor names; partition k ends with the node producing the k-th
 *   frim.exits    early-exit only: the exit outputs, one per partition but the last, in order
 */
import { ModelError } from './errors.js';
import type { ModelProto } from './proto.js';

export type VariantKind = 'early-exit' | 'skip-connection';

export interface ModelVariant {
  kind: VariantKind;
  cuts: string[];
  /** early-exit: the graph output each partition but the last answers with */
  exits: string[];
}

const KINDS: readonly VariantKind[] = ['early-exit', 'skip-connection'];

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The variant a model declares, checked against its graph; null for an ordinary model. */
export function readVariant(model: ModelProto, producerPosition: ReadonlyMap<string, number>, graphOutputs: readonly string[]): ModelVariant | null {
  const meta = new Map((model.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const kind = meta.get('frim.variant');
  if (kind === undefined) return null;
  const bad = (why: string) => new ModelError('bad-variant', `The model says it is a ${kind} variant, but ${why}.`);
  if (!KINDS.includes(kind as VariantKind)) throw new ModelError('bad-variant', `The model's frim.variant is "${kind.slice(0, 40)}"; frim-mesh knows ${KINDS.join(' and ')}.`);
  const cuts = list(meta.get('frim.cuts'));
  if (!cuts.length) throw bad('its frim.cuts names no tensor to cut after');
  let last = -1;
  for (const c of cuts) {
    const at = producerPosition.get(c);
    if (at === undefined) throw bad(`no operator produces "${c.slice(0, 80)}", named in frim.cuts`);
    if (at <= last) throw bad('its frim.cuts are not in the order the graph computes them');
    last = at;
  }
  const exits = kind === 'early-exit' ? list(meta.get('frim.exits')) : [];
  if (kind === 'early-exit') {
    if (exits.length !== cuts.length) throw bad(`it has ${exits.length} exits for ${cuts.length + 1} partitions (one per partition but the last)`);
    const missing = exits.find((e) => !graphOutputs.includes(e));
    if (missing) throw bad(`its exit "${missing.slice(0, 80)}" is not an output of the model`);
    if (graphOutputs[0] && exits.includes(graphOutputs[0])) throw bad('its first output, the answer, is also listed as an exit');
  }
  return { kind: kind as VariantKind, cuts, exits };
}
