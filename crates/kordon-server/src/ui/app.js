// kordon's own small script: continuous playback on the shift timeline, and checking an
// inclusion proof in the browser (RFC 9162 §2.1.3.2 with WebCrypto SHA-256).
"use strict";

function timelinePlayer() {
  const data = document.getElementById("timeline-data");
  if (!data) return;
  const d = JSON.parse(data.textContent);
  const segs = d.segments;
  const video = document.getElementById("player");
  const reason = document.getElementById("reason");
  const msg = document.getElementById("reason-msg");
  const now = document.getElementById("now-playing");
  let current = -1;
  function play(i, offsetMs) {
    if (!reason.value.trim()) {
      msg.textContent = d.reason_needed;
      msg.hidden = false;
      reason.focus();
      return;
    }
    msg.hidden = true;
    current = i;
    const s = segs[i];
    video.src = s.src + "?reason=" + encodeURIComponent(reason.value.trim());
    video.dataset.seq = s.seq;
    video.addEventListener("loadedmetadata", function seek() {
      video.removeEventListener("loadedmetadata", seek);
      if (offsetMs > 0) video.currentTime = offsetMs / 1000;
      video.play().catch(() => {});
    });
    video.load();
    now.textContent = s.label + (skipped ? " — " + skipped : "");
    skipped = "";
  }
  let skipped = "";
  // Continuous across segment boundaries: when one ends, the next begins; time without
  // recording in between is said, not jumped over silently.
  video.addEventListener("ended", () => {
    if (current + 1 < segs.length) {
      const gap = segs[current + 1].start - segs[current].end;
      if (gap > 1000) skipped = d.skipped.replace("{s}", Math.round(gap / 1000));
      play(current + 1, 0);
    }
  });
  // The playhead on the axis follows the video.
  const head = document.getElementById("playhead");
  video.addEventListener("timeupdate", () => {
    if (!head || current < 0) return;
    const [t0, t1] = d.window;
    const x = (1000 * (segs[current].start + video.currentTime * 1000 - t0)) / (t1 - t0);
    head.setAttribute("x1", x);
    head.setAttribute("x2", x);
    head.removeAttribute("visibility");
  });
  const svg = document.getElementById("timeline");
  svg.addEventListener("click", (e) => {
    const r = svg.getBoundingClientRect();
    const [t0, t1] = d.window;
    const t = t0 + ((e.clientX - r.left) / r.width) * (t1 - t0);
    let i = segs.findIndex((s) => s.start <= t && t < s.end);
    if (i < 0) i = segs.findIndex((s) => s.start >= t);
    if (i >= 0) play(i, Math.max(0, t - segs[i].start));
  });
  document.querySelectorAll("button.play").forEach((b) =>
    b.addEventListener("click", () => {
      const i = segs.findIndex((s) => String(s.seq) === b.dataset.seq);
      if (i >= 0) play(i, 0);
    })
  );
}

