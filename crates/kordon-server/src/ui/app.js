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
    now.textContent = s.label;
  }
  // Continuous across segment boundaries: when one ends, the next begins.
  video.addEventListener("ended", () => {
    if (current + 1 < segs.length) play(current + 1, 0);
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

function proofChecks() {
  document.querySelectorAll("button.check-proof").forEach((b) =>
    b.addEventListener("click", async () => {
      const out = b.nextElementSibling;
      try {
        const text = await (await fetch("/v1/log/proof/" + b.dataset.index)).text();
        const [head, checkpoint] = text.split("\n\n");
        const lines = head.split("\n");
        const index = Number(lines.find((l) => l.startsWith("index ")).slice(6));
        const path = lines.filter((l) => /^[A-Za-z0-9+/=]{44}$/.test(l)).map(b64);
        const cp = checkpoint.split("\n");
        const origin = cp[0], size = Number(cp[1]), root = b64(cp[2]);
        const entry = b64(b.dataset.entry);
        const leaf = await sha256(Uint8Array.of(0), entry);
        const ok = await verifyInclusion(leaf, index, size, path, root);
        out.textContent = ok
          ? "✓ verified in this browser: leaf SHA-256 " + hex(leaf).slice(0, 16) + "… at index " + index +
            " is in the tree of size " + size + " whose root is in the checkpoint of " + origin +
            " (checkpoint signature: check with kordon-verify)"
          : "✗ the proof does NOT hold";
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
  proofChecks();
});
