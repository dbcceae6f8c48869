// Small enhancements; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Pre-fill empty time-zone fields with the browser's zone.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll('input[data-detect-zone]').forEach((el) => {
    if (!el.value && zone && el.getAttribute('aria-invalid') !== 'true') el.value = zone;
  });
  // Country codes (ISO 3166) become names in the page's language; the code stays without JS.
  if (window.Intl && Intl.DisplayNames) {
    const names = new Intl.DisplayNames([document.documentElement.lang || 'en'], { type: 'region' });
    const name = (code) => {
      try { return names.of(code.toUpperCase()); } catch (_) { return null; /* no region code */ }
    };
    document.querySelectorAll('[data-country]').forEach((el) => {
      const n = name(el.dataset.country);
      if (n && n !== el.dataset.country) el.textContent = n;
    });
    // A sentence that names a country by its code ("from DE, a country you target").
    document.querySelectorAll('[data-country-in]').forEach((el) => {
      const code = el.dataset.countryIn;
      const n = name(code);
      if (n && n !== code) el.textContent = el.textContent.replace(code, n);
    });
  }
  // Ask before destructive actions.
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
  // A second click while a form is on its way sends nothing (the server also copes with it);
  // after a few seconds, or back from the next page, the form works again.
  document.querySelectorAll('form[method="post"]').forEach((form) => {
    form.addEventListener('submit', (ev) => {
      if (ev.defaultPrevented) return;
      if (form.dataset.sending) { ev.preventDefault(); return; }
      form.dataset.sending = '1';
      setTimeout(() => { delete form.dataset.sending; }, 4000);
    });
  });
  window.addEventListener('pageshow', () => {
    document.querySelectorAll('form[data-sending]').forEach((f) => { delete f.dataset.sending; });
  });
  // Move focus to the error summary so screen readers announce it.
  const summary = document.querySelector('[data-focus]');
  if (summary) summary.focus();
});