// The inspection's own player: every camera in step with one wall clock `T` (Unix ms).
// A camera without footage at `T` pauses and says so; the first camera playing drives the
// clock, else a timer does (through a gap).
function inspectionPlayer() {
  const data = document.getElementById("inspection-data");
  if (!data) return;
  const d = JSON.parse(data.textContent);
  const [w0, w1] = d.window;
  const $ = (id) => document.getElementById(id);
  const reason = $("reason"), msg = $("reason-msg"), head = $("ihead"), clockOut = $("clock");
  const views = d.cameras.map((c, k) => ({ c, video: $(`cam-${k}`), note: $(`cam-${k}-note`), seg: -1 }));
  const fmt = new Intl.DateTimeFormat(d.lang, { timeZone: d.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const say = (ms) => `${fmt.format(new Date(ms))},${Math.floor((ms % 1000) / 100)}`;
  let T = d.start, playing = false, rate = 1, tick = 0, from = null, to = null;
  const asked = () => {
    if (reason.value.trim()) { msg.hidden = true; return true; }
    msg.textContent = d.words.reason_needed;
    msg.hidden = false;
    reason.focus();
    return false;
  };
  function follow(seek) {
    for (const v of views) {
      const i = v.c.segments.findIndex((s) => s.start <= T && T < s.end);
      if (i < 0) {
        v.seg = -1;
        if (!v.video.paused) v.video.pause();
        v.video.classList.add("off");
        v.note.textContent = d.words.no_footage;
        continue;
      }
      v.video.classList.remove("off");
      v.note.textContent = "";
      const s = v.c.segments[i];
      const want = (T - s.start) / 1000;
      if (v.seg !== i) {
        if (!reason.value.trim()) continue;
        v.seg = i;
        v.video.src = s.src + "?reason=" + encodeURIComponent(reason.value.trim());
        v.video.dataset.seq = s.seq;
        v.video.addEventListener("loadedmetadata", () => {
          v.video.currentTime = (T - s.start) / 1000;
          v.video.playbackRate = rate;
          if (playing) v.video.play().catch(() => {});
        }, { once: true });
        v.video.load();
        continue;
      }
      if (v.video.readyState >= 1 && (seek || Math.abs(v.video.currentTime - want) > 0.35)) v.video.currentTime = want;
      v.video.playbackRate = rate;
      if (playing && v.video.paused && v.video.readyState >= 2) v.video.play().catch(() => {});
      if (!playing && !v.video.paused) v.video.pause();
    }
    const x = (1000 * (T - w0)) / (w1 - w0);
    head.setAttribute("x1", x);
    head.setAttribute("x2", x);
    head.removeAttribute("visibility");
    clockOut.value = say(T);
    clockOut.dataset.t = T;
  }
  function frame(now) {
    if (!playing) return;
    const lead = views.find((v) => v.seg >= 0 && !v.video.paused && v.video.readyState >= 2);
    if (lead) T = lead.c.segments[lead.seg].start + lead.video.currentTime * 1000;
    else T += (now - tick) * rate;
    tick = now;
    if (T >= w1) { T = w1; setPlaying(false); }
    follow(false);
    requestAnimationFrame(frame);
  }
  function setPlaying(on) {
    playing = on;
    $("play-both").textContent = on ? d.words.pause : d.words.play;
    if (on) { tick = performance.now(); requestAnimationFrame(frame); }
    follow(false);
  }
  $("play-both").addEventListener("click", () => { if (playing || asked()) setPlaying(!playing); });
  $("speed").addEventListener("change", (e) => { rate = Number(e.target.value); follow(false); });
  const step = (ms) => { if (!asked()) return; setPlaying(false); T = Math.min(w1, Math.max(w0, T + ms)); follow(true); };
  $("frame-back").addEventListener("click", () => step(-40));
  $("frame-fwd").addEventListener("click", () => step(40));
  $("axis").addEventListener("click", (e) => {
    if (e.target.closest("a") || !asked()) return;
    const r = $("axis").getBoundingClientRect();
    T = w0 + ((e.clientX - r.left) / r.width) * (w1 - w0);
    follow(true);
  });
  $("still").addEventListener("click", () => {
    const v = views.find((v) => v.seg >= 0 && v.video.readyState >= 2);
    if (!v) return;
    const c = document.createElement("canvas");
    c.width = v.video.videoWidth;
    c.height = v.video.videoHeight;
    c.getContext("2d").drawImage(v.video, 0, 0);
    const url = c.toDataURL("image/png");
    $("still-img").src = url;
    $("still-img").hidden = false;
    $("still-link").href = url;
    $("still-link").download = `${v.c.device}-${T}.png`;
    $("still-link").hidden = false;
  });
  const span = () => { $("clip-span").value = from === null ? "" : `${say(from)} – ${to === null ? "…" : say(to)}`; };
  $("clip-from").addEventListener("click", () => { from = T; to = null; span(); });
  $("clip-to").addEventListener("click", () => { if (from !== null && T > from) to = T; span(); });
  $("clip-save").addEventListener("click", async () => {
    const out = $("clip-msg");
    const label = $("clip-label").value.trim();
    if (from === null || to === null || !label) { out.textContent = d.words.clip_needs; return; }
    const v = views.find((v) => v.c.segments.some((s) => s.start <= from && from < s.end)) || views[0];
    const r = await fetch("/v1/bookmarks", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": d.csrf },
      body: JSON.stringify({ inspection_id: d.inspection, device: v.c.device, at: new Date(from).toISOString(), label: `${label} (${say(from)} – ${say(to)})` }),
    });
    const body = await r.json();
    out.textContent = r.status === 201 ? `${d.words.clip_saved} (${body.id})` : `✗ ${body.message}`;
    out.className = r.status === 201 ? "ok" : "error";
  });
  follow(false);
}

function b64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { buf.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

function hex(a) {
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

// RFC 9162 §2.1.3.2: verify an inclusion proof.
async function verifyInclusion(leaf, index, size, path, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && hex(r) === hex(root);
}

// The log's signature on the checkpoint (C2SP signed-note, Ed25519 key type 0x01),
// checked with WebCrypto against the log's verifier key. Answers true, false, or null
// when the key is of another type.
async function checkpointSigned(body, sigLines) {
  const vkey = (await (await fetch("/log/verifier-key")).text()).trim();
  // name+hash+key: the name has no '+', the hash is 8 hex digits, the base64 key may.
  const at = vkey.indexOf("+");
  const name = vkey.slice(0, at), hash = vkey.slice(at + 1, at + 9), key64 = vkey.slice(at + 10);
  const key = b64(key64);
  if (key[0] !== 1 || key.length !== 33) return null;
  const line = sigLines.find((l) => l.startsWith("\u2014 " + name + " "));
  if (!line) return false;
  const sig = b64(line.split(" ")[2]);
  if (hex(sig.slice(0, 4)) !== hash) return false;
  const k = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, k, sig.slice(4), new TextEncoder().encode(body));
}

const WORDS = {
  uk: {
    ok: (leaf, i, n, origin) => `✓ перевірено в цьому браузері: запис (відбиток ${leaf}…) стоїть у журналі ${origin} під номером ${i} із ${n}, і журнал не міг його непомітно змінити`,
    signed: "; підпис журналу правильний (Ed25519)",
    unsigned: "; ✗ підпис журналу НЕ правильний",
    other: "; підпис журналу перевіряє програма kordon-verify",
    bad: "✗ запис НЕ підтверджено журналом: його змінено",
  },
  en: {
    ok: (leaf, i, n, origin) => `✓ verified in this browser: the entry (leaf SHA-256 ${leaf}…) is at index ${i} in the tree of size ${n} whose root is in the checkpoint of log ${origin}`,
    signed: "; the log's signature on the checkpoint is valid (Ed25519)",
    unsigned: "; ✗ the log's signature on the checkpoint is NOT valid",
    other: "; kordon-verify checks the checkpoint's signature",
    bad: "✗ the inclusion proof does NOT hold",
  },
};

function proofChecks() {
  const w = WORDS[document.documentElement.lang] || WORDS.en;
  document.querySelectorAll("button.check-proof").forEach((b) =>
    b.addEventListener("click", async () => {
      const out = b.nextElementSibling;
      try {
        const text = await (await fetch("/v1/log/proof/" + b.dataset.index)).text();
        // tlog-proof: header, blank line, the checkpoint note (body, blank line, signatures).
        const [head, body, sigs] = text.split("\n\n");
        const lines = head.split("\n");
        const index = Number(lines.find((l) => l.startsWith("index ")).slice(6));
        const path = lines.filter((l) => /^[A-Za-z0-9+/=]{44}$/.test(l)).map(b64);
        const cp = body.split("\n");
        const origin = cp[0], size = Number(cp[1]), root = b64(cp[2]);
        const entry = b64(b.dataset.entry);
        const leaf = await sha256(Uint8Array.of(0), entry);
        const included = await verifyInclusion(leaf, index, size, path, root);
        const signed = included ? await checkpointSigned(body + "\n", (sigs || "").split("\n")) : false;
        const ok = included && signed !== false;
        out.textContent = !included
          ? w.bad
          : w.ok(hex(leaf).slice(0, 16), index, size, origin) + (signed === null ? w.other : signed ? w.signed : w.unsigned);
        out.className = "proof-result " + (ok ? "ok" : "error");
      } catch (e) {
        out.textContent = "✗ " + e;
        out.className = "proof-result error";
      }
    })
  );
}

document.addEventListener("DOMContentLoaded", () => {
  timelinePlayer();
  inspectionPlayer();
  proofChecks();
  document.querySelectorAll("button.print").forEach((b) => b.addEventListener("click", () => window.print()));
});
