// Shipwise live updates: progressive enhancement only (every page works without it).
//
// A page names what it shows in data-live ("release:rel-3 board"), on any element, and
// marks the parts that show it with data-live-region (each with an id). This script
// follows the project's event stream (/projects/{p}/live, server/web/live.py); when an
// event names one of the page's topics it fetches the page again and swaps each region
// for its fresh copy. A form the person is using (focus inside, or a value changed) is
// never replaced: the region is updated around it, and a small notice in the page's
// status area (role="status") says the page was updated. The stream is closed while the tab is hidden (a browser
// gives a site only 6 connections) and resumes from the last event it saw.
//
// Some changes write no audit record, so no event names them: a rollout's sampled checks
// (its charts' points). A region that shows such data declares a cadence,
// data-live-every="5" (seconds, never under MIN_EVERY_S), only while it changes that way
// (a running plan); those regions are then re-fetched and swapped on that cadence while
// the tab is visible, silently (no notice every few seconds), and not at all once the
// fresh page declares no cadence (the plan finished). An open <details> stays open.
"use strict";

(() => {
  const script = document.currentScript;
  const since = script instanceof HTMLScriptElement ? script.dataset.liveSince : undefined;
  const project = location.pathname.split("/")[2];
  if (!since || !project || !window.EventSource || !window.fetch) return;

  const MIN_EVERY_S = 2;
  const ALL = "[data-live-region][id]";
  const TIMED = "[data-live-region][data-live-every][id]";

  let lastId = since;
  let source = null;
  let timer = null;
  let busy = false;
  let wanted = null; // what the next fetch swaps: ALL (an event) or TIMED (the cadence)
  let fetchedAt = performance.now(); // the page itself was fetched just now

  const declared = () => {
    const topics = new Set();
    for (const element of document.querySelectorAll("[data-live]")) {
      for (const topic of element.dataset.live.split(/\s+/)) if (topic) topics.add(topic);
    }
    return topics;
  };
  if (declared().size === 0) return;

  const concerns = (data) => {
    const shown = declared();
    return data.split(/\s+/).some((topic) => topic === "*" || shown.has(topic));
  };

  // -- forms the person is using ----------------------------------------------------

  const selectChanged = (select) => {
    const options = Array.from(select.options);
    if (select.multiple) return options.some((o) => o.selected !== o.defaultSelected);
    const chosen = options.findIndex((o) => o.defaultSelected);
    return select.selectedIndex !== (chosen === -1 ? 0 : chosen);
  };

  const inUse = (form) => {
    if (form.contains(document.activeElement)) return true;
    for (const field of form.elements) {
      if (field instanceof HTMLInputElement) {
        if (field.type === "checkbox" || field.type === "radio") {
          if (field.checked !== field.defaultChecked) return true;
        } else if (field.type !== "hidden" && field.value !== field.defaultValue) {
          return true;
        }
      } else if (field instanceof HTMLTextAreaElement) {
        if (field.value !== field.defaultValue) return true;
      } else if (field instanceof HTMLSelectElement && selectChanged(field)) {
        return true;
      }
    }
    return false;
  };

  // The same form in the fresh page: by id, else by where it posts (one each per page).
  const counterpart = (form, fresh) => {
    if (form.id) return fresh.querySelector(`form#${CSS.escape(form.id)}`);
    const twins = Array.from(fresh.querySelectorAll("form")).filter(
      (f) =>
        f.getAttribute("action") === form.getAttribute("action") &&
        (f.getAttribute("method") || "get") === (form.getAttribute("method") || "get"),
    );
    return twins.length === 1 ? twins[0] : null;
  };

  const copyAttributes = (from, to) => {
    for (const name of to.getAttributeNames()) if (!from.hasAttribute(name)) to.removeAttribute(name);
    for (const name of from.getAttributeNames()) to.setAttribute(name, from.getAttribute(name));
  };

  // Replace everything in ``region`` except ``kept`` and its ancestors, which stay the
  // same nodes (so focus, selection and typed text stay): at each level up, the
  // siblings come from the fresh copy. False (nothing touched) if the shapes differ.
  const updateAround = (region, fresh, kept, keptFresh) => {
    const chain = [];
    const freshChain = [];
    for (let n = kept; n && n !== region; n = n.parentNode) chain.push(n);
    for (let n = keptFresh; n && n !== fresh; n = n.parentNode) freshChain.push(n);
    if (chain.length !== freshChain.length) return false;
    chain.push(region);
    freshChain.push(fresh);
    for (let level = 1; level < chain.length; level += 1) {
      const child = chain[level - 1];
      const freshChild = freshChain[level - 1];
      const siblings = Array.from(freshChain[level].childNodes);
      const at = siblings.indexOf(freshChild);
      const adopt = (nodes) => nodes.map((node) => document.importNode(node, true));
      while (child.previousSibling) child.previousSibling.remove();
      while (child.nextSibling) child.nextSibling.remove();
      child.before(...adopt(siblings.slice(0, at)));
      child.after(...adopt(siblings.slice(at + 1)));
      copyAttributes(freshChain[level], chain[level]);
    }
    return true;
  };

  // Where the focus was, outside a kept form: found again in the fresh region (by id, a
  // link by where it goes, else the one element of its kind with the same text: the
  // <summary> of a table a keyboard user opened).
  const refocus = (region, focused) => {
    let target = null;
    if (focused.id) target = document.getElementById(focused.id);
    else if (focused instanceof HTMLAnchorElement) {
      target = region.querySelector(`a[href="${CSS.escape(focused.getAttribute("href") || "")}"]`);
    } else {
      const text = focused.textContent;
      const same = Array.from(region.getElementsByTagName(focused.tagName)).filter(
        (element) => element.textContent === text,
      );
      if (same.length === 1) target = same[0];
    }
    if (target instanceof HTMLElement) target.focus({ preventScroll: true });
  };

  // A <details> the person opened (or closed) stays so in the fresh copy: matched by its
  // summary's text, which names what it holds ("The numbers of errors, …").
  const keepDisclosures = (region, copy) => {
    const label = (details) => details.querySelector("summary")?.textContent ?? "";
    const fresh = new Map();
    for (const details of copy.querySelectorAll("details")) fresh.set(label(details), details);
    for (const details of region.querySelectorAll("details")) {
      const twin = fresh.get(label(details));
      if (twin) twin.open = details.open;
    }
  };

  // -- swapping regions -------------------------------------------------------------

  const swap = (page, which) => {
    let kept = false;
    for (const region of document.querySelectorAll(which)) {
      const fresh = page.getElementById(region.id);
      if (!fresh || !fresh.hasAttribute("data-live-region")) continue;
      const using = Array.from(region.querySelectorAll("form")).filter(inUse);
      if (using.length === 0) {
        const focused = region.contains(document.activeElement) ? document.activeElement : null;
        const copy = document.importNode(fresh, true);
        keepDisclosures(region, copy);
        if (copy.isEqualNode(region)) continue; // nothing new: leave the person's page be
        region.replaceWith(copy);
        if (focused) refocus(copy, focused);
        continue;
      }
      kept = true;
      const twin = using.length === 1 ? counterpart(using[0], fresh) : null;
      if (twin) updateAround(region, fresh, using[0], twin);
      // else: the form is gone from the fresh page or ambiguous; leave the region as is.
    }
    return kept;
  };

  const notice = (kept) => {
    // In the page's status area (base.html's flash, role="status"), so screen readers
    // announce it; else a status of its own at the top of <main>.
    let box = document.getElementById("live-notice");
    if (!box) {
      box = document.createElement("p");
      box.id = "live-notice";
      box.className = "live-notice";
      const status = document.querySelector("[role='status']:not(main *)");
      if (status) status.append(box);
      else {
        box.setAttribute("role", "status");
        document.querySelector("main")?.prepend(box);
      }
    }
    const at = new Date().toLocaleTimeString();
    box.textContent = kept
      ? `Updated at ${at}; the form you are filling in was kept as it is.`
      : `Updated at ${at}.`;
  };

  // One fetch at a time; what arrives meanwhile is done once, after it (an event's
  // refresh covers the cadence's regions too).
  const refresh = async (which = ALL) => {
    if (wanted !== ALL) wanted = which;
    if (busy) return;
    busy = true;
    try {
      while (wanted) {
        const swapping = wanted;
        wanted = null;
        fetchedAt = performance.now();
        const response = await fetch(location.href, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "text/html" },
        });
        if (response.redirected || !response.ok) {
          stop(); // signed out, or the page is gone: a reload says which
          return;
        }
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const kept = swap(page, swapping);
        if (swapping === ALL) notice(kept);
        document.dispatchEvent(new CustomEvent("shipwise:updated"));
      }
    } catch (_error) {
      // The network failed: the stream reconnects, and the next change tries again.
      wanted = null;
    } finally {
      busy = false;
      if (source) schedule(); // a fresh page may declare a cadence, or none any more
    }
  };

  // -- the cadence ------------------------------------------------------------------

  const cadence = () => {
    let every = Infinity;
    for (const element of document.querySelectorAll(TIMED)) {
      const seconds = Number(element.dataset.liveEvery);
      if (seconds > 0) every = Math.min(every, seconds);
    }
    return Number.isFinite(every) ? Math.max(MIN_EVERY_S, every) : null;
  };

  // The next timed refresh, counted from the end of the last one (a slow server is
  // never asked again before it answered). Only while the stream runs: both stop
  // while the tab is hidden or after the server said "bye".
  function schedule() {
    if (timer !== null) return;
    const every = cadence();
    if (every === null) return;
    timer = setTimeout(() => {
      timer = null;
      refresh(TIMED);
    }, every * 1000);
  }

  // -- the stream -------------------------------------------------------------------

  function stop() {
    if (source) source.close();
    source = null;
    clearTimeout(timer);
    timer = null;
  }

  function start() {
    if (source) return;
    source = new EventSource(`/projects/${project}/live?since=${encodeURIComponent(lastId)}`);
    source.addEventListener("change", (event) => {
      if (event.lastEventId) lastId = event.lastEventId;
      if (concerns(event.data)) refresh();
    });
    // The server ended it for good (signed out, or a newer tab took its place).
    source.addEventListener("bye", stop);
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      stop();
      return;
    }
    start();
    // Back from a hidden tab: the stream replays the events it missed, but the timed
    // regions may be minutes old: fetched now, unless they were within the cadence.
    const every = cadence();
    if (every !== null && performance.now() - fetchedAt >= every * 1000) refresh(TIMED);
  });
  if (document.visibilityState !== "hidden") start();
})();
