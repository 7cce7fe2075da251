// Opening hours as the layers hold them ("08:00–22:00", "круглосуточно", OSM-like
// "Mo-Fr 09:00-18:00; Sa 10:00-16:00") read against the city's clock. Pure functions (no DOM),
// tested in tests/modules.test.mjs.

const DAYS = { mo: 1, tu: 2, we: 3, th: 4, fr: 5, sa: 6, su: 0, пн: 1, вт: 2, ср: 3, чт: 4, пт: 5, сб: 6, вс: 0 };
const ALWAYS = /^(24\/7|24 ?h(ours)?|круглосуточно|тәулік бойы|00:00\s*[-–—]\s*(24:00|00:00))$/i;
const RANGE = /(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})/g;

function days(spec) {
  // "Mo-Fr", "Sa,Su", "Пн-Пт"; null means every day.
  const s = spec.trim().toLowerCase();
  if (!s) return null;
  const out = new Set();
  for (const part of s.split(/\s*,\s*/)) {
    const m = part.match(/^([a-zа-я]{2})(?:\s*[-–]\s*([a-zа-я]{2}))?$/);
    if (!m || DAYS[m[1]] === undefined || (m[2] && DAYS[m[2]] === undefined)) return undefined;
    const a = DAYS[m[1]];
    const b = m[2] ? DAYS[m[2]] : a;
    for (let d = a; ; d = (d + 1) % 7) { out.add(d); if (d === b) break; }
  }
  return out;
}

/**
 * parseHours reads an opening-hours text: {always: true}, {rules: [{days, from, to}]} with
 * minutes since midnight (days null = every day; to <= from runs past midnight), or null when
 * the text is not understood (it is then shown as it is).
 */
export function parseHours(text) {
  const t = String(text ?? '').trim();
  if (!t) return null;
  if (ALWAYS.test(t)) return { always: true };
  const rules = [];
  for (const chunk of t.split(/\s*;\s*/)) {
    if (!chunk) continue;
    RANGE.lastIndex = 0;
    const first = RANGE.exec(chunk);
    if (!first) return null;
    const ds = days(chunk.slice(0, first.index));
    if (ds === undefined) return null;
    RANGE.lastIndex = 0;
    for (const m of chunk.matchAll(RANGE)) {
      const [h1, m1, h2, m2] = m.slice(1).map(Number);
      if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59) return null;
      rules.push({ days: ds, from: h1 * 60 + m1, to: h2 * 60 + m2 });
    }
  }
  return rules.length ? { rules } : null;
}

/** cityClock returns the weekday (0 = Sunday) and minutes since midnight at date in tz. */
export function cityClock(date, tz) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(date);
  const get = (k) => parts.find((p) => p.type === k)?.value;
  const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].indexOf(get('weekday').toLowerCase().slice(0, 3));
  return { day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

const hhmm = (m) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * openState says whether parsed hours are open at clock {day, minutes}: {open: true, always}
 * or {open: true, until: 'HH:MM'} or {open: false, opens: 'HH:MM' | null (not again today)}.
 */
export function openState(parsed, clock) {
  if (!parsed) return null;
  if (parsed.always) return { open: true, always: true };
  const { day, minutes } = clock;
  const yesterday = (day + 6) % 7;
  const on = (r, d) => r.days === null || r.days.has(d);
  for (const r of parsed.rules) {
    const overnight = r.to <= r.from;
    if (on(r, day) && minutes >= r.from && (overnight || minutes < r.to)) {
      return { open: true, until: hhmm(r.to) };
    }
    if (overnight && on(r, yesterday) && minutes < r.to) return { open: true, until: hhmm(r.to) };
  }
  const later = parsed.rules.filter((r) => on(r, day) && r.from > minutes).map((r) => r.from).sort((a, b) => a - b);
  return { open: false, opens: later.length ? hhmm(later[0]) : null };
}
