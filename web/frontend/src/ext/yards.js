// The best-yard contest on the public map (layers/modules/yards.go, docs/modules.md §6).
//
// This file is the light part loaded with the map: a side-panel section with one button. The
// contest itself (ranking list and numbered markers, nomination form with point/polygon drawing
// and photos, voting, winners) is in yards-view.js, fetched with import() the first time the
// section is opened, so the map's first render does not pay for it. The section opens by itself
// when the address carries yards=open (the staff page's link, and the way back from /login).
import { h } from '../dom.js';
import { register } from '../extensions.js';

const TEXT = {
  title: { kk: 'Үздік аула байқауы', ru: 'Конкурс «Лучший двор»', en: 'Best-yard contest' },
  intro: {
    kk: 'Тұрғындар ауланы ұсынады және дауыс береді. Рейтинг картада көрсетіледі.',
    ru: 'Жители предлагают дворы и голосуют за лучший. Рейтинг — на карте.',
    en: 'Residents nominate yards and vote for the best. The ranking is on the map.',
  },
  show: { kk: 'Байқауды ашу', ru: 'Открыть конкурс', en: 'Open the contest' },
  hide: { kk: 'Байқауды жабу', ru: 'Скрыть конкурс', en: 'Hide the contest' },
  loading: { kk: 'Жүктелуде…', ru: 'Загрузка…', en: 'Loading…' },
  loadError: { kk: 'Байқауды жүктеу мүмкін болмады. Қайталап көріңіз.', ru: 'Не удалось загрузить конкурс. Попробуйте ещё раз.', en: 'Could not load the contest. Please try again.' },
};

export const START_HASH = window.location.hash;

const Y = { ctx: null, view: null, loading: null, open: false, ui: {} };

const tx = (key) => TEXT[key][Y.ctx?.lang() || 'ru'] ?? TEXT[key].ru;

function renderSection() {
  const { ui } = Y;
  ui.title.textContent = tx('title');
  ui.intro.textContent = tx('intro');
  ui.toggle.textContent = tx(Y.open ? 'hide' : 'show');
  ui.toggle.setAttribute('aria-expanded', String(Y.open));
}

async function loadView() {
  if (Y.view) return Y.view;
  if (!Y.loading) {
    Y.loading = import('./yards-view.js').then((m) => {
      Y.view = m.createView(Y.ctx, Y.ui.body);
      return Y.view;
    });
    Y.loading.catch(() => { Y.loading = null; });
  }
  return Y.loading;
}

async function setOpen(open) {
  Y.open = open;
  renderSection();
  Y.ui.body.hidden = !open;
  if (!open) { Y.view?.hide(); return; }
  if (!Y.view) Y.ui.body.replaceChildren(h('p', { class: 'yards-status', role: 'status' }, tx('loading')));
  try {
    const view = await loadView();
    if (Y.open) await view.show();
  } catch (err) {
    console.warn('yards:', err);
    Y.ui.body.replaceChildren(h('p', { class: 'yards-error', role: 'alert' }, tx('loadError')));
  }
}

register({
  name: 'yards',
  init(ctx) { Y.ctx = ctx; },
  panel(ctx) {
    Y.ctx = ctx;
    const ui = Y.ui;
    ui.title = h('h2', { id: 'yards-title' });
    ui.intro = h('p', { class: 'yards-intro' });
    ui.body = h('div', { id: 'yards-body', class: 'yards-body', hidden: true });
    ui.toggle = h('button', { type: 'button', id: 'yards-toggle', class: 'btn btn-secondary', 'aria-controls': 'yards-body',
      onclick: () => setOpen(!Y.open) });
    ui.section = h('section', { class: 'card yards', 'aria-labelledby': 'yards-title' }, ui.title, ui.intro, ui.toggle, ui.body);
    renderSection();
    const params = new URLSearchParams(START_HASH.replace(/^#/, ''));
    if (params.get('yards') === 'open') {
      const id = Number(params.get('yard')) || null;
      // After the map exists: the view draws on it.
      setTimeout(() => setOpen(true).then(() => { if (id) Y.view?.focusNomination(id); }), 0);
    }
    return ui.section;
  },
  mapClick(ctx, e) {
    return Y.view ? Y.view.mapClick(e) : false;
  },
  lang() {
    if (!Y.ui.section) return;
    renderSection();
    if (Y.ui.body.firstChild?.classList?.contains('yards-status')) Y.ui.body.firstChild.textContent = tx('loading');
    Y.view?.render();
  },
});
