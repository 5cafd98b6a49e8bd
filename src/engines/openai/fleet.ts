import { J1Error, errorMessage } from "../../core/errors.js";
import { affinityToken, rendezvousOrder } from "../../core/rendezvous.js";
import type { Failover, ServerFigures, SessionRoute } from "../server-route.js";
import type { RequestShape } from "./completion-request.js";
import type { HttpClient } from "./http-client.js";
import type { ServerTokenizer } from "./server-tokenizer.js";
import type { Semaphore } from "./semaphore.js";

/** The header that carries a judgment's affinity key to a router (nginx `hash $http_x_j1_affinity consistent`). */
export const AFFINITY_HEADER = "x-j1-affinity";
/** How often a server marked down is asked whether it is healthy again. */
export const DEFAULT_HEALTH_INTERVAL_MS = 2000;
const HEALTH_TIMEOUT_MS = 2000;

/** One server of the fleet: its own client (and so its own bound on requests in flight), tokenizer and figures. */
export interface FleetMember {
  readonly baseUrl: string;
  readonly client: HttpClient;
  readonly shape: RequestShape;
  readonly tokenizer: ServerTokenizer;
  readonly figures: ServerFigures;
  /**
   * Sessions seated on the server at once, as many as its slots: a judgment keeps a llama-server slot
   * (and its cache) from its first request to its last only if no more sessions than slots take turns on
   * the server; rendezvous hashing alone would send some servers more than that.
   */
  readonly seats: Semaphore;
}

/**
 * The servers an openai engine judges on (one `--base-url` is a fleet of one). A judgment's sessions go
 * to the server rendezvous hashing picks for its key (core/rendezvous.ts), so its waits, probes and
 * answer all find their prefix in that server's cache. A server whose connection is refused or dropped,
 * or that does not answer in time, is marked down; the sessions on it move to the key's next server
 * (FleetRoute), and a health check every `healthIntervalMs` brings it back once it answers again.
 */
export class ServerFleet {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    readonly members: readonly FleetMember[],
    private readonly healthIntervalMs: number = DEFAULT_HEALTH_INTERVAL_MS,
  ) {
    // Servers that did not answer at start are checked until they do.
    if (members.some((member) => !member.figures.up)) this.watch();
  }

  get size(): number {
    return this.members.length;
  }

  /** The up server with the highest weight for the key; throws when every server is down. */
  pick(key: string): FleetMember {
    const up = this.members.filter((member) => member.figures.up);
    if (up.length === 0) {
      const reasons = this.members.map((member) => `${member.baseUrl}: ${member.figures.lastError ?? "down"}`).join("; ");
      throw new J1Error("engine", `every server of the fleet is down (${reasons})`, { context: { servers: this.members.length } });
    }
    const best = rendezvousOrder(key, up.map((member) => member.baseUrl))[0];
    return up.find((member) => member.baseUrl === best) as FleetMember;
  }

  markDown(member: FleetMember, error: unknown): void {
    member.figures.lastError = errorMessage(error);
    if (!member.figures.up) return;
    member.figures.up = false;
    member.figures.downs++;
    this.watch();
  }

  figures(): ServerFigures[] {
    return this.members.map((member) => ({ ...member.figures }));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts the health checks of servers marked down (stopped again once all are up). */
  private watch(): void {
    if (this.timer || this.size < 2) return;
    this.timer = setInterval(() => void this.checkDown(), this.healthIntervalMs);
    this.timer.unref();
  }

  private async checkDown(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const down = this.members.filter((member) => !member.figures.up);
      await Promise.all(
        down.map(async (member) => {
          if (await healthy(member)) member.figures.up = true;
        }),
      );
      if (this.members.every((member) => member.figures.up)) this.dispose();
    } finally {
      this.checking = false;
    }
  }
}

