// Small enhancements; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Pre-fill empty time-zone fields with the browser's zone.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll('input[data-detect-zone]').forEach((el) => {
    if (!el.value && zone && el.getAttribute('aria-invalid') !== 'true') el.value = zone;
  });
  // Ask before destructive actions.
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
  // Move focus to the error summary so screen readers announce it.
  const summary = document.querySelector('[data-focus]');
  if (summary) summary.focus();
});
