// The shipped head script, run in a minimal DOM stand-in, against the shared case table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const root = new URL("../../", import.meta.url);
const source = readFileSync(new URL("assets/js/head.js", root), "utf8").split("\n").map((l) => l.trim()).join("");
const cases = JSON.parse(readFileSync(new URL("tests/data/bucketing_cases.json", root), "utf8"));

function run(config, { cookie = "", search = "", ua = "Mozilla/5.0", dnt = false, preset = {}, now = 1764000000000 } = {}) {
  const attrs = { ...preset };
  const beacons = [];
  const cookies = [];
  const sandbox = {
    document: {
      documentElement: { getAttribute: (k) => attrs[k] ?? null, setAttribute: (k, v) => { attrs[k] = String(v); } },
      get cookie() { return cookie; },
      set cookie(v) { cookies.push(v); },
    },
    navigator: { userAgent: ua, doNotTrack: dnt ? "1" : null, sendBeacon: (url, body) => { beacons.push([url, JSON.parse(body)]); return true; } },
    location: { search, pathname: "/demo/", protocol: "https:" },
    crypto: { randomUUID: () => "11111111-2222-3333-4444-555555555555" },
    URLSearchParams, Math, JSON,
    Date: { now: () => now },
  };
  vm.runInNewContext(`${source}(${JSON.stringify(config)})`, sandbox);
  return { attrs, beacons, cookies };
}

test("shipped script is under 1 KB", () => {
  assert.ok(source.length < 1024, `${source.length} bytes`);
});

test("assignment matches the shared table (UTF-16 hashing)", () => {
  for (const c of cases.assign) {
    if (c.visitor === "" ) continue; // an empty cookie means "no visitor yet"
    const { attrs } = run({ x: [{ i: c.experiment, v: c.weights }], e: "/api/v1/events", d: 0 }, { cookie: `sm_vid=${c.visitor}` });
    assert.equal(attrs[`data-sm-${c.experiment}`], c.variant, JSON.stringify(c));
  }
});

test("one exposure beacon per page view, and the cookie is set for 400 days", () => {
  const { beacons, cookies } = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/api/v1/events", d: 0 }, { cookie: "sm_vid=visitor-1" });
  assert.equal(beacons.length, 1);
  assert.deepEqual(beacons[0][1], { type: "exposure", experiment: "hero", variant: beacons[0][1].variant, visitor: "visitor-1", page: "/demo/" });
  assert.match(cookies[0], /^sm_vid=visitor-1;path=\/;max-age=34560000;samesite=lax;secure$/);
});

test("a new visitor gets a random id that starts with the time, so ids sort by first visit", () => {
  const config = { x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 0 };
  const { beacons, cookies } = run(config);
  // 1764000000000 ms in base 36; the server makes its ids the same way (src/capture/app/visitor.rs).
  assert.equal(beacons[0][1].visitor, "midc1z40-11111111-2222-3333-4444-555555555555");
  assert.match(cookies[0], /^sm_vid=midc1z40-11111111-/);
  // Eight base-36 digits last until 2059; ordering is only for the store's locality, so a
  // ninth digit then costs nothing but that.
  const ids = [1764000000000, 1764000000001, 1764000035999, 2800000000000].map((now) => run(config, { now }).beacons[0][1].visitor);
  assert.deepEqual([...ids].sort(), ids);
});

test("?sm_<experiment>= forces a variant without a beacon", () => {
  const { attrs, beacons } = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 0 }, { cookie: "sm_vid=x", search: "?sm_hero=b" });
  assert.equal(attrs["data-sm-hero"], "b");
  assert.equal(beacons.length, 0);
  const unknown = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 0 }, { cookie: "sm_vid=x", search: "?sm_hero=zzz" });
  assert.notEqual(unknown.attrs["data-sm-hero"], "zzz");
});

test("Do Not Track with respect_dnt: control, no beacon, no cookie", () => {
  const { attrs, beacons, cookies } = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 1 }, { cookie: "sm_vid=visitor-1", dnt: true });
  assert.equal(attrs["data-sm-hero"], "a");
  assert.equal(beacons.length, 0);
  assert.equal(cookies.length, 0);
});

test("crawlers see the control and send nothing", () => {
  const { attrs, beacons } = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 0 }, { ua: "Googlebot/2.1" });
  assert.equal(attrs["data-sm-hero"], "a");
  assert.equal(beacons.length, 0);
});

test("a variant already marked by the server is kept, and the server counted it", () => {
  const { attrs, beacons } = run({ x: [{ i: "hero", v: [["a", 0.5], ["b", 0.5]] }], e: "/e", d: 0 }, { cookie: "sm_vid=visitor-1", preset: { "data-sm-hero": "b" } });
  assert.equal(attrs["data-sm-hero"], "b");
  assert.equal(beacons.length, 0);
});