/** llama-server answers GET /health with 200 once its model is loaded; other servers are asked for /models. */
async function healthy(member: FleetMember): Promise<boolean> {
  const url = member.shape.flavor === "llama-server" ? `${member.shape.root}/health` : `${member.baseUrl}/models`;
  try {
    await member.client.getJson(url, { retries: 0, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return true;
  } catch {
    return false;
  }
}

/** A failure that says the server is gone or hung (not that the request was wrong): the session moves. */
export function serverUnreachable(error: unknown): boolean {
  return error instanceof J1Error && error.context.unreachable === true;
}

/**
 * One session's way to the fleet: the server its key picks, kept for every request of the session, and
 * moved to the key's next server when that one fails. The session holds its whole sequence itself and
 * re-sends it with every request, so a request that failed is simply sent again to the new server:
 * nothing the session had is lost and nothing it counted is counted twice (a failed request reported no
 * tokens). Each move is recorded (`route()`), for the judgment.
 */
export class FleetRoute {
  private current: FleetMember;
  private readonly moves: Failover[] = [];
  /** Frees the session's seat on its server (fleets of several only). */
  private seat: (() => void) | undefined;
  readonly headers: Record<string, string>;

  constructor(
    private readonly fleet: ServerFleet,
    private readonly key: string,
  ) {
    this.current = fleet.pick(key);
    this.current.figures.sessions++;
    this.headers = { [AFFINITY_HEADER]: affinityToken(key) };
  }

  get member(): FleetMember {
    return this.current;
  }

  /** Where the session is and where it failed over from; undefined for a fleet of one (nothing to tell). */
  route(): SessionRoute | undefined {
    if (this.fleet.size < 2) return undefined;
    return { server: this.current.baseUrl, failovers: [...this.moves] };
  }

  /** A seat being waited for: requests of one session issued at once (its prompt's pieces) share one wait. */
  private admitting: Promise<void> | undefined;

  /**
   * Waits for a seat on the session's server (a fleet of several), moving on if the server goes down
   * meanwhile. Concurrent calls share one wait: each taking its own seat would leak all but one of them
   * (a session keeps one), and once a server's seats leaked every session waited on nothing that could
   * wake it, so Node ended the process with exit code 0 and no output.
   */
  admit(signal?: AbortSignal): Promise<void> {
    if (this.fleet.size < 2 || this.seat) return Promise.resolve();
    this.admitting ??= this.takeSeat(signal).finally(() => {
      this.admitting = undefined;
    });
    return this.admitting;
  }

  private async takeSeat(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const member = this.current;
      const release = await member.seats.acquire(signal);
      if (member === this.current && member.figures.up) {
        this.seat = release;
        return;
      }
      release();
      if (member === this.current) this.move(member, member.figures.lastError ?? "marked down");
    }
  }

  /** Gives the seat back (the session closed). Idempotent. */
  leave(): void {
    this.seat?.();
    this.seat = undefined;
  }

  /** Runs one request on the session's server, moving to the next server for as long as servers fail. */
  async call<T>(work: (member: FleetMember) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      await this.admit(signal);
      const member = this.current;
      // A server marked down by another session is left before it is asked (a hung one would cost a timeout).
      if (!member.figures.up && this.fleet.size > 1) {
        this.move(member, member.figures.lastError ?? "marked down");
        continue;
      }
      try {
        return await work(member);
      } catch (error) {
        if (error instanceof J1Error && error.code === "cancelled") throw error;
        member.figures.errors++;
        member.figures.lastError = errorMessage(error);
        if (this.fleet.size < 2 || !serverUnreachable(error)) throw error;
        this.fleet.markDown(member, error);
        this.move(member, errorMessage(error));
      }
    }
  }

  private move(from: FleetMember, reason: string): void {
    // The seat on the server left behind is freed first, so two sessions moving opposite ways never wait on each other.
    this.leave();
    const to = this.fleet.pick(this.key);
    from.figures.failovers++;
    to.figures.sessions++;
    this.moves.push({ from: from.baseUrl, to: to.baseUrl, error: reason });
    this.current = to;
  }
}

/** Figures of a server that has not answered anything yet. */
export function freshFigures(baseUrl: string, slots: number, up: boolean): ServerFigures {
  return { baseUrl, up, slots, sessions: 0, requests: 0, evaluatedTokens: 0, cachedTokens: 0, errors: 0, failovers: 0, downs: up ? 0 : 1 };
}
