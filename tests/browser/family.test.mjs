// Browser test of the family home (家属首页, docs/family.md): the demo family
// account sees its one verified relative, her vouchers and the demo orders in
// every state with their payment split; the registers stay closed to it.
// Ordering and rating from the console are not built yet (the API does them:
// /api/family/orders, /api/family/orders/{id}/rate); see the branch report.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ctx, useDemo, shot, login, assertAccessible } from "./harness.mjs";

useDemo();

test("family: the login page lists the family account", async () => {
  await ctx.page.goto(`${ctx.base}/console/login`);
  const users = await ctx.page.locator("#demo-accounts tbody td:first-child").allTextContents();
  assert.ok(users.map((x) => x.trim()).includes("family"), "demo account family listed");
});

test("family: the home shows the verified relative, her vouchers and the orders", async () => {
  await login("family", "demo-family-2026");
  const r = await ctx.page.goto(`${ctx.base}/console/family`);
  assert.equal(r.status(), 200);
  await ctx.page.waitForSelector("#h-rel");
  assert.equal(await ctx.page.locator("#no-relatives").count(), 0, "one verified relative");
  const statuses = await ctx.page.locator("#orders tbody tr td:nth-child(4)").allTextContents();
  for (const s of ["已评价", "已服务", "已接单", "已下单", "已取消", "已拒单"]) {
    assert.ok(statuses.some((x) => x.includes(s)), `an order ${s}`);
  }
  // Every order explains its split: the voucher first, the family the rest.
  const why = await ctx.page.locator("#orders tbody tr td:nth-child(8)").allTextContents();
  assert.ok(why.every((x) => x.includes("家属支付")), "each order explains the split");
  await assertAccessible("family home");
  await shot("family-home");
  await ctx.page.goto(`${ctx.base}/console/family?lang=en`);
  await assertAccessible("family home (en)");
});

test("family: nobody else — the registers and other people answer 403", async () => {
  await login("family", "demo-family-2026");
  for (const path of ["/console/elderly", "/console/facilities", "/console/transfers"]) {
    const r = await ctx.page.goto(`${ctx.base}${path}`);
    assert.equal(r.status(), 403, `${path} is closed to a family account`);
  }
});
