import { initAll } from '../govuk/govuk-frontend.min.js'

initAll()

// Live match list: poll for a new ranking when vacancies change (issue 4: within 15 seconds, no reload).
// A short poll answered with 204 when nothing changed, so no server worker is held per open page.
const live = document.querySelector('[data-live-matches]')
if (live) {
  const url = live.dataset.liveMatches
  const seconds = Number(live.dataset.pollSeconds || 10)
  const poll = async () => {
    try {
      const response = await fetch(`${url}?version=${encodeURIComponent(live.dataset.version)}`, {
        headers: { Accept: 'text/html' },
        credentials: 'same-origin'
      })
      if (response.status === 200) {
        const ticked = new Set([...live.querySelectorAll('input[name="providers"]:checked')].map((i) => i.value))
        // Keep the person's place (WCAG 2.4.3): the focused control, found again by its name and value or id.
        const focused = live.contains(document.activeElement) ? document.activeElement : null
        const focusKey = focused && (focused.id ? `#${CSS.escape(focused.id)}`
          : focused.name ? `[name="${CSS.escape(focused.name)}"][value="${CSS.escape(focused.value || '')}"]` : null)
        live.innerHTML = await response.text()
        live.dataset.version = response.headers.get('X-Options-Version') || live.dataset.version
        live.querySelectorAll('input[name="providers"]').forEach((i) => { i.checked = ticked.has(i.value) })
        live.setAttribute('data-updated', new Date().toISOString())
        if (focusKey) {
          const again = live.querySelector(focusKey)
          if (again) { again.focus() } else { live.setAttribute('tabindex', '-1'); live.focus() }
        }
        // Tell screen reader users (WCAG 4.1.3 status messages).
        const status = document.querySelector('[data-live-status]')
        if (status) {
          status.textContent = `The list of matches has been updated at ${new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })} because vacancies changed.`
        }
      }
    } catch (error) {
      // Network blip: try again next time.
    }
    window.setTimeout(poll, seconds * 1000)
  }
  window.setTimeout(poll, seconds * 1000)
}

// The timeout warning (WCAG 2.2.1 timing adjustable): two minutes before the idle limit would sign the person
// out, a dialog offers to stay signed in. The server decides: the page asks it how long is left (asking does not
// count as activity), so another tab's activity is taken into account.
const dialog = document.querySelector('[data-session-timeout]')
if (dialog && typeof dialog.showModal === 'function') {
  const warn = Number(dialog.dataset.warnSeconds || 120)
  const countdown = dialog.querySelector('[data-timeout-countdown]')
  let timer = null
  let ticking = null
  let leaving = false
  let checking = false
  const signedOut = (reason) => {
    if (leaving) { return } // the first answer that says "signed out" decides where the page goes
    leaving = true
    window.location.href = `${dialog.dataset.signedOutUrl}?reason=${encodeURIComponent(reason || 'idle')}&next=${encodeURIComponent(window.location.pathname)}`
  }
  const words = (seconds) => seconds >= 60
    ? `${Math.ceil(seconds / 60)} minute${Math.ceil(seconds / 60) === 1 ? '' : 's'}`
    : `${seconds} second${seconds === 1 ? '' : 's'}`
  let again = false
  const check = async () => {
    if (leaving) { return }
    if (checking) { again = true; return } // one question at a time; ask once more when it is answered
    checking = true
    try {
      await ask()
    } finally {
      checking = false
      if (again) { again = false; window.clearTimeout(timer); check() }
    }
  }
  const ask = async () => {
    let status
    try {
      const response = await fetch(dialog.dataset.statusUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (response.redirected && response.url.includes(dialog.dataset.signedOutUrl)) {
        signedOut(new URL(response.url).searchParams.get('reason')) // the server has signed it out, and says why
        return
      }
      if (!response.ok || !(response.headers.get('Content-Type') || '').includes('json')) { signedOut('ended'); return }
      status = await response.json()
    } catch (error) {
      timer = window.setTimeout(check, 30000) // network blip: ask again soon
      return
    }
    if (status.seconds_left <= 0) { signedOut(status.reason); return }
    if (status.seconds_left > warn) {
      if (dialog.open) { dialog.close(); window.clearInterval(ticking) }
      timer = window.setTimeout(check, (status.seconds_left - warn) * 1000)
      return
    }
    if (status.reason === 'absolute') {
      dialog.querySelector('[data-timeout-stay]').hidden = true
    }
    let left = status.seconds_left
    countdown.textContent = words(left)
    if (!dialog.open) { dialog.showModal() }
    window.clearInterval(ticking)
    ticking = window.setInterval(() => {
      left -= 1
      if (left % 15 === 0 || left <= 10) { countdown.textContent = words(Math.max(left, 0)) }
      if (left <= 0) { window.clearInterval(ticking); check() }
    }, 1000)
  }
  dialog.querySelector('[data-timeout-stay]').addEventListener('click', async () => {
    window.clearInterval(ticking)
    try {
      await fetch(dialog.dataset.keepAliveUrl, {
        method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': dialog.dataset.csrfToken }
      })
    } finally {
      dialog.close()
      window.clearTimeout(timer)
      check()
    }
  })
  dialog.addEventListener('cancel', (event) => { event.preventDefault() }) // Escape does not silently dismiss it
  // Timers stop while a laptop sleeps or a tab is in the background: ask again when the page is seen again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { window.clearTimeout(timer); check() }
  })
  check()
}

// An offer's fee and start date follow the vacancy chosen (issue 11 §6), unless the provider has typed their own.
const offerDefaults = document.querySelector('[data-offer-defaults]')
if (offerDefaults) {
  const defaults = JSON.parse(offerDefaults.dataset.offerDefaults)
  const form = offerDefaults.closest('form')
  const fee = form.querySelector('input[name="fee_gbp_week"]')
  const dateParts = ['day', 'month', 'year'].map((part) => form.querySelector(`input[name="start_date-${part}"], input[id="start_date-${part}"]`))
  const current = () => ({ fee: fee.value.trim(), start: dateParts.map((i) => (i ? i.value.trim() : '')).join(' ') })
  const checked = () => form.querySelector('input[name="vacancy_id"]:checked')
  let last = checked() ? defaults[checked().value] : null
  form.querySelectorAll('input[name="vacancy_id"]').forEach((radio) => {
    radio.addEventListener('change', () => {
      const next = defaults[radio.value]
      if (!next) { return }
      const now = current()
      if (!last || now.fee === '' || now.fee === last.fee) { fee.value = next.fee }
      if (!last || now.start.trim() === '' || now.start === last.start) {
        next.start.split(' ').forEach((value, i) => { if (dateParts[i]) { dateParts[i].value = value } })
      }
      last = next
      const prefilled = form.querySelector('input[name="prefilled_from"]')
      if (prefilled) { prefilled.value = radio.value } // what the boxes now hold is this vacancy's
    })
  })
}
