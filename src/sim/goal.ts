/** The simulator's goal for a room (issue 12), checked the same way by `npm run sim` and the report. */

export interface GoalInput {
  answeredFraction: number;
  bytesMoved: number;
  fixed2: { answeredFraction: number };
  fixed3: { bytesMoved: number };
}

/**
 * Where fixed 2 copies drop requests, FRIM answers at least 99.9 % of them and moves fewer replica
 * bytes than fixed 3 copies. null: fixed 2 dropped nothing, so this room's churn does not test it.
 */
export function goalMet(r: GoalInput): boolean | null {
  if (r.fixed2.answeredFraction >= 1) return null;
  return r.answeredFraction >= 0.999 && r.bytesMoved < r.fixed3.bytesMoved;
}
