// The redaction editor: drag on a paused frame to place a box (a new one, or the next
// keyframe of the box chosen), mark sound spans from the playhead. The operations are the
// JSON in #ops (kordon_api::release::OpsIn), which the form posts; it may be typed too.
(() => {
  const video = document.getElementById('source');
  const canvas = document.getElementById('boxes');
  const ops = document.getElementById('ops');
  const list = document.getElementById('op-list');
  if (!video || !canvas || !ops) return;
  const words = list.dataset;
  let state = { boxes: [], blur: [], mute: [], bleep: [] };
  let current = -1;
  let soundFrom = null;
  const now = () => Math.round(video.currentTime * 1000);

  // Where a box is at time t: the rule of docs/spec/redaction.md (largest size, centre
  // linear between keyframes; one keyframe: throughout).
  function at(b, t) {
    const k = b.keys;
    if (k.length > 1 && (t < k[0].t_ms || t > k[k.length - 1].t_ms)) return null;
    const w = Math.max(...k.map((x) => x.w));
    const h = Math.max(...k.map((x) => x.h));
    let cx = k[k.length - 1].x + k[k.length - 1].w / 2;
    let cy = k[k.length - 1].y + k[k.length - 1].h / 2;
    for (let i = 0; i + 1 < k.length; i++) {
      if (t < k[i + 1].t_ms) {
        const f = (t - k[i].t_ms) / (k[i + 1].t_ms - k[i].t_ms);
        const c = (x) => [x.x + x.w / 2, x.y + x.h / 2];
        const [ax, ay] = c(k[i]);
        const [bx, by] = c(k[i + 1]);
        cx = ax + (bx - ax) * f;
        cy = ay + (by - ay) * f;
        break;
      }
    }
    return { x: cx - w / 2, y: cy - h / 2, w, h };
  }

  function draw() {
    canvas.width = video.clientWidth;
    canvas.height = video.clientHeight;
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    if (!video.videoWidth) return;
    const sx = canvas.width / video.videoWidth;
    const sy = canvas.height / video.videoHeight;
    state.boxes.forEach((b, i) => {
      const r = at(b, now());
      if (!r) return;
      g.lineWidth = i === current ? 3 : 2;
      g.strokeStyle = i === current ? '#ffeb3b' : '#ffffff';
      g.setLineDash(b.style === 'blur' ? [6, 3] : []);
      g.strokeRect(r.x * sx, r.y * sy, r.w * sx, r.h * sy);
    });
  }

  function show() {
    ops.value = JSON.stringify(state);
    list.replaceChildren();
    const item = (text, remove) => {
      const li = document.createElement('li');
      li.textContent = text + ' ';
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = '×';
      b.setAttribute('aria-label', `${words.remove}: ${text}`);
      b.addEventListener('click', () => { remove(); show(); });
      li.append(b);
      list.append(li);
    };
    const s = (ms) => (ms / 1000).toFixed(1) + ' s';
    state.boxes.forEach((b, i) => item(`${words.box} ${i + 1} (${words[b.style] || b.style}): ${b.keys.map((k) => s(k.t_ms)).join(', ')}`,
      () => { state.boxes.splice(i, 1); current = -1; }));
    for (const kind of ['blur', 'mute', 'bleep']) {
      const name = kind === 'blur' ? words.frame : words[kind];
      state[kind].forEach((x, i) => item(`${name} ${s(x.from_ms)}–${s(x.to_ms)}`, () => state[kind].splice(i, 1)));
    }
    draw();
  }

  ops.addEventListener('change', () => {
    try {
      state = Object.assign({ boxes: [], blur: [], mute: [], bleep: [] }, JSON.parse(ops.value));
      current = -1;
      show();
    } catch (e) { /* the server names what is wrong when it is posted */ }
  });

  let start = null;
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * video.videoWidth / r.width, (e.clientY - r.top) * video.videoHeight / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (!video.paused || !video.videoWidth) return;
    start = point(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointerup', (e) => {
    if (!start) return;
    const [x1, y1] = start;
    const [x2, y2] = point(e);
    start = null;
    const clamp = (v, max) => Math.max(0, Math.min(Math.round(v), max));
    const x = clamp(Math.min(x1, x2), video.videoWidth - 8);
    const y = clamp(Math.min(y1, y2), video.videoHeight - 8);
    const key = {
      t_ms: now(), x, y,
      w: Math.max(8, Math.min(Math.round(Math.abs(x2 - x1)), video.videoWidth - x)),
      h: Math.max(8, Math.min(Math.round(Math.abs(y2 - y1)), video.videoHeight - y)),
    };
    if (current < 0) {
      state.boxes.push({ style: document.getElementById('box-style').value, keys: [key] });
      current = state.boxes.length - 1;
    } else {
      const keys = state.boxes[current].keys.filter((k) => k.t_ms !== key.t_ms);
      keys.push(key);
      keys.sort((a, b) => a.t_ms - b.t_ms);
      state.boxes[current].keys = keys;
    }
    show();
  });
  document.getElementById('new-box').addEventListener('click', () => { current = -1; draw(); });
  document.getElementById('sound-from').addEventListener('click', () => { soundFrom = now(); });
  document.getElementById('sound-to').addEventListener('click', () => {
    const to = now();
    if (soundFrom === null || to <= soundFrom) return;
    state[document.getElementById('sound-kind').value].push({ from_ms: soundFrom, to_ms: to });
    soundFrom = null;
    show();
  });
  for (const ev of ['timeupdate', 'seeked', 'loadedmetadata']) video.addEventListener(ev, draw);
  window.addEventListener('resize', draw);
  show();
})();
