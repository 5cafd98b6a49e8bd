import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import { J1Error, errorMessage } from "../core/errors.js";

/**
 * A running HTTP service with an explicit lifecycle: `listen` resolves once the port is bound (port 0
 * picks a free one), `close` stops accepting, lets requests in flight finish, and resolves when the last
 * connection is gone. Idle keep-alive connections are closed at once, busy ones as soon as they turn
 * idle; a connection still busy after `graceMs` is cut, so a stuck client cannot hold the process forever.
 */
export interface RunningServer {
  url: string;
  host: string;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export async function listen(app: Hono | RequestListener, host: string, port: number): Promise<RunningServer> {
  // A hono app through its node adapter, or a plain node:http listener (the reward service: reward-listener.ts).
  const server = typeof app === "function" ? createServer(app) : (createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server);
  // Trainers keep connections open between steps; keep them longer than a typical client's idle time.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const hint = error.code === "EADDRINUSE" ? ": the port is taken (choose another with --port, or 0 for any free port)" : "";
      reject(new J1Error("bad-input", `cannot listen on ${host}:${port} (${errorMessage(error)})${hint}`, { context: { field: "--port" }, cause: error }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        // A keep-alive connection busy now turns idle when its response is sent; close those as they
        // come, or close() would wait for the client to hang up.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        cut.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM; a second one then ends the process the default way. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
