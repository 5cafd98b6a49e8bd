import path from "node:path";

/** Where `j1 eval` and `j1 runs` keep their runs: $J1_STORE, else `.j1/runs.sqlite` in the current folder. */
export function defaultStorePath(environment: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const configured = environment.J1_STORE;
  if (configured !== undefined && configured.trim() !== "") return path.resolve(cwd, configured);
  return path.join(cwd, ".j1", "runs.sqlite");
}
