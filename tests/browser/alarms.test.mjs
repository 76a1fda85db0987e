// Browser tests of smart devices and alarms (智能设备与紧急呼叫), end to end:
// a device platform posts a signed event (HMAC-SHA256 over the timestamp and
// the body, as docs/alarms.md describes) → the alarm is dispatched and shows
// on the live page without a reload → staff acknowledge, reach and close it
// with an outcome through the console's forms; a repeat of the event changes
// nothing; a bad signature is 401, an unknown device 422; the demo's late
// alarms are flagged escalated and lead the list; the figures page and the
// device register. Every page runs axe-core (WCAG 2 A/AA).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { ctx, useDemo, shot, login, visitAccessible, assertAccessible, serverOutput, runId } from "./harness.mjs";

useDemo();

/** The demo platform's id and secret, printed once when the demo made its database. */
function platform() {
  const m = serverOutput().match(/platform (\S+) with secret (\S+)/);
  assert.ok(m, "the demo printed its platform's secret");
  return { id: m[1], secret: m[2] };
}

/** Posts an event as a device platform would; `tamper` spoils the signature. */
async function post(event, { tamper = false, skew = 0 } = {}) {
  const p = platform();
  const body = JSON.stringify(event);
  const ts = String(Math.floor(Date.now() / 1000) + skew);
  let sig = createHmac("sha256", p.secret).update(`${ts}\n${body}`).digest("hex");
  if (tamper) sig = (sig[0] === "0" ? "1" : "0") + sig.slice(1);
  const r = await fetch(`${ctx.base}/api/alarms/events`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-laoxiao-platform": p.id,
      "x-laoxiao-timestamp": ts,
      "x-laoxiao-signature": sig,
    },
    body,
  });
  return { status: r.status, json: await r.json() };
}

const event = (id, device = "DEMO-00001") => ({
  event_id: `${runId}-${id}`,
  device_id: device,
  occurred_at: new Date().toISOString(),
  note: "按下紧急呼叫按钮",
});

let alarmId = null;

test("refused events: a bad signature and clock skew are 401, an unknown device 422", async () => {
  const bad = await post(event("BAD"), { tamper: true });
  assert.equal(bad.status, 401);
  const skewed = await post(event("SKEW"), { skew: -3600 });
  assert.equal(skewed.status, 401);
  const unknown = await post(event("UNK", "NO-SUCH-DEVICE"));
  assert.equal(unknown.status, 422);
  assert.match(JSON.stringify(unknown.json), /device_id/);
});

test("a signed event is dispatched and appears on the live page without a reload", async () => {
  await login("city", "demo-city-2026");
  await visitAccessible("alarms live zh", "/console/alarms?lang=zh-CN");
  assert.match(await ctx.page.textContent("h1"), /紧急呼叫|告警|报警/);
  // The demo's late alarms are flagged and lead the list.
  const late = await ctx.page.locator("#alarms tbody tr.late").count();
  assert.ok(late > 0, "the demo has escalated alarms");
  assert.equal(await ctx.page.locator("#alarms tbody tr").first().getAttribute("class"), "late");
  const before = await ctx.page.locator("#alarms tbody tr").count();

  const first = await post(event("A1"));
  assert.equal(first.status, 201, JSON.stringify(first.json));
  assert.equal(first.json.created, true);
  alarmId = first.json.alarm_id;
  // The same event again answers the same alarm and changes nothing.
  const again = await post(event("A1"));
  assert.equal(again.status, 200);
  assert.deepEqual([again.json.alarm_id, again.json.created], [alarmId, false]);

  // htmx replaces the table every 5 s: the new alarm arrives on its own.
  await ctx.page.waitForSelector(`#alarms a[href="/console/alarms/${alarmId}"]`, { timeout: 20_000 });
  assert.equal(await ctx.page.locator("#alarms tbody tr").count(), before + 1, "one alarm more, not two");
  await assertAccessible("alarms live with the new alarm");
  await shot("alarms-01-live");
});

test("staff acknowledge, reach and close the alarm with an outcome", async () => {
  assert.ok(alarmId, "the previous test made an alarm");
  await visitAccessible("alarm detail", `/console/alarms/${alarmId}`);
  assert.match(await ctx.page.textContent("#alarm-detail"), /DEMO-00001|DEV/);
  await shot("alarms-02-detail");
  await ctx.page.click("#alarm-ack");
  await ctx.page.waitForURL(/done=acknowledge/);
  await ctx.page.click("#alarm-reach");
  await ctx.page.waitForURL(/done=reach/);
  // Closing without an outcome is refused at the field.
  await ctx.page.click("#alarm-close");
  await ctx.page.waitForSelector("#form-errors");
  assert.match(await ctx.page.textContent("#form-errors"), /outcome/);
  await assertAccessible("alarm close error");
  const value = await ctx.page.locator("#a-outcome option").nth(1).getAttribute("value");
  await ctx.page.selectOption("#a-outcome", value);
  await ctx.page.fill("#a-note", "上门确认老人安全");
  await ctx.page.click("#alarm-close");
  await ctx.page.waitForURL(/done=close/);
  assert.equal(await ctx.page.locator("#alarm-step").count(), 0, "a closed alarm has no more steps");
  const steps = await ctx.page.locator("#alarm-timeline li").count();
  assert.ok(steps >= 4, `received, acknowledged, reached, closed: ${steps} steps`);
  await assertAccessible("alarm closed");
  await shot("alarms-03-closed");
  // It has left the live list and is among the closed ones.
  await ctx.page.goto(`${ctx.base}/console/alarms`);
  assert.equal(await ctx.page.locator(`#alarms a[href="/console/alarms/${alarmId}"]`).count(), 0);
  await visitAccessible("alarms closed", "/console/alarms?state=closed");
  assert.equal(await ctx.page.locator(`#alarms a[href="/console/alarms/${alarmId}"]`).count(), 1);
});

test("the response figures, the equipment target and the device register", async () => {
  await visitAccessible("alarm figures zh", "/console/alarms/figures");
  const text = await ctx.page.textContent("main");
  assert.match(text, /\d/);
  await shot("alarms-04-figures");
  await visitAccessible("alarm figures en", "/console/alarms/figures?lang=en");
  await visitAccessible("devices", "/console/devices?lang=zh-CN");
  assert.ok((await ctx.page.locator("table tbody tr").count()) > 0, "the demo's devices are listed");
});

test("a family account sees no alarm", async () => {
  await login("family", "demo-family-2026");
  await visitAccessible("alarms forbidden for family", "/console/alarms", 403);
});
