// The staff navigation bar on a phone (templates/layout.html, "staffnav"): folded behind its Menu
// button when the screen is narrow, open in the header when it is wide. Without the script the
// bar stays open and the button hidden.
const button = document.querySelector('.nav-toggle');
const bar = document.getElementById('staff-nav');
if (button && bar) {
  const narrow = window.matchMedia('(max-width: 720px)');
  const show = (open) => {
    button.setAttribute('aria-expanded', String(open));
    bar.classList.toggle('folded', !open);
  };
  button.hidden = false;
  show(!narrow.matches);
  narrow.addEventListener('change', () => show(!narrow.matches));
  button.addEventListener('click', () => show(button.getAttribute('aria-expanded') !== 'true'));
}
