// The staff navigation bar on the planner page: the same bar as every server-rendered staff page
// (web/pages/nav.go, templates/layout.html "staffnav"), built here from GET /staff/nav.json, which
// sends the signed-in role's sections with their texts in kk, ru and en. On a screen up to 720 px
// wide the bar folds behind its Menu button, as static/nav.js folds the server pages' bar.
import { h, clear } from './dom.js';

/** NARROW is the screen width up to which the bar folds (the server pages' breakpoint). */
const NARROW = '(max-width: 720px)';

/**
 * staffBar builds the bar from the answer of /staff/nav.json, or returns null when the visitor
 * gets none (not signed in, or not staff). The result holds the elements to put in the header
 * (toggle, nav, account: who is signed in, in signedIn, and Sign out) and render(lang), which
 * writes every text in lang.
 */
export function staffBar(bar) {
  if (!bar || !Array.isArray(bar.sections) || bar.sections.length === 0) return null;
  const texts = bar.texts || {};
  const say = (text, lang) => (text && (text[lang] || text.ru)) || '';

  const toggle = h('button', { type: 'button', class: 'nav-toggle', 'aria-expanded': 'true', 'aria-controls': 'staff-nav' });
  const links = bar.sections.map((s) => h('a', { href: s.path, 'aria-current': s.current ? 'page' : undefined }));
  const toMap = h('a', { href: '/' });
  const nav = h('nav', { class: 'staff', id: 'staff-nav' },
    h('ul', {}, links.map((a) => h('li', {}, a)), h('li', {}, toMap)));

  const signedIn = h('span', {});
  const csrf = h('input', { type: 'hidden', name: 'csrf_token', value: bar.csrf_token || '' });
  const formLang = h('input', { type: 'hidden', name: 'lang', value: 'ru' });
  const signOut = h('button', { type: 'submit', class: 'sign-out' });
  const account = h('div', { class: 'account' }, signedIn,
    h('form', { method: 'post', action: '/logout', class: 'inline' }, csrf, formLang, signOut));

  const narrow = window.matchMedia(NARROW);
  const show = (open) => {
    toggle.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('folded', !open);
  };
  show(!narrow.matches);
  narrow.addEventListener('change', () => show(!narrow.matches));
  toggle.addEventListener('click', () => show(toggle.getAttribute('aria-expanded') !== 'true'));

  function render(lang) {
    toggle.textContent = say(texts.menu, lang);
    nav.setAttribute('aria-label', say(texts.label, lang));
    bar.sections.forEach((s, i) => {
      links[i].textContent = say(s.title, lang);
      links[i].href = `${s.path}?lang=${lang}`;
    });
    toMap.textContent = say(texts.to_map, lang);
    toMap.href = `/?lang=${lang}#lang=${lang}`;
    clear(signedIn).append(`${say(texts.signed_in_as, lang)} `, h('b', {}, bar.email || ''),
      bar.department ? ` · ${bar.department}` : '');
    formLang.value = lang;
    signOut.textContent = say(texts.sign_out, lang);
  }

  return { toggle, nav, account, signedIn, render };
}
