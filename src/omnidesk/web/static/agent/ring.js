// The offer ring: a two-tone telephone ring made with WebAudio while an offer is live.
// Browsers start audio only after a user gesture; the desktop calls unlock() on every click
// and key press, so after a reload the ring starts at the first interaction with the page.

let context = null;
let timer = null;

function audio() {
  if (!context) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    context = new Context();
  }
  return context;
}

/** Let audio play (call from a user gesture). */
export function unlock() {
  const ctx = audio();
  if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
}

function burst() {
  const ctx = audio();
  if (!ctx || ctx.state !== "running") return false;
  const gain = ctx.createGain();
  gain.gain.value = 0.0001;
  gain.connect(ctx.destination);
  const start = ctx.currentTime;
  for (const frequency of [440, 480]) {
    const tone = ctx.createOscillator();
    tone.frequency.value = frequency;
    tone.connect(gain);
    tone.start(start);
    tone.stop(start + 1.6);
  }
  // Two short rings, like a desk phone.
  for (const [at, level] of [[0, 0.12], [0.4, 0.0001], [0.6, 0.12], [1.0, 0.0001]]) {
    gain.gain.setTargetAtTime(level, start + at, 0.02);
  }
  document.body.dataset.rings = String(Number(document.body.dataset.rings || 0) + 1);
  return true;
}

/** Ring now and every 3 s until stop(). */
export function start() {
  document.body.dataset.ringing = "true";
  if (timer) return;
  burst();
  timer = setInterval(burst, 3000);
}

/** Stop ringing. */
export function stop() {
  document.body.dataset.ringing = "false";
  clearInterval(timer);
  timer = null;
}

/** "running" once the browser lets the page play sound. */
export function audioState() {
  return context ? context.state : "none";
}
