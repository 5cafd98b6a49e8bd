import type { RunReport, SweepPoint } from "../report-types.js";

/**
 * Report fields whose values depend on the machine's caches rather than on the run's judgments: how many
 * tokens the engine evaluated depends on what its prefix cache held (a resumed run starts cold, a reused
 * judgment costs nothing now), so these may differ between a resumed and an uninterrupted run. Renderers
 * label them "(cache-dependent)". Everything else in a report is computed from the stored judgments alone.
 */
export const CACHE_DEPENDENT_SWEEP_FIELDS = ["meanEvaluatedTokens"] as const satisfies ReadonlyArray<keyof SweepPoint>;

/** The label renderers put after a cache-dependent figure's name. */
export const CACHE_DEPENDENT_LABEL = "(cache-dependent)";

/**
 * A report without what may differ between two runs that made the same judgments: the run's identity
 * (id, creation time, label), its recorded warnings (engine notes of the process that ran it) and the
 * cache-dependent fields. A resumed run and an uninterrupted one with the same settings give equal
 * machine-independent reports.
 */
export function machineIndependent(report: RunReport): Omit<RunReport, "runId" | "createdAt" | "label" | "warnings"> {
  const { runId: _id, createdAt: _created, label: _label, warnings: _warnings, ...rest } = report;
  return {
    ...rest,
    benchmarks: report.benchmarks.map((bench) => ({
      ...bench,
      sweep: bench.sweep?.map((point) => {
        const copy: Partial<SweepPoint> = { ...point };
        for (const field of CACHE_DEPENDENT_SWEEP_FIELDS) delete copy[field];
        return copy as SweepPoint;
      }),
    })),
  };
}
