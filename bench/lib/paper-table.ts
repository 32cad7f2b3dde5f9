/** The paper's table (Liu, Chen, Gong 2025, Table 3: accuracy in % under failure), and the shape of our rows. */

export type Method = 'frim' | 'no-config' | 'early-exit' | 'skip-connection';

/** Every method the bench measures, in the table's column order. */
export const METHODS: readonly Method[] = ['frim', 'no-config', 'early-exit', 'skip-connection'];

/** One cell of our table: a model, the devices failed while its images streamed, a method. */
export interface PaperRow {
  model: string;
  /** "D1".."D3"; empty for healthy */
  failed: string[];
  method: Method;
  /** images sent */
  n: number;
  answered: number;
  lost: number;
  correct: number;
  /** correct / n: an unanswered image counts as wrong */
  accuracy: number;
  /** per request of a batch of images */
  p50Ms: number | null;
  p99Ms: number | null;
  /** wall time of the cell's stream, and of bringing its failed phones back afterwards (where the bench's time goes) */
  seconds?: number;
  restoreSeconds?: number;
}

export const FAILURE_SETS = ['D1', 'D2', 'D3', 'D1+D2', 'D2+D3', 'D1+D3'] as const;

/** The paper's columns; ours map onto No-config, DFG (skip-connection), Early exit and FRIM. */
export const PAPER_METHODS = ['No-config', 'CIODE', 'DFG', 'Early exit', 'EDGESER', 'FRIM'] as const;

/** Published accuracy (%), per model (AlexNet, ResNet, VGG-16) and failure set, in PAPER_METHODS order. */
export const PAPER: Record<string, Record<(typeof FAILURE_SETS)[number], number[]>> = {
  alexnet: {
    D1: [8.59, 9.01, 85.24, 75.36, 87.71, 87.66],
    D2: [8.01, 9.22, 82.5, 72.23, 86.5, 87.55],
    D3: [7.99, 8.85, 84.42, 73.86, 87.43, 86.31],
    'D1+D2': [7.92, 7.82, 7.98, 7.54, 8.07, 87.42],
    'D2+D3': [7.79, 7.85, 7.64, 7.43, 7.79, 86.59],
    'D1+D3': [7.88, 7.61, 71.13, 60.36, 82.11, 87.55],
  },
  resnet: {
    D1: [8.33, 7.73, 93.1, 84.2, 94.67, 95.47],
    D2: [8.14, 8.21, 93.65, 81.56, 94.5, 94.75],
    D3: [7.26, 8.03, 92.83, 80.36, 95.03, 95.64],
    'D1+D2': [8.07, 7.16, 8.01, 7.96, 8.17, 94.67],
    'D2+D3': [7.84, 8.07, 8.18, 7.82, 7.59, 94.81],
    'D1+D3': [7.13, 7.94, 82.19, 71.34, 90.23, 94.61],
  },
  vgg: {
    D1: [8.41, 8.69, 91.46, 82.42, 91.74, 92.67],
    D2: [7.36, 7.79, 92.32, 80.23, 92.61, 92.71],
    D3: [8.2, 8.71, 91.55, 83.56, 92.6, 92.65],
    'D1+D2': [7.12, 8.26, 8.31, 8.28, 9.03, 92.16],
    'D2+D3': [8.55, 7.36, 8.41, 8.32, 8.49, 91.56],
    'D1+D3': [8.13, 8.07, 82.12, 71.24, 89.71, 91.69],
  },
};

/**
 * What is wrong with a paper-table result, structurally (never its speed or accuracy): every
 * model × method × failure set present once, with consistent counts. Empty when nothing is.
 */
export function paperProblems(result: { rows?: unknown } | null, models: string[], methods: readonly Method[], failures: string[][]): string[] {
  if (!result || !Array.isArray(result.rows)) return ['no rows'];
  const rows = result.rows as PaperRow[];
  const problems: string[] = [];
  for (const model of models) {
    for (const method of methods) {
      for (const failed of failures) {
        const key = failed.join('+');
        const found = rows.filter((r) => r.model === model && r.method === method && r.failed.join('+') === key);
        if (found.length !== 1) problems.push(`${model} ${method} ${key || 'healthy'}: ${found.length} rows`);
      }
    }
  }
  for (const r of rows) {
    const where = `${r.model} ${r.method} ${r.failed.join('+') || 'healthy'}`;
    if (!(r.n > 0) || r.answered + r.lost !== r.n || r.correct > r.answered) problems.push(`${where}: counts do not add up`);
    if (Math.abs(r.accuracy - r.correct / r.n) > 1e-9) problems.push(`${where}: accuracy is not correct / n`);
    if (r.answered > 0 && (typeof r.p50Ms !== 'number' || typeof r.p99Ms !== 'number')) problems.push(`${where}: no latency`);
  }
  return problems;
}
