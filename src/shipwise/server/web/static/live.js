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
"use strict";

(() => {
  const script = document.currentScript;
  const since = script instanceof HTMLScriptElement ? script.dataset.liveSince : undefined;
  const project = location.pathname.split("/")[2];
  if (!since || !project || !window.EventSource || !window.fetch) return;

  let lastId = since;
  let source = null;
  let busy = false;
  let again = false;

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

  // Where the focus was, outside a kept form: found again in the fresh region.
  const refocus = (region, focused) => {
    let target = null;
    if (focused.id) target = document.getElementById(focused.id);
    else if (focused instanceof HTMLAnchorElement) {
      target = region.querySelector(`a[href="${CSS.escape(focused.getAttribute("href") || "")}"]`);
    }
    if (target instanceof HTMLElement) target.focus({ preventScroll: true });
  };

  // -- swapping regions -------------------------------------------------------------

  const swap = (page) => {
    let kept = false;
    for (const region of document.querySelectorAll("[data-live-region][id]")) {
      const fresh = page.getElementById(region.id);
      if (!fresh || !fresh.hasAttribute("data-live-region")) continue;
      const using = Array.from(region.querySelectorAll("form")).filter(inUse);
      if (using.length === 0) {
        const focused = region.contains(document.activeElement) ? document.activeElement : null;
        const copy = document.importNode(fresh, true);
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

  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
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
        notice(swap(page));
        document.dispatchEvent(new CustomEvent("shipwise:updated"));
      } while (again);
    } catch (_error) {
      // The network failed: the stream reconnects, and the next change tries again.
    } finally {
      busy = false;
    }
  };

  // -- the stream -------------------------------------------------------------------

  function stop() {
    if (source) source.close();
    source = null;
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
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") stop();
    else start();
  });
  if (document.visibilityState !== "hidden") start();
})();
