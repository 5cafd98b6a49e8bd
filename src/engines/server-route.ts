/**
 * Where an engine's sessions ran, for engines that spread them over several servers (the openai engine
 * with a fleet of `--base-url`s). A judgment records its server and any failover; a run and `/health`
 * show the figures per server.
 */

/** One move of a session from a server that failed to another, with the failure that caused it. */
export interface Failover {
  from: string;
  to: string;
  error: string;
}

/** The server a session ended on, and the servers it left on the way (empty when none failed). */
export interface SessionRoute {
  server: string;
  failovers: Failover[];
}

/** One server's figures since the engine started. */
export interface ServerFigures {
  baseUrl: string;
  /** False while the server is marked down (it rejoins when its health check answers again). */
  up: boolean;
  /** Requests it may have in flight at once (its llama-server slots, or --parallel). */
  slots: number;
  /** Sessions (one order and sample of a judgment) routed to it, failed-over ones included. */
  sessions: number;
  /** Completion requests it answered. */
  requests: number;
  evaluatedTokens: number;
  /** Prompt tokens it reused from its prefix cache. */
  cachedTokens: number;
  /** Requests that failed on it (after retries), those that made a session fail over included. */
  errors: number;
  /** Sessions that left it for another server. */
  failovers: number;
  /** Times it was marked down. */
  downs: number;
  lastError?: string;
}
