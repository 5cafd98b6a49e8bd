import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { RewardRoutes, type RewardAppOptions, type RewardReply } from "./reward-routes.js";

export type { RewardAppOptions } from "./reward-routes.js";

/**
 * The reward service as a hono app: OpenRLHF's remote-reward protocol on `POST /get_reward`, a
 * verl-shaped `POST /score` (what `j1 reward verl` generates a client for), and `GET /health`. The routes
 * themselves (validation, scoring, refusals) are in reward-routes.ts, shared with the node:http listener
 * that `j1 reward serve` runs (reward-listener.ts); this face only carries them, for applications that
 * mount the service in their own hono app. Errors answer with {"error": message}: a 400 names the field,
 * anything unexpected is a 500 that says nothing about the inside.
 */
export function createRewardApp(options: RewardAppOptions): Hono {
  const routes = new RewardRoutes(options);
  const app = new Hono();
  const reply = (c: Context, answer: RewardReply) => c.body(answer.body, answer.status as ContentfulStatusCode, answer.headers);

  app.use("*", async (c, next) => {
    const refused = routes.sameSite(c.req.method, c.req.header("host"), c.req.header("origin"));
    if (refused) return reply(c, refused);
    await next();
  });

  app.get("/health", (c) => reply(c, routes.health()));

  // A chunked body has no length to judge it by: hono's bodyLimit counts it while reading.
  const counted = bodyLimit({ maxSize: options.maxBodyBytes, onError: (c) => reply(c, routes.tooLarge()) });
  const guard: MiddlewareHandler = async (c, next) => {
    const refused = routes.authorize(c.req.header("authorization"), () => c.req.query("token"));
    if (refused) return reply(c, refused);
    const length = routes.checkLength(c.req.header("content-length"), c.req.header("transfer-encoding"));
    if (length === "count") return counted(c, next);
    if (length) return reply(c, length);
    await next();
  };
  for (const path of ["/get_reward", "/score"] as const) app.post(path, guard, async (c) => reply(c, routes.post(path, await c.req.text())));

  app.notFound((c) => reply(c, routes.notFound(c.req.method, c.req.path)));
  app.onError((error, c) => reply(c, error instanceof HTTPException && error.status < 500 ? routes.refuse(error.status, error.message || "request refused") : routes.failure(error)));
  return app;
}
