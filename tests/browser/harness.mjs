// Shared harness of the browser test files: each `*.test.mjs` calls `useDemo()`
// at its top, which starts `laoxiao demo --scale 0.01` on a free local port with a
// fresh database file (or uses LAOXIAO_TEST_URL) and one headless Debian chromium
// page, and stops both after the file's tests. The files run one after another
// (`node --test --test-concurrency=1`), each with its own server and database.
//
// Environment:
//   LAOXIAO_BIN       the binary (default: ../../target/release/laoxiao, else debug)
//   LAOXIAO_TEST_URL  use a server that is already running instead of starting one
//   CHROMIUM          the browser (default /usr/bin/chromium)

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
// axe-core ships a browser bundle; resolve it the CommonJS way from this ES module.
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const root = resolve(here, "../..");
export const shots = join(here, "screenshots");
mkdirSync(shots, { recursive: true });

/** The product's promise: axe-core's WCAG 2 A/AA rules. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** Ids of records a run creates, unique so that reruns against one server work. */
export const runId = Date.now().toString(36).toUpperCase();

/** The running demo: `ctx.base` (its URL), `ctx.page` (the browser page), `ctx.work` (a temp dir). */
export const ctx = { base: process.env.LAOXIAO_TEST_URL || "", page: null, browser: null, work: null };
let server = null;
let serverLog = "";

export function binary() {
  if (process.env.LAOXIAO_BIN) return process.env.LAOXIAO_BIN;
  for (const p of ["target/release/laoxiao", "target/debug/laoxiao"]) {
    const full = join(root, p);
    if (existsSync(full)) return full;
  }
  throw new Error("no laoxiao binary: run `cargo build` (or set LAOXIAO_BIN)");
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitUp(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (server && server.exitCode !== null) {
      throw new Error(`laoxiao demo exited with ${server.exitCode}:\n${serverLog.slice(-4000)}`);
    }
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`laoxiao did not answer at ${url} within ${ms / 1000} s:\n${serverLog.slice(-4000)}`);
}

async function waitLine(line, ms) {
  const until = Date.now() + ms;
  while (!serverLog.includes(line)) {
    if (server && server.exitCode !== null) {
      throw new Error(`laoxiao demo exited with ${server.exitCode}:\n${serverLog.slice(-4000)}`);
    }
    if (Date.now() > until) throw new Error(`no "${line}" within ${ms / 1000} s:\n${serverLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The server's recent output (for failure messages). */
export function serverOutput() {
  return serverLog;
}

/** Registers the `before`/`after` hooks that start and stop the demo and the browser. */
export function useDemo() {
  before(async () => {
    ctx.work = mkdtempSync(join(tmpdir(), "laoxiao-browser-"));
    if (!ctx.base) {
      const port = await freePort();
      ctx.base = `http://127.0.0.1:${port}`;
      server = spawn(
        binary(),
        ["demo", "--scale", "0.01", "--addr", `127.0.0.1:${port}`, "--database", join(ctx.work, "demo.db")],
        { cwd: ctx.work, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LAOXIAO_LOG: "warn" } },
      );
      const keep = (d) => {
        serverLog = (serverLog + d.toString()).slice(-20000);
      };
      server.stdout.on("data", keep);
      server.stderr.on("data", keep);
      await waitUp(`${ctx.base}/api/health`, 300_000);
      // The demo loads its service records, visiting rounds and insurance
      // register once it serves: the tests start when everything is in.
      await waitLine("demo background load finished", 300_000);
    }
    // A fresh profile (user-data-dir) for every run.
    ctx.browser = await chromium.launchPersistentContext(join(ctx.work, "profile"), {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    ctx.page = await ctx.browser.newPage();
    ctx.page.setDefaultTimeout(30_000);
  });

  after(async () => {
    if (ctx.browser) await ctx.browser.close();
    if (server) {
      server.kill("SIGINT");
      await new Promise((r) => {
        const t = setTimeout(() => {
          server.kill("SIGKILL");
          r();
        }, 5000);
        server.on("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
    if (ctx.work) rmSync(ctx.work, { recursive: true, force: true });
  });
}

/** A full-page screenshot into ./screenshots/NAME.png. */
export async function shot(name) {
  await ctx.page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Waits for an ECharts map (`#id[data-ready=true]`) to draw. */
export async function mapReady(id) {
  await ctx.page.waitForSelector(`#${id}[data-ready="true"] canvas`, { timeout: 30_000 });
  // Let ECharts finish its first frame.
  await ctx.page.waitForTimeout(800);
}

/** Logs in through the console's form (logging out first when someone is in). */
export async function login(username, password) {
  const page = ctx.page;
  await page.goto(`${ctx.base}/console/login`);
  if (await page.locator("#logout").count()) {
    await page.click("#logout");
    await page.waitForSelector("#login-form");
    await page.goto(`${ctx.base}/console/login`);
  }
  await page.fill("#i-username", username);
  await page.fill("#i-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("#logout");
}

/**
 * Runs axe-core on the current page; returns one line per violation (empty when none):
 * the rule id, its impact, and the first nodes' targets.
 */
export async function axeViolations(label) {
  const page = ctx.page;
  // Evaluated through the DevTools protocol, not `page.addScriptTag`: the console's
  // Content-Security-Policy (script-src 'self') rightly refuses an inline <script>,
  // and the test keeps that policy on rather than bypassing it.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      count: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  }, AXE_TAGS);
  return violations.map(
    (v) => `${label} (${page.url()}): ${v.id} [${v.impact}] ${v.help}; ${v.count} node(s): ${v.targets.join(" | ")}`,
  );
}

/** Asserts that axe-core finds nothing on the current page. */
export async function assertAccessible(label) {
  const found = await axeViolations(label);
  assert.deepEqual(found, [], `axe-core found violations:\n${found.join("\n")}`);
}

/** Visits a path, expects the status and runs axe-core (no violation allowed); returns the response. */
export async function visitAccessible(label, path, status = 200) {
  const r = await ctx.page.goto(`${ctx.base}${path}`);
  assert.equal(r.status(), status, `${path} answers ${status}`);
  await assertAccessible(label);
  return r;
}

/** The page scrolls sideways: wider than its viewport. */
export async function scrollsSideways() {
  return ctx.page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
