// kordon's web interface in real headless Chromium (Debian's, driven by playwright-core),
// against a real `kordon demo` server with simulated fleet data. Run by
// crates/kordon-cli/tests/browser.rs, which starts the server and passes:
//   KORDON_URL, KORDON_PASSWORD, OWN_CAMERA (the officer's camera), OTHER_CAMERA,
//   RUN (the simulated run's prefix), SHOTS (where to save screenshots), CHROMIUM.
// Prints "ok <step>" per step; exits non-zero at the first step that does not hold.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const URL = env("KORDON_URL");
const PASSWORD = env("KORDON_PASSWORD");
const OWN = env("OWN_CAMERA");
const OTHER = env("OTHER_CAMERA");
const RUN = env("RUN");
const SHOTS = env("SHOTS");
mkdirSync(SHOTS, { recursive: true });
const INSPECTION = `${RUN}-insp00`;

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    throw e;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});

async function signIn(name) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${URL}/ui/login`);
  await page.fill("#name", name);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.click("main form button[type=submit]")]);
  return page;
}

async function statusOf(page, path) {
  const res = await page.goto(`${URL}${path}`);
  return res.status();
}

// Every form control has a name a screen reader can say: a <label> around it or for it,
// or aria-label; every image-like chart has a role and label.
async function accessible(page) {
  const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea, button", (els) =>
    els.filter((el) => {
      if (el.tagName === "BUTTON") return !el.textContent.trim() && !el.getAttribute("aria-label");
      return !el.closest("label") && !(el.id && document.querySelector(`label[for="${el.id}"]`)) && !el.getAttribute("aria-label");
    }).map((el) => el.outerHTML.slice(0, 80)));
  check(unlabelled.length === 0, `controls without a label on ${page.url()}: ${unlabelled.join(" | ")}`);
  const charts = await page.$$eval("svg:not([aria-hidden=true])", (svgs) => svgs.filter((s) => !s.getAttribute("role") || !s.getAttribute("aria-label")).length);
  check(charts === 0, `${charts} charts without role and label on ${page.url()}`);
  check((await page.getAttribute("html", "lang")) !== null, "no document language");
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

// axe-core, from npm, run in the page.
// (Evaluated through the DevTools protocol: the pages' Content-Security-Policy allows no
// inline script, and the test does not loosen it.)
const AXE = readFileSync(new globalThis.URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
// The English column of the interface's words: none may show on a Ukrainian page. The
// demo's user names are English words (officer, analyst, ...): data, not the interface.
const NAMES = new Set(["officer", "analyst", "auditor", "administrator", "supervisor"]);
const ENGLISH = readFileSync(new globalThis.URL("../../../kordon-server/src/ui/words.tsv", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => l.split("\t"))
  .filter((f) => f.length === 3 && f[1] !== f[2])
  .map((f) => f[2].split("{s}").sort((a, b) => b.length - a.length)[0].trim())
  .filter((e) => e.length > 1 && !NAMES.has(e));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ENGLISH_RE = ENGLISH.map((e) => [e, new RegExp(`(^|[^\\p{L}])${escape(e)}($|[^\\p{L}])`, "u")]);

// The visible text of a page and the names of its controls, without what is marked as
// another language or as data not to translate, and without folded-away detail.
async function visibleText(page) {
  return page.evaluate(() => {
    const skip = "[lang=en], [translate=no], script, style, [hidden], details:not([open]) > :not(summary)";
    const out = [];
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (w.nextNode()) {
      const e = w.currentNode.parentElement;
      if (e && !e.closest(skip)) out.push(w.currentNode.textContent);
    }
    for (const e of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
      if (e.closest(skip)) continue;
      for (const a of ["aria-label", "title", "placeholder"]) if (e.getAttribute(a)) out.push(e.getAttribute(a));
    }
    return out.join("\n");
  });
}

// Every page a role uses: axe-core finds no serious or critical violation, controls have
// names, a Ukrainian page holds no English string, the page fits a 390 px phone; saved at
// 1440x900 and 390x844.
const audited = new Set();
async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const bad = await page.evaluate(async () =>
    (await axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`));
  check(bad.length === 0, `axe on ${name} ${page.url()}: ${bad.join(" | ")}`);
  await accessible(page);
  if ((await page.getAttribute("html", "lang")) === "uk") {
    const text = await visibleText(page);
    const found = ENGLISH_RE.filter(([, re]) => re.test(text)).map(([e]) => e);
    check(found.length === 0, `English on the Ukrainian page ${name}: ${found.join(" | ")}`);
  }
  const size = page.viewportSize();
  await page.setViewportSize({ width: 1440, height: 900 });
  await shot(page, name);
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 392) {
    const what = await page.evaluate(() => [...document.querySelectorAll("main *")]
      .filter((e) => e.getBoundingClientRect().right > 392)
      .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className.baseVal ?? e.className}`).slice(0, 5));
    check(false, `${name} is ${wide} px wide on a 390 px phone: ${what.join(", ")}`);
  }
  await shot(page, `${name}-phone`);
  await page.setViewportSize(size);
  audited.add(name);
}

let exit = 0;
try {
  // Officer: own recordings only; plays footage across a segment boundary; explains a gap.
  await step("the sign-in page is accessible and in Ukrainian", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${URL}/ui/login`);
    await audit(page, "login");
  });
  const officer = await signIn("officer");
  await step("officer lands on own timeline, times in the crossing point's zone", async () => {
    check(officer.url().includes("/ui/timeline"), `landed on ${officer.url()}`);
    const text = await officer.textContent("main");
    check(text.includes(OWN), `own camera ${OWN} not shown`);
    check(text.includes("Europe/Kyiv"), "zone not named");
    check((await officer.locator("nav a[href='/ui/admin']").count()) === 0, "admin link shown to an officer");
  });
  await step("officer is refused other cameras, administration and custody", async () => {
    check((await statusOf(officer, `/ui/timeline?device=${OTHER}`)) === 403, "other camera not refused");
    check((await statusOf(officer, "/ui/admin")) === 403, "admin not refused");
    check((await statusOf(officer, "/ui/custody?subject=device%20x")) === 403, "custody not refused");
    await audit(officer, "refused");
    await officer.goto(`${URL}/ui/timeline`);
  });
  await step("a day without recordings says so instead of refusing", async () => {
    const day = new Date(Date.now() - 5 * 86400e3).toISOString().slice(0, 10);
    check((await statusOf(officer, `/ui/timeline?date=${day}`)) === 200, "a day without recordings refused");
    check(await officer.isVisible("#nothing"), "no 'no recordings' message");
    await audit(officer, "no-recordings");
    await officer.goto(`${URL}/ui/timeline`);
  });
  await step("the timeline lists its gaps, reachable from the keyboard, and names each control", async () => {
    check((await officer.locator("#gap-list li").count()) >= 1, "gaps not listed");
    check((await officer.locator("#timeline a[href^='#gap-']").count()) >= 1, "gaps on the axis not reachable");
    const names = await officer.$$eval("button.play", (bs) => bs.map((b) => b.getAttribute("aria-label")));
    check(new Set(names).size === names.length && names.length > 1, `play buttons not told apart: ${names.slice(0, 3)}`);
  });
  await step("footage needs a reason before it plays", async () => {
    await officer.click("button.play >> nth=0");
    check(await officer.isVisible("#reason-msg"), "no request for a reason");
    check((await officer.getAttribute("#player", "src")) === null, "played without a reason");
  });
  await step("footage plays continuously across a segment boundary", async () => {
    await officer.fill("#reason", "e2e: перевіряю скаргу");
    await officer.click("button.play >> nth=0");
    await officer.waitForFunction(() => {
      const v = document.getElementById("player");
      return v.readyState >= 2 && v.currentTime > 0.2 && !v.paused;
    }, null, { timeout: 20000 });
    const first = await officer.$eval("#player", (v) => v.dataset.seq);
    await officer.$eval("#player", (v) => { v.currentTime = Math.max(0, v.duration - 0.4); });
    await officer.waitForFunction((seq) => {
      const v = document.getElementById("player");
      return v.dataset.seq !== seq && v.currentTime > 0.5 && !v.paused;
    }, first, { timeout: 20000 });
    const next = await officer.$eval("#player", (v) => v.dataset.seq);
    check(Number(next) > Number(first), `went from ${first} to ${next}`);
    // The cameras record sound: Chromium decodes the segment's AAC track as it plays.
    await officer.waitForFunction(() => document.getElementById("player").webkitAudioDecodedByteCount > 0, null, { timeout: 10000 });
    console.log(`  played segment ${first}, then ${next} without a click`);
    check(await officer.$eval("#playhead", (l) => !l.hasAttribute("visibility") && Number(l.getAttribute("x1")) > 0), "no playhead on the axis");
    await audit(officer, "timeline");
  });
  await step("the timeline works from the keyboard and every control is labelled", async () => {
    await accessible(officer);
    await officer.$eval("#player", (v) => v.pause());
    await officer.focus("button.play >> nth=1");
    await officer.keyboard.press("Enter");
    await officer.waitForFunction(() => {
      const v = document.getElementById("player");
      return !v.paused && v.currentTime > 0.2;
    }, null, { timeout: 20000 });
    const seq = await officer.$eval("#player", (v) => v.dataset.seq);
    const second = await officer.getAttribute("button.play >> nth=1", "data-seq");
    check(seq === second, `Enter on the second segment played ${seq}, not ${second}`);
  });
  await step("officer files a reason for a gap in their inspection", async () => {
    await officer.goto(`${URL}/ui/inspections/${INSPECTION}`);
    const form = officer.locator("#gaps form").first();
    await form.locator("select[name=reason]").selectOption("malfunction");
    await form.locator("input[name=text]").fill("e2e: розрядився акумулятор");
    await Promise.all([officer.waitForLoadState("load"), form.locator("button").click()]);
    await officer.waitForSelector("#gaps span.status");
    const status = await officer.getAttribute("#gaps span.status", "data-status");
    check(status === "pending", `status ${status}`);
    check((await officer.textContent("#gaps span.status")).includes("очікує"), "state not in words");
    check((await officer.textContent("#gaps .history")).includes("несправність камери"), "reason code not in words");
    await audit(officer, "inspection-officer");
  });

  // Supervisor: dashboard with charts, approves the reason, switches language.
  const sup = await signIn("supervisor");
  await step("supervisor sees the crossing point's dashboard with charts", async () => {
    check((await sup.locator("[data-cp='UA-KYIV-01'] h2").textContent()).includes("Київ"), "crossing point not by name");
    check((await sup.locator("main figure svg").count()) >= 2, "charts missing");
    for (const stat of ["assigned", "recording", "problems", "coverage", "unexplained", "backlog"]) {
      check((await sup.locator(`[data-stat=${stat}]`).count()) === 1, `dashboard figure ${stat} missing`);
    }
    await audit(sup, "dashboard");
  });
  await step("the dashboard's queues each hold an item and their counts lead to it", async () => {
    const count = async (q) => Number((await sup.textContent(`[data-queue=${q}] .count`)).replace("+", ""));
    for (const q of ["decisions", "unexplained", "chain", "health", "review"]) check((await count(q)) >= 1, `queue ${q} empty`);
    check((await sup.locator("table.shifts tbody tr").count()) === 5, "today's shifts not listed");
    await sup.click("[data-queue=chain]");
    const chain = await sup.$$eval("ul.troubled li", (lis) => lis.map((l) => l.textContent));
    check(chain.some((l) => l.includes(`${RUN}-cam03`) && l.includes("підробка")), `equivocation not listed: ${chain}`);
    check(chain.some((l) => l.includes(`${RUN}-cam01`) && l.includes("бракує")), `lost segments not listed: ${chain}`);
    await sup.click("[data-queue=health]");
    check((await sup.textContent("main")).includes(`${RUN}-cam04`), "the flat battery not listed");
    await Promise.all([sup.waitForURL((u) => u.pathname === "/ui/explanations"), sup.click("[data-queue=decisions]")]);
    check((await sup.locator("ol.queue > li").count()) >= 1, "the explanations queue is empty");
    await audit(sup, "explanations");
  });
  await step("the timeline starts from today's shifts", async () => {
    await sup.goto(`${URL}/ui/timeline`);
    check((await sup.locator("table.shifts tbody tr").count()) === 5, "today's shifts not listed");
    await audit(sup, "timeline-start");
  });
  await step("an equivocating camera's timeline says so in words", async () => {
    await sup.goto(`${URL}/ui/timeline?device=${RUN}-cam03`);
    check((await sup.locator("#chain-problems [data-kind=equivocation]").count()) === 1, "equivocation not shown");
    await audit(sup, "timeline-equivocation");
  });
  await step("a rejection needs a comment; the officer is told and explains again; it is approved", async () => {
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    const form = sup.locator("#gaps form.decide").first();
    const [refused] = await Promise.all([sup.waitForResponse((r) => r.request().method() === "POST"), form.locator("button.reject").click()]);
    check(refused.status() === 400 && (await sup.textContent("main")).includes("напишіть коментар"), `rejected without a comment: ${refused.status()}`);
    await audit(sup, "refusal");
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    await form.locator("input[name=comment]").fill("e2e: уточніть, коли саме розрядився акумулятор");
    await Promise.all([sup.waitForLoadState("load"), form.locator("button.reject").click()]);
    check((await sup.getAttribute("#gaps span.status", "data-status")) === "rejected", "not rejected");
    await officer.goto(`${URL}/ui/timeline`);
    const told = await officer.textContent("#told + ul");
    check(told.includes("відхилено") && told.includes("уточніть"), `the officer is not told: ${told}`);
    await officer.goto(`${URL}/ui/explanations`);
    check((await officer.locator("ol.mine > li").count()) >= 1 && (await officer.locator("#queue").count()) === 0, "the officer's own explanations");
    await audit(officer, "explanations-officer");
    await officer.goto(`${URL}/ui/inspections/${INSPECTION}`);
    const again = officer.locator("#gaps form.explain").first();
    check((await again.locator("button").textContent()).includes("ще раз"), "no way to explain again");
    await again.locator("select[name=reason]").selectOption("malfunction");
    await again.locator("input[name=text]").fill("e2e: акумулятор розрядився о 10:05, камеру замінено");
    await Promise.all([officer.waitForLoadState("load"), again.locator("button").click()]);
    const states = await officer.$$eval("#gaps li.gap:first-child .history [data-status]", (s) => s.map((x) => x.dataset.status));
    check(states.join() === "rejected,pending", `history ${states}`);
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    await Promise.all([sup.waitForLoadState("load"), sup.locator("#gaps form.decide button:not(.reject)").first().click()]);
    const after = await sup.$$eval("#gaps li.gap:first-child .history [data-status]", (s) => s.map((x) => x.dataset.status));
    check(after.join() === "rejected,approved", `history after approval ${after}`);
    await audit(sup, "inspection");
  });
  await step("no one decides on his own explanation", async () => {
    // The crashed camera's inspection: a gap nobody explained yet.
    await sup.goto(`${URL}/ui/inspections/${RUN}-insp02`);
    const form = sup.locator("#gaps form.explain").first();
    await form.locator("input[name=text]").fill("e2e: пояснення керівника");
    await Promise.all([sup.waitForLoadState("load"), form.locator("button").click()]);
    const own = sup.locator("#gaps li.gap", { hasText: "e2e: пояснення керівника" });
    check((await own.locator("form.decide").count()) === 0, "offered to decide his own explanation");
    check((await own.textContent()).includes("інший керівник"), "not told another supervisor decides");
    const id = await own.locator(".history li").last().getAttribute("data-reason");
    const csrf = await sup.getAttribute("input[name=csrf]", "value");
    const st = await sup.evaluate(async ([id, csrf]) => (await fetch(`/v1/gap-reasons/${id}/approve`, { method: "POST", headers: { "x-csrf-token": csrf } })).status, [id, csrf]);
    check(st === 403, `approving his own explanation answered ${st}`);
  });
  await step("the inspection page plays every officer's camera in step, with speed, frame step, a still and a clip kept as a bookmark", async () => {
    // An inspection two officers worked, as the customs system would send it.
    const imp = await signIn("administrator");
    await imp.goto(`${URL}/ui/admin`);
    const csrf = await imp.getAttribute("input[name=csrf]", "value");
    const c = await sup.evaluate(async (insp) => (await fetch(`/v1/inspections/${insp}/coverage`)).json(), INSPECTION);
    const made = await imp.evaluate(async ([csrf, c, run]) => {
      const r = await fetch("/v1/inspections", { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ inspection_id: `${run}-joint`, crossing_point: "UA-KYIV-01", lane: "2", officers: ["UA-1000", "UA-1003"],
          start: c.start, end: c.end, vehicle_plate: "BC 7777 XX", declaration_no: "UA100000/2026/777777", kind: "goods", outcome: "violation" }) });
      return [r.status, await r.text()];
    }, [csrf, c, RUN]);
    check(made[0] === 200 && made[1].includes('"new"'), `import: ${made}`);
    await imp.context().close();
    await sup.goto(`${URL}/ui/inspections/${RUN}-joint`);
    check((await sup.locator(".side video").count()) === 2, "not both cameras side by side");
    check((await sup.locator("#twins li").count()) >= 1, "the twin record not shown where it falls");
    await sup.click("#play-both");
    check(await sup.isVisible("#reason-msg"), "played without a reason");
    await sup.fill("#reason", "e2e: скарга на огляд двох інспекторів");
    await sup.selectOption("#speed", "2");
    await sup.click("#play-both");
    await sup.waitForFunction(() => [...document.querySelectorAll(".side video")].filter((v) => !v.paused && v.currentTime > 0.3).length === 2, null, { timeout: 20000 });
    const rates = await sup.$$eval(".side video", (vs) => vs.map((v) => v.playbackRate));
    check(rates.every((r) => r === 2), `speed ${rates}`);
    const drift = await sup.$$eval(".side video", (vs) => Math.abs(vs[0].currentTime - vs[1].currentTime));
    check(drift < 0.5, `the cameras drift ${drift} s apart`);
    const t1 = Number(await sup.getAttribute("#clock", "data-t"));
    await sup.waitForTimeout(600);
    const t2 = Number(await sup.getAttribute("#clock", "data-t"));
    check(t2 > t1 && await sup.$eval("#ihead", (l) => !l.hasAttribute("visibility")), "the wall clock does not run");
    await sup.click("#play-both");
    const before = Number(await sup.getAttribute("#clock", "data-t"));
    await sup.click("#frame-fwd");
    check(Number(await sup.getAttribute("#clock", "data-t")) - before === 40, "frame step is not one frame");
    await sup.click("#still");
    check((await sup.getAttribute("#still-img", "src")).startsWith("data:image/png"), "no still image");
    await sup.click("#clip-from");
    for (let i = 0; i < 5; i++) await sup.click("#frame-fwd");
    await sup.click("#clip-to");
    await sup.fill("#clip-label", "e2e: момент огляду вантажу");
    await sup.click("#clip-save");
    await sup.waitForSelector("#clip-msg.ok", { timeout: 10000 });
    const found = await sup.evaluate(async () => (await (await fetch("/v1/bookmarks?q=" + encodeURIComponent("момент огляду"))).json()));
    check(JSON.stringify(found).includes(`joint`), `bookmark not found: ${JSON.stringify(found).slice(0, 200)}`);
    await audit(sup, "inspection-player");
  });
  await step("supervisor reviews an inspection of the week's sample; the outcome is a custody event", async () => {
    await sup.goto(`${URL}/ui/review`);
    check((await sup.locator("table.review tbody tr").count()) === 5, "not every officer's week");
    check((await sup.locator("table.review li[data-why]").count()) >= 5, "not one inspection per officer at least");
    check((await sup.locator("[data-cp] figure svg").count()) >= 2, "per-officer charts missing");
    await audit(sup, "review");
    const item = sup.locator("table.review li[data-reviewed=false] a").first();
    const id = (await item.textContent()).trim();
    await Promise.all([sup.waitForURL((u) => u.pathname === `/ui/inspections/${id}`), item.click()]);
    await sup.check("#review-form input[name=check_filmed_throughout]");
    await sup.check("#review-form input[name=check_conduct_proper]");
    await sup.check("#review-form input[value=concerns]");
    const [refused] = await Promise.all([sup.waitForResponse((r) => r.request().method() === "POST"), sup.click("#review-form button[type=submit]")]);
    check(refused.status() === 400 && (await sup.textContent("main")).includes("примітка"), `concerns without a note: ${refused.status()}`);
    await sup.goBack();
    await sup.fill("#review-form input[name=note]", "e2e: не попереджено про запис на початку");
    await Promise.all([sup.waitForLoadState("load"), sup.click("#review-form button[type=submit]")]);
    const done = await sup.textContent("#reviews li[data-outcome=concerns]");
    check(done.includes("огляд знято повністю") && done.includes("не попереджено"), `review ${done}`);
    await sup.goto(`${URL}/ui/review`);
    check((await sup.getAttribute(`table.review li[data-inspection='${id}']`, "data-reviewed")) === "true", "not marked reviewed");
    await sup.goto(`${URL}/ui/custody?subject=${encodeURIComponent("inspection " + id)}`);
    check((await sup.locator("#custody tr[data-action=review]").count()) === 1, "the review is not a custody event");
  });
  await step("the interface switches between Ukrainian and English", async () => {
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    check((await sup.getAttribute("html", "lang")) === "uk", "not Ukrainian by default");
    check((await sup.textContent("h1")).includes("Огляд"), "no Ukrainian heading");
    await Promise.all([sup.waitForLoadState("load"), sup.click("header a[lang=en]")]);
    check((await sup.getAttribute("html", "lang")) === "en", "not English after switching");
    check((await sup.textContent("h1")).includes("Inspection"), `heading ${await sup.textContent("h1")}`);
    check(sup.url().includes(`/ui/inspections/${INSPECTION}`), "did not stay on the page");
    await shot(sup, "inspection-en");
    await Promise.all([sup.waitForLoadState("load"), sup.click("header a[lang=uk]")]);
    check((await sup.getAttribute("html", "lang")) === "uk", "not back to Ukrainian");
  });

  // A supervisor of another crossing point sees none of it.
  const far = await signIn("far");
  await step("a supervisor of another crossing point sees nothing of this one", async () => {
    check((await far.locator("[data-cp='UA-KYIV-01']").count()) === 0, "foreign crossing point on the dashboard");
    check((await statusOf(far, `/ui/inspections/${INSPECTION}`)) === 404, "foreign inspection shown");
    check((await statusOf(far, `/ui/timeline?device=${OWN}`)) === 403, "foreign camera shown");
  });

  // Analyst: search by plate in any spelling.
  const analyst = await signIn("analyst");
  await step("analyst finds both inspections of a plate spelt in Latin or Cyrillic", async () => {
    await analyst.goto(`${URL}/ui/search`);
    await analyst.fill("input[name=vehicle_plate]", "aa 1234 bb");
    await Promise.all([analyst.waitForLoadState("load"), analyst.click("main form button[type=submit]")]);
    const ids = await analyst.$$eval("#results tbody tr td:first-child", (tds) => tds.map((t) => t.textContent.trim()));
    check(ids.includes(`${RUN}-insp00`) && ids.includes(`${RUN}-insp01`) && ids.length === 2, `found ${ids}`);
    await audit(analyst, "search");
  });

  // Cases: a supervisor opens one on a complaint about an inspection and fills it; the
  // analyst makes the package and records its release; the supervisor closes it.
  let caseUrl = null;
  await step("supervisor opens a case on a complaint about an inspection and fills it", async () => {
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    await Promise.all([sup.waitForURL((u) => u.pathname === "/ui/cases"), sup.click("#open-complaint")]);
    await sup.fill("#case-form input[name=reference]", "СКАРГА-e2e-1");
    await Promise.all([sup.waitForURL((u) => u.pathname.startsWith("/ui/cases/")), sup.click("#case-form button[type=submit]")]);
    caseUrl = sup.url();
    const held = await sup.$$eval("#items tbody tr", (trs) => trs.map((tr) => [tr.dataset.kind, tr.querySelector(".hold").textContent.trim()]));
    check(held.length === 1 && held[0][0] === "inspection" && held[0][1] === "утримується", `items ${JSON.stringify(held)}`);
    await sup.fill("#add-note input[name=text]", "e2e: скаржник просить копію запису");
    await Promise.all([sup.waitForLoadState("load"), sup.click("#add-note button")]);
    check((await sup.locator("#items tbody tr").count()) === 2, "note not added");
    check((await sup.locator("#export-form").count()) === 0, "a supervisor offered the package");
    await audit(sup, "case");
  });
  await step("analyst makes the evidence package and records its release to a named recipient", async () => {
    await analyst.goto(`${URL}/ui/cases`);
    check((await analyst.locator("#cases tbody tr").count()) >= 2, "cases not listed");
    await audit(analyst, "cases");
    await analyst.goto(caseUrl);
    await Promise.all([analyst.waitForLoadState("load"), analyst.click("#export-form button")]);
    check((await analyst.locator("#packages li").count()) === 1, "no package");
    await analyst.fill("#release-form input[name=recipient]", "Прокуратура Київської області (e2e)");
    await Promise.all([analyst.waitForLoadState("load"), analyst.click("#release-form button")]);
    check((await analyst.textContent("#releases")).includes("Прокуратура Київської області (e2e)"), "release not recorded");
    const sha = await analyst.getAttribute("#packages li", "data-sha");
    const receipt = await analyst.evaluate(async (sha) => (await fetch(`/v1/receipts/${sha}`)).json(), sha);
    check(JSON.stringify(receipt).includes("Прокуратура"), `receipt ${JSON.stringify(receipt).slice(0, 200)}`);
    await audit(analyst, "case-analyst");
  });
  await step("supervisor closes the case: it holds nothing any more", async () => {
    await sup.goto(caseUrl);
    await Promise.all([sup.waitForLoadState("load"), sup.click("#close-form button")]);
    check((await sup.getAttribute("#case-state", "data-open")) === "false", "not closed");
    check((await sup.locator("#items .hold", { hasText: "утримується" }).count()) === 0, "still held");
    check((await sup.locator("#add-note").count()) === 0, "a closed case offered to add");
  });

  // Auditor: the custody trail shows the officer's view with its reason; proof checked here.
  const auditor = await signIn("auditor");
  await step("auditor sees who viewed the footage and why, and checks its proof in the browser", async () => {
    await auditor.goto(`${URL}/ui/custody?subject=${encodeURIComponent("device " + OWN)}`);
    const rows = await auditor.$$eval("#custody tbody tr", (trs) => trs.map((tr) => [tr.dataset.action, Number(tr.dataset.count), tr.textContent]));
    const view = rows.findIndex(([a, , r]) => a === "view" && r.includes("officer") && r.includes("e2e: перевіряю скаргу"));
    check(view >= 0, `no view event among ${rows.length} rows`);
    // One row per viewing session: the segments watched with one reason, counted.
    check(rows[view][1] >= 2 && rows[view][2].includes("перегляд записів"), `not one session: ${rows[view]}`);
    check((await auditor.textContent(".zone")).includes("Europe/Kyiv"), "custody times' zone not named");
    const row = auditor.locator("#custody tbody tr").nth(view);
    await row.locator("button.check-proof").click();
    await row.locator(".proof-result.ok").waitFor({ timeout: 10000 });
    const result = await row.locator(".proof-result").textContent();
    check(result.includes("Ed25519") && !result.includes("✗"), result);
    console.log(`  ${result}`);
    await audit(auditor, "custody");
  });
  await step("the custody trail is filtered and prints as a PDF for a court file", async () => {
    await auditor.selectOption("select[name=action]", "assign");
    await Promise.all([auditor.waitForLoadState("load"), auditor.click("main form.row button[type=submit]")]);
    const actions = await auditor.$$eval("#custody tbody tr", (trs) => trs.map((tr) => tr.dataset.action));
    check(actions.length >= 1 && actions.every((a) => a === "assign"), `filtered: ${actions}`);
    check(await auditor.isVisible("button.print"), "no print button");
    const pdf = await auditor.pdf({ path: `${SHOTS}/custody.pdf`, format: "A4" });
    check(pdf.subarray(0, 5).toString() === "%PDF-" && pdf.length > 5000, `PDF of ${pdf.length} bytes`);
    await auditor.goto(`${URL}/ui/custody?subject=${encodeURIComponent("device " + OWN)}`);
  });
  await step("an entry altered in the page fails the proof check", async () => {
    const row = auditor.locator("#custody tbody tr").first();
    await row.locator("button.check-proof").evaluate((b) => {
      const bytes = Uint8Array.from(atob(b.dataset.entry), (c) => c.charCodeAt(0));
      bytes[10] ^= 1;
      b.dataset.entry = btoa(String.fromCharCode(...bytes));
    });
    await row.locator("button.check-proof").click();
    await row.locator(".proof-result.error").waitFor({ timeout: 10000 });
  });
  await step("auditor may read but not decide or administer", async () => {
    await auditor.goto(`${URL}/ui/inspections/${INSPECTION}`);
    check((await auditor.locator("#gaps form").count()) === 0, "auditor offered a form");
    check((await statusOf(auditor, "/ui/admin")) === 403, "admin not refused");
  });

  // Release: the supervisor redacts two boxes and a sound span, shares the copy with a
  // named recipient, who opens it with the code and downloads it; an expired link refuses.
  let shared = null;
  await step("supervisor redacts two boxes, a sound span and a blurred span on an inspection", async () => {
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    await Promise.all([sup.waitForLoadState("load"), sup.click("#redactions a[href^='/ui/redact?']")]);
    await sup.waitForFunction(() => document.getElementById("source").readyState >= 1, null, { timeout: 30000 });
    const seek = async (t) => {
      await sup.evaluate((t) => new Promise((ok) => {
        const v = document.getElementById("source");
        v.addEventListener("seeked", () => ok(), { once: true });
        v.currentTime = t;
      }), t);
    };
    const drag = async (x1, y1, x2, y2) => {
      const b = await sup.locator("#boxes").boundingBox();
      await sup.mouse.move(b.x + b.width * x1, b.y + b.height * y1);
      await sup.mouse.down();
      await sup.mouse.move(b.x + b.width * x2, b.y + b.height * y2, { steps: 4 });
      await sup.mouse.up();
    };
    await seek(1);
    await drag(0.1, 0.1, 0.35, 0.35);
    await seek(4);
    await drag(0.4, 0.3, 0.65, 0.55);
    await sup.click("#new-box");
    await sup.selectOption("#box-style", "black");
    await seek(2);
    await drag(0.6, 0.6, 0.85, 0.85);
    await seek(1);
    await sup.click("#sound-from");
    await seek(3);
    await sup.click("#sound-to");
    await sup.selectOption("#sound-kind", "blur");
    await seek(5);
    await sup.click("#sound-from");
    await seek(6);
    await sup.click("#sound-to");
    const ops = JSON.parse(await sup.inputValue("#ops"));
    check(ops.blur.length === 1 && ops.blur[0].from_ms === 5000, `frame blur ${JSON.stringify(ops.blur)}`);
    check(ops.boxes.length === 2 && ops.boxes[0].keys.length === 2 && ops.boxes[1].style === "black", `boxes ${JSON.stringify(ops.boxes)}`);
    check(ops.bleep.length === 1 && ops.bleep[0].from_ms === 1000 && ops.bleep[0].to_ms === 3000, `sound ${JSON.stringify(ops)}`);
    check((await sup.locator("#op-list li").count()) === 4, "operations not listed");
    await audit(sup, "redact");
    await sup.fill("input[name=reason]", "e2e: copy for the complainant");
    await Promise.all([sup.waitForURL((u) => u.pathname.startsWith("/ui/redactions/")), sup.click("#redact-form button[type=submit]")]);
    // Rendered in the background: the page shows its progress and reloads until it plays.
    await sup.waitForSelector("#copy", { timeout: 90000 });
    await sup.waitForFunction(() => document.getElementById("copy").readyState >= 1, null, { timeout: 30000 });
    check((await sup.textContent("main pre")).includes("bleep 1000 3000"), "operations not shown");
    await audit(sup, "redaction");
  });
  await step("supervisor shares the copy with a named recipient", async () => {
    await sup.fill("input[name=recipient]", "Олена Коваль, адвокатка");
    await sup.fill("input[name=purpose]", "e2e: скарга");
    await Promise.all([sup.waitForLoadState("load"), sup.click("#share-form button[type=submit]")]);
    shared = { link: (await sup.textContent("#share-link")).trim(), code: (await sup.textContent("#share-code")).trim() };
    check(/^http:\/\/.+\/shared\/[0-9a-f]{16}$/.test(shared.link) && /^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/.test(shared.code), JSON.stringify(shared));
  });
  await step("the recipient opens the link with the code and downloads the package", async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
    const rec = await ctx.newPage();
    await rec.goto(shared.link);
    await rec.fill("input[name=code]", shared.code);
    await Promise.all([rec.waitForLoadState("load"), rec.click("#code-form button[type=submit]")]);
    await rec.waitForSelector("#verdict", { timeout: 90000 });
    check((await rec.locator("#verdict.ok").count()) === 1, `not verified: ${await rec.textContent("main")}`);
    check((await rec.textContent("#recipient")).includes("Олена Коваль"), "recipient not named");
    await audit(rec, "shared");
    const [dl] = await Promise.all([rec.waitForEvent("download"), rec.click("#download")]);
    const file = `${SHOTS}/shared-package.zip`;
    await dl.saveAs(file);
    console.log(`  downloaded ${file}`);
    // The code opened it once: another browser cannot use it again.
    const other = await (await browser.newContext()).newPage();
    await other.goto(shared.link);
    await other.fill("input[name=code]", shared.code);
    const [res] = await Promise.all([other.waitForResponse((r) => r.request().method() === "POST"), other.click("#code-form button[type=submit]")]);
    check(res.status() === 403, `code used twice: ${res.status()}`);
  });
  await step("a share past its expiry refuses its link", async () => {
    const redaction = sup.url().split("/ui/redactions/")[1].split("/")[0];
    const csrf = await sup.getAttribute("input[name=csrf]", "value");
    const expires = new Date(Date.now() + 2000).toISOString();
    const made = await sup.evaluate(async ([redaction, csrf, expires]) => {
      const r = await fetch("/v1/shares", { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ redaction, recipient: "e2e", purpose: "expiry", expires_at: expires }) });
      return [r.status, await r.json()];
    }, [redaction, csrf, expires]);
    check(made[0] === 201, `share: ${JSON.stringify(made)}`);
    await new Promise((ok) => setTimeout(ok, 2500));
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${URL}${made[1].link}`);
    check(res.status() === 410 && (await page.textContent("main")).includes("expired"), `expired link answered ${res.status()}`);
  });
  await step("an officer asks for his footage to be preserved and a supervisor approves", async () => {
    const local = (ms) => new Date(ms).toLocaleString("sv-SE", { timeZone: "Europe/Kyiv" }).replace(" ", "T").slice(0, 16);
    await officer.goto(`${URL}/ui/preservation`);
    await officer.fill("#preserve-form input[name=from]", local(Date.now() - 3 * 3600e3));
    await officer.fill("#preserve-form input[name=to]", local(Date.now()));
    await officer.fill("#preserve-form input[name=reason]", "e2e: скарга на мене");
    await Promise.all([officer.waitForLoadState("load"), officer.click("#preserve-form button[type=submit]")]);
    check((await officer.textContent("#requests .request-state")).includes("очікує"), "request not pending");
    check((await officer.locator("#requests form").count()) === 0, "the officer offered a decision");
    check((await officer.locator("#viewers, #no-views").count()) === 1, "who viewed his footage not shown");
    await audit(officer, "preservation");
    await sup.goto(`${URL}/ui/preservation`);
    const row = () => sup.locator("#requests tbody tr", { hasText: "e2e: скарга на мене" });
    await row().locator("input[name=comment]").fill("e2e: зберегти");
    await Promise.all([sup.waitForLoadState("load"), row().locator("button[value=approve]").click()]);
    check((await row().locator(".request-state").textContent()).includes("схвалено"), "not approved");
  });

  // Administrator: people, crossing points, devices; no footage.
  const admin = await signIn("administrator");
  await step("administrator manages crossing points and users but sees no footage", async () => {
    await admin.goto(`${URL}/ui/admin`);
    check((await admin.textContent("#users")).includes("supervisor"), "users not listed");
    await audit(admin, "admin");
    const form = admin.locator("form[action='/ui/admin/crossing-point']");
    await form.locator("input[name=code]").fill("UA-LVIV-01");
    await form.locator("input[name=name_uk]").fill("Шегині");
    await form.locator("input[name=name_latin]").fill("Shehyni");
    await form.locator("input[name=lanes]").fill("1, 2");
    await Promise.all([admin.waitForLoadState("load"), form.locator("button").click()]);
    check((await admin.textContent("#message")).includes("UA-LVIV-01"), "not saved");
    await admin.goto(`${URL}/ui/admin`);
    check((await admin.textContent("#crossing-points")).includes("Шегині"), "crossing point not listed");
    await admin.goto(`${URL}/ui/cameras`);
    await audit(admin, "cameras");
    check((await statusOf(admin, `/ui/timeline?device=${OWN}`)) === 403, "administrator shown footage");
  });
  await step("signing out ends the session", async () => {
    await admin.goto(`${URL}/ui/admin`);
    await Promise.all([admin.waitForURL((u) => u.pathname.endsWith("/login")), admin.click("header form button")]);
    await admin.goto(`${URL}/ui/admin`);
    check(admin.url().endsWith("/ui/login"), `still in: ${admin.url()}`);
  });
  await step("every page was checked with axe-core, in Ukrainian and on a phone", async () => {
    console.log(`  ${audited.size} pages: ${[...audited].join(", ")}`);
    check(audited.size >= 25, `only ${audited.size} pages audited`);
  });
} catch (e) {
  exit = 1;
} finally {
  await browser.close();
}
process.exit(exit);
