// The best-yard contest on the public map (layers/modules/yards.go, docs/modules.md §6).
//
// This file is the light part loaded with the map: a side-panel section with one button. The
// contest itself (ranking list and numbered markers, nomination form with point/polygon drawing
// and photos, voting, winners) is in yards-view.js, fetched with import() the first time the
// section is opened, so the map's first render does not pay for it. The section opens by itself
// when the address carries yards=open (the staff page's link, and the way back from /login).
import { h } from '../dom.js';
import { register } from '../extensions.js';
import { t } from '../i18n.js';

export const START_HASH = window.location.hash;

const Y = { ctx: null, view: null, loading: null, open: false, ui: {} };

function renderSection() {
  const { ui } = Y;
  ui.title.textContent = t('yards.title');
  ui.intro.textContent = t('yards.intro');
  ui.toggle.textContent = t(Y.open ? 'yards.hide' : 'yards.show');
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
  if (!Y.view) Y.ui.body.replaceChildren(h('p', { class: 'yards-status', role: 'status' }, t('yards.loading')));
  try {
    const view = await loadView();
    if (Y.open) await view.show();
  } catch (err) {
    console.warn('yards:', err);
    Y.ui.body.replaceChildren(h('p', { class: 'yards-error', role: 'alert' }, t('yards.loadError')));
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
    if (Y.ui.body.firstChild?.classList?.contains('yards-status')) Y.ui.body.firstChild.textContent = t('yards.loading');
    Y.view?.render();
  },
});
