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
        live.innerHTML = await response.text()
        live.dataset.version = response.headers.get('X-Options-Version') || live.dataset.version
        live.querySelectorAll('input[name="providers"]').forEach((i) => { i.checked = ticked.has(i.value) })
        live.setAttribute('data-updated', new Date().toISOString())
      }
    } catch (error) {
      // Network blip: try again next time.
    }
    window.setTimeout(poll, seconds * 1000)
  }
  window.setTimeout(poll, seconds * 1000)
}
