// Small enhancements; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Pre-fill empty time-zone fields with the browser's zone.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll('input[data-detect-zone]').forEach((el) => {
    if (!el.value && zone && el.getAttribute('aria-invalid') !== 'true') el.value = zone;
  });
  // A form that acts on what another form edits (send a test, schedule, send) stops while that
  // form has unsaved changes: they would not be in what is sent.
  const watched = document.querySelectorAll('form[data-watch]');
  watched.forEach((form) => form.addEventListener('input', () => { form.dataset.dirty = '1'; }));
  document.querySelectorAll('form[data-saved-first]').forEach((form) => {
    form.addEventListener('submit', (ev) => {
      // Taking a schedule back sends nothing: no need to save first.
      if (ev.submitter && ev.submitter.name === 'unschedule') return;
      if ([...watched].some((f) => f.dataset.dirty)) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        window.alert(form.dataset.savedFirst);
      }
    });
  });
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
  // The job-posting fields only while "job posting" is the kind chosen (all show without JS).
  const kind = document.getElementById('f-kind');
  const job = document.querySelector('fieldset.job');
  if (kind && job) {
    const sync = () => { job.hidden = kind.value !== 'job-posting'; };
    kind.addEventListener('change', sync);
    sync();
  }
  // On a phone the marketplace's filters start folded, unless some are ticked: the results
  // come first.
  document.querySelectorAll('details[data-fold-narrow="yes"]').forEach((d) => {
    if (window.matchMedia('(max-width: 700px)').matches) d.open = false;
  });
  // While the optimiser runs, its progress is read every second instead of reloading the page
  // (which moves focus and makes screen readers start over; without JS the page reloads). Only
  // the phase line is a live region, replaced when the phase changes; the bar and its figure
  // update quietly. A failed read is tried again (a few times, then the page reloads); once the
  // run is done the page reloads with the draft.
  const poll = document.querySelector('[data-poll]');
  if (poll) {
    let failures = 0;
    const tick = async () => {
      try {
        const r = await fetch(location.href, { credentials: 'same-origin', signal: AbortSignal.timeout(5000) });
        if (!r.ok) throw new Error(`status ${r.status}`);
        const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
        const next = doc.querySelector('[data-poll]');
        if (!next) { location.reload(); return; }
        failures = 0;
        const [line, nextLine] = [poll, next].map((el) => el.querySelector('[data-phase]'));
        if (line.dataset.phase !== nextLine.dataset.phase) line.replaceWith(nextLine);
        const [bar, nextBar] = [poll, next].map((el) => el.querySelector('progress'));
        bar.value = nextBar.value;
        bar.textContent = nextBar.textContent;
        poll.querySelector('[data-percent]').textContent = next.querySelector('[data-percent]').textContent;
      } catch (e) {
        if (++failures >= 5) { location.reload(); return; }
      }
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 1000);
  }
  // Move focus to the error summary so screen readers announce it.
  const summary = document.querySelector('[data-focus]');
  if (summary) summary.focus();
  // A summary link also puts the cursor into its field (following the anchor only scrolls);
  // after the browser has followed it, so the address keeps the field's anchor.
  document.querySelectorAll('.error-summary a[href^="#"]').forEach((a) => {
    a.addEventListener('click', () => {
      const field = document.getElementById(a.getAttribute('href').slice(1));
      if (field) setTimeout(() => field.focus(), 0);
    });
  });
});
