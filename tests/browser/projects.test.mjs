// Browser test of the key projects (重点项目, issue 17 part 4): the public
// page of progress by county on a phone-sized screen, a county's filter, and
// a downloaded CSV that agrees with the page project by project; then the
// county's console list with its behind-schedule flag and a project page with
// a progress report recorded through the form. Every page is axe-clean
// (WCAG 2 A/AA) and the public ones fit a phone's width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, assertAccessible, scrollsSideways, login } from "./harness.mjs";

useDemo();

const PHONE = { width: 390, height: 844 };

/** RFC 4180 records of a CSV text (header first). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  const s = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else if (ch !== "\r") cell += ch;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

test("a visitor reads key-project progress on a phone and downloads what the page shows", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize(PHONE);

  await page.goto(`${ctx.base}/portal?lang=zh-CN`);
  await page.click("#nav-projects");
  await page.waitForSelector("#county-table");
  await assertAccessible("portal key projects (phone)");
  assert.equal(await scrollsSideways(), false, "the page fits a phone");
  await shot("projects-01-portal-phone");

  // The county table: seven counties and the city, 72 projects in all.
  const total = await page.locator("#county-table tr.total td").first().textContent();
  assert.equal(total.trim(), "72");
  const items = await page.locator("#project-list li").evaluateAll((lis) =>
    lis.map((li) => ({
      n: li.dataset.number,
      status: li.dataset.status,
      investment: li.querySelector(".investment").textContent.trim(),
      percent: li.querySelector(".percent").textContent.trim(),
    })),
  );
  assert.equal(items.length, 72);
  assert.ok(items.some((i) => i.status === "completed"), "the demo completed some");

  // The CSV from the page's download link, row by row.
  const href = await page.locator("a.download", { hasText: "CSV" }).first().getAttribute("href");
  const r = await page.request.get(`${ctx.base}${href}`);
  assert.equal(r.status(), 200);
  const [head, ...rows] = parseCsv(await r.text());
  const col = (name) => head.indexOf(name);
  assert.equal(rows.length, 72);
  for (const row of rows) {
    const it = items.find((i) => i.n === row[col("number")]);
    assert.ok(it, `project ${row[col("number")]} on the page`);
    assert.equal(it.status, row[col("status")]);
    assert.equal(
      it.investment,
      `${row[col("investment_spent_10k_yuan")]} / ${row[col("investment_planned_10k_yuan")]}`,
    );
    assert.equal(it.percent, `${row[col("percent_complete")]}%`);
  }

  // A county's projects.
  await page.click('#county-table tr[data-county="330411"] a');
  await page.waitForSelector("#project-list");
  assert.match(await page.textContent("#list-title"), /秀洲区/);
  await assertAccessible("portal key projects, one county (phone)");
  assert.equal(await scrollsSideways(), false);
  await shot("projects-02-county-phone");

  // In English.
  await page.goto(`${ctx.base}/portal/projects?lang=en`);
  await page.waitForSelector("#county-table");
  assert.match(await page.textContent("h1"), /Key projects/);
  await assertAccessible("portal key projects in English (phone)");
});

test("a county records progress on a key project in the console", async () => {
  const page = ctx.page;
  await page.context().clearCookies();
  await page.setViewportSize({ width: 1280, height: 900 });
  await login("county", "demo-county-2026");
  await page.goto(`${ctx.base}/console/key-projects?lang=zh-CN`);
  await page.waitForSelector("#kp-list");
  await assertAccessible("console key projects");
  await shot("projects-03-console-list");
  const open = await page
    .locator('#kp-list tr[data-status="behind"] a')
    .first()
    .getAttribute("href");
  await page.goto(`${ctx.base}${open}`);
  await page.waitForSelector("#kp-report-form");
  await assertAccessible("console key project");
  await page.fill("#kp-r-spent", "12.5");
  await page.fill("#kp-r-percent", "42");
  await page.fill("#kp-r-body", "浏览器测试填报");
  await page.click("#kp-report-form button[type=submit]");
  await page.waitForSelector("#kp-notice");
  assert.equal((await page.textContent("#kp-percent")).trim(), "42%");
  await assertAccessible("console key project after a report");
  await shot("projects-04-console-project");
});
