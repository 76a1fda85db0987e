// Browser tests of the role homes (issue 15, part 7): each demo account logs
// in and lands on its own home (never a 403), which passes axe-core; the error
// pages in the console's layout; the operator's facility at tablet width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible, visitAccessible, scrollsSideways } from "./harness.mjs";

useDemo();

// (account, where it lands, a selector its home shows)
const HOMES = [
  ["city", /\/$/, "#worklist"],
  ["county", /\/$/, "#worklist"],
  ["town", /\/console\/home/, "#worklist"],
  ["village", /\/console\/home/, "#worklist"],
  ["operator", /\/console\/my-facility/, "#capacity"],
  ["inspector", /\/console\/home/, "#h-inspect"],
  ["auditor", /\/console\/audit/, "h1"],
  ["analyst", /\/$/, "#map-figure"],
];

for (const [user, where, shows] of HOMES) {
  test(`${user} lands on its home, axe-clean`, async () => {
    await login(user, `demo-${user}-2026`);
    assert.match(ctx.page.url(), where, `${user} lands on ${ctx.page.url()}`);
    assert.ok(await ctx.page.locator(shows).count(), `${user}'s home shows ${shows}`);
    assert.doesNotMatch(await ctx.page.title(), /403|无权访问/);
    // `/` leads to the same home.
    const r = await ctx.page.goto(`${ctx.base}/`);
    assert.equal(r.status(), 200);
    assert.match(ctx.page.url(), where);
    await assertAccessible(`home-${user}`);
    await shot(`homes-${user}`);
  });
}

test("the worklist's records open from a line", async () => {
  await login("town", "demo-town-2026");
  const link = ctx.page.locator("#worklist a").first();
  if (await link.count()) {
    await link.click();
    await ctx.page.waitForLoadState("load");
    await assertAccessible("worklist-records");
  }
  await visitAccessible("worklist", "/console/worklist");
});

test("error pages: 404 and 403 in the console's layout, in both languages", async () => {
  await login("village", "demo-village-2026");
  await visitAccessible("error-404", "/console/no-such-page", 404);
  assert.ok(await ctx.page.locator(".main-nav").count(), "the navigation");
  assert.ok(await ctx.page.locator("#error-home").count(), "a way back");
  await shot("homes-404");
  await visitAccessible("error-403", "/console/subsidies", 403);
  const text = await ctx.page.textContent("#error-page");
  assert.match(text, /无权访问/);
  assert.match(text, /Access denied/);
  await ctx.page.click("#error-home");
  await ctx.page.waitForLoadState("load");
  assert.match(ctx.page.url(), /\/console\/home/);
});

test("the operator's facility at tablet width", async () => {
  await login("operator", "demo-operator-2026");
  await ctx.page.setViewportSize({ width: 768, height: 1024 });
  try {
    await ctx.page.goto(`${ctx.base}/console/my-facility`);
    const used = Number((await ctx.page.textContent("#used")).replace(/,/g, ""));
    assert.ok(used > 0, `the demo's care home has residents (${used})`);
    assert.ok(await ctx.page.locator("#staff tbody tr").count(), "staff listed");
    assert.equal(await scrollsSideways(), false, "no sideways scrolling at 768 px");
    await assertAccessible("my-facility-tablet");
    await shot("homes-operator-tablet");
  } finally {
    await ctx.page.setViewportSize({ width: 1280, height: 900 });
  }
});
