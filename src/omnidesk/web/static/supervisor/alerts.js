// Threshold alerts of the wallboard: per queue, kept in this browser (localStorage).
//   max_wait_s: alert when the longest wait is over this many seconds (empty: off)
//   sl_below_goal: alert when the service level of the last 30 minutes is below the goal

const STORE = "omnidesk.supervisor.thresholds";

/** Every queue's thresholds: {queueId: {max_wait_s: number|null, sl_below_goal: bool}}. */
export function loadThresholds() {
  try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch { return {}; }
}

/** Store one queue's thresholds. */
export function saveThreshold(queueId, threshold) {
  const all = loadThresholds();
  all[queueId] = threshold;
  localStorage.setItem(STORE, JSON.stringify(all));
}

/** What is wrong with a queue now, as short sentences (empty: nothing). */
export function alertsFor(view, threshold, longestWait) {
  const reasons = [];
  if (!threshold || !view) return reasons;
  if (threshold.max_wait_s !== null && threshold.max_wait_s !== undefined && view.waiting > 0
      && longestWait > threshold.max_wait_s) {
    reasons.push(`Longest wait over ${threshold.max_wait_s} s`);
  }
  const level = view.service_level_30min_pct;
  if (threshold.sl_below_goal && level !== null && level !== undefined
      && level < view.service_level_goal_pct) {
    reasons.push(`Service level ${Math.round(level)} % below goal ${view.service_level_goal_pct} %`);
  }
  return reasons;
}

let audio = null;

/** A short two-tone chime through WebAudio; counts itself in body[data-alert-sounds]. */
export function chime() {
  document.body.dataset.alertSounds = String(Number(document.body.dataset.alertSounds || 0) + 1);
  try {
    audio = audio || new AudioContext();
    const start = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.15, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, start + offset + 0.16);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.17);
    }
  } catch { /* no audio device: the colour still shows */ }
}
