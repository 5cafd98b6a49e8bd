import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";

/**
 * A local HTTP server standing in for the dataset hub (through $HF_ENDPOINT): `handler` answers each path;
 * every requested path is kept in `hits`. Closed when the test ends.
 */
export async function serveHub(t: TestContext, handler: (path: string) => { status: number; body?: Buffer }): Promise<{ endpoint: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? "");
    const { status, body } = handler(request.url ?? "");
    response.writeHead(status, body ? { "content-length": String(body.length) } : {});
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** Sets environment variables for one test (the cache, the hub), restoring them after. */
export function withEnvironment(t: TestContext, values: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}
