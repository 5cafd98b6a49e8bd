/**
 * Test fixture for a real nginx (Debian's package) as a load balancer in front of llama-servers: its own
 * config, logs and temp folders in a temp dir, listening on a free 127.0.0.1 port, never the system
 * service. Requests are spread by `hash $http_<header> consistent` (ketama consistent hashing on j1's
 * affinity header), and the access log records, per request, the affinity key and the upstream that
 * served it.
 *
 *   const nginx = await startNginx({ upstreams: ["127.0.0.1:8081", "127.0.0.1:8082"], header: "x-j1-affinity" });
 *   ... nginx.baseUrl ... nginx.accessLog() ...
 *   await nginx.stop();
 */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getFreePort } from "./llama-server.js";

const NGINX_PATHS = ["/usr/sbin/nginx", "/usr/bin/nginx"];

export function findNginx(): string | undefined {
  return NGINX_PATHS.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface RunningNginx {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  /** One entry per proxied request: the affinity header's value and the upstream address that answered. */
  accessLog(): Array<{ affinity: string; upstream: string; uri: string }>;
  stop(): Promise<void>;
}

export async function startNginx(options: { upstreams: string[]; header: string; binary?: string; balance?: "hash" | "round-robin" }): Promise<RunningNginx> {
  const binary = options.binary ?? findNginx();
  if (!binary) throw new Error("nginx not found: apt-get install nginx");
  const dir = mkdtempSync(path.join(os.tmpdir(), "j1-nginx-"));
  for (const sub of ["client", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(path.join(dir, sub));
  const port = await getFreePort();
  const variable = `$http_${options.header.toLowerCase().replace(/-/g, "_")}`;
  const log = path.join(dir, "access.log");
  const config = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/client;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format affinity '${variable}\\t$upstream_addr\\t$request_uri';
  access_log ${log} affinity;
  upstream llama {
${options.balance === "round-robin" ? "    # round robin: nginx's default" : `    hash ${variable} consistent;`}
${options.upstreams.map((upstream) => `    server ${upstream};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 64m;
    location / {
      proxy_pass http://llama;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 120s;
    }
  }
}
`;
  const file = path.join(dir, "nginx.conf");
  writeFileSync(file, config);
  const child = spawn(binary, ["-p", dir, "-c", file, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errors}`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      break;
    } catch (error) {
      if (attempt > 100) throw new Error(`nginx did not answer on ${baseUrl}: ${(error as Error).message} ${errors}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    baseUrl,
    accessLog: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [affinity, upstream, uri] = line.split("\t");
          return { affinity, upstream, uri };
        }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGQUIT");
      await exited;
    },
  };
}
