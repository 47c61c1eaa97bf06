// kordon's web interface in real headless Chromium (Debian's, driven by playwright-core),
// against a real `kordon demo` server with simulated fleet data. Run by
// crates/kordon-cli/tests/browser.rs, which starts the server and passes:
//   KORDON_URL, KORDON_PASSWORD, OWN_CAMERA (the officer's camera), OTHER_CAMERA,
//   RUN (the simulated run's prefix), SHOTS (where to save screenshots), CHROMIUM.
// Prints "ok <step>" per step; exits non-zero at the first step that does not hold.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

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
  const charts = await page.$$eval("svg", (svgs) => svgs.filter((s) => !s.getAttribute("role") || !s.getAttribute("aria-label")).length);
  check(charts === 0, `${charts} charts without role and label on ${page.url()}`);
  check((await page.getAttribute("html", "lang")) !== null, "no document language");
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

let exit = 0;
try {
  // Officer: own recordings only; plays footage across a segment boundary; explains a gap.
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
    await officer.goto(`${URL}/ui/timeline`);
  });
  await step("footage needs a reason before it plays", async () => {
    await officer.click("button.play >> nth=0");
    check(await officer.isVisible("#reason-msg"), "no request for a reason");
    check((await officer.getAttribute("#player", "src")) === null, "played without a reason");
  });
  await step("footage plays continuously across a segment boundary", async () => {
    await officer.fill("#reason", "e2e: checking a complaint");
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
    await shot(officer, "timeline");
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
    await form.locator("input[name=text]").fill("e2e: the battery failed");
    await Promise.all([officer.waitForLoadState("load"), form.locator("button").click()]);
    await officer.waitForSelector("#gaps span.status");
    const status = await officer.textContent("#gaps span.status");
    check(status.trim() === "pending", `status ${status}`);
  });

  // Supervisor: dashboard with charts, approves the reason, switches language.
  const sup = await signIn("supervisor");
  await step("supervisor sees the crossing point's dashboard with charts", async () => {
    const text = await sup.textContent("main");
    check(text.includes("UA-KYIV-01"), "crossing point missing");
    check((await sup.locator("main figure svg").count()) >= 2, "charts missing");
    for (const stat of ["assigned", "recording", "problems", "coverage", "unexplained", "backlog"]) {
      check((await sup.locator(`[data-stat=${stat}]`).count()) === 1, `dashboard figure ${stat} missing`);
    }
    await accessible(sup);
    await shot(sup, "dashboard");
  });
  await step("supervisor approves the officer's reason", async () => {
    await sup.goto(`${URL}/ui/inspections/${INSPECTION}`);
    await Promise.all([sup.waitForLoadState("load"), sup.click("#gaps form[action$='/approve'] button")]);
    await sup.waitForSelector("#gaps span.status");
    const status = await sup.textContent("#gaps span.status");
    check(status.trim() === "approved", `status ${status}`);
    await accessible(sup);
    await shot(sup, "inspection");
  });
  await step("the interface switches between Ukrainian and English", async () => {
    check((await sup.getAttribute("html", "lang")) === "uk", "not Ukrainian by default");
    check((await sup.textContent("h1")).includes("Огляд"), "no Ukrainian heading");
    await Promise.all([sup.waitForLoadState("load"), sup.click("nav a[lang=en]")]);
    check((await sup.getAttribute("html", "lang")) === "en", "not English after switching");
    check((await sup.textContent("h1")).includes("Inspection"), `heading ${await sup.textContent("h1")}`);
    check(sup.url().includes(`/ui/inspections/${INSPECTION}`), "did not stay on the page");
    await shot(sup, "inspection-en");
    await Promise.all([sup.waitForLoadState("load"), sup.click("nav a[lang=uk]")]);
    check((await sup.getAttribute("html", "lang")) === "uk", "not back to Ukrainian");
  });

  // A supervisor of another crossing point sees none of it.
  const far = await signIn("far");
  await step("a supervisor of another crossing point sees nothing of this one", async () => {
    check(!(await far.textContent("main")).includes("UA-KYIV-01"), "foreign crossing point on the dashboard");
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
    await accessible(analyst);
    await shot(analyst, "search");
  });

  // Auditor: the custody trail shows the officer's view with its reason; proof checked here.
  const auditor = await signIn("auditor");
  await step("auditor sees who viewed the footage and why, and checks its proof in the browser", async () => {
    await auditor.goto(`${URL}/ui/custody?subject=${encodeURIComponent("device " + OWN)}`);
    const rows = await auditor.$$eval("#custody tbody tr", (trs) => trs.map((tr) => tr.textContent));
    const view = rows.findIndex((r) => r.includes("officer") && r.includes("view") && r.includes("e2e: checking a complaint"));
    check(view >= 0, `no view event among ${rows.length} rows`);
    check(rows[view].includes("Europe/Kyiv"), "custody time not in the crossing point's zone");
    const row = auditor.locator("#custody tbody tr").nth(view);
    await row.locator("button.check-proof").click();
    await row.locator(".proof-result.ok").waitFor({ timeout: 10000 });
    const result = await row.locator(".proof-result").textContent();
    check(result.includes("Ed25519") && !result.includes("✗"), result);
    console.log(`  ${result}`);
    await shot(auditor, "custody");
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
    await accessible(sup);
    await shot(sup, "redact");
    await sup.fill("input[name=reason]", "e2e: copy for the complainant");
    await Promise.all([sup.waitForURL((u) => u.pathname.startsWith("/ui/redactions/")), sup.click("#redact-form button[type=submit]")]);
    // Rendered in the background: the page shows its progress and reloads until it plays.
    await sup.waitForSelector("#copy", { timeout: 90000 });
    await sup.waitForFunction(() => document.getElementById("copy").readyState >= 1, null, { timeout: 30000 });
    check((await sup.textContent("main pre")).includes("bleep 1000 3000"), "operations not shown");
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
    await accessible(rec);
    await shot(rec, "shared");
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
    await accessible(officer);
    await shot(officer, "preservation");
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
    await accessible(admin);
    const form = admin.locator("form[action='/ui/admin/crossing-point']");
    await form.locator("input[name=code]").fill("UA-LVIV-01");
    await form.locator("input[name=name_uk]").fill("Шегині");
    await form.locator("input[name=name_latin]").fill("Shehyni");
    await form.locator("input[name=lanes]").fill("1, 2");
    await Promise.all([admin.waitForLoadState("load"), form.locator("button").click()]);
    check((await admin.textContent("#message")).includes("UA-LVIV-01"), "not saved");
    await admin.goto(`${URL}/ui/admin`);
    check((await admin.textContent("#crossing-points")).includes("Шегині"), "crossing point not listed");
    await shot(admin, "admin");
    check((await statusOf(admin, `/ui/timeline?device=${OWN}`)) === 403, "administrator shown footage");
  });
  await step("signing out ends the session", async () => {
    await admin.goto(`${URL}/ui/admin`);
    await Promise.all([admin.waitForURL((u) => u.pathname.endsWith("/login")), admin.click("nav form button")]);
    await admin.goto(`${URL}/ui/admin`);
    check(admin.url().endsWith("/ui/login"), `still in: ${admin.url()}`);
  });
} catch (e) {
  exit = 1;
} finally {
  await browser.close();
}
process.exit(exit);
