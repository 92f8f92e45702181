// The progress of a theme suggestion run, kept up to date while it runs: polls the
// page's JSON endpoint and writes its text into the polite live region, so screen
// readers hear it without losing their place. Without JavaScript the page has a
// plain "Refresh" link instead. Loaded as a file: the CSP forbids inline scripts.
const POLL_MS = 2000;

const box = document.querySelector("[data-suggestion-progress]");
if (box && box.dataset.active === "true") {
  const status = box.querySelector("#suggestion-progress");
  const refresh = box.querySelector("#suggestion-refresh");
  const poll = async () => {
    let progress;
    try {
      const reply = await fetch(box.dataset.url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!reply.ok) throw new Error(`status ${reply.status}`);
      progress = await reply.json();
    } catch {
      setTimeout(poll, POLL_MS * 5); // a blip in the connection: try again, less often
      return;
    }
    if (status.textContent !== progress.text) status.textContent = progress.text;
    if (progress.active) {
      setTimeout(poll, POLL_MS);
    } else if (refresh) {
      refresh.textContent = progress.status === "done" ? "Show the suggestions" : "Refresh the page";
    }
  };
  setTimeout(poll, POLL_MS);
}
