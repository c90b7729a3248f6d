// Shipwise dashboard: progressive enhancement only. Every page works without this file
// (forms post, then the server redirects); with it, a form cannot be sent twice by a
// double click, and a page re-rendered with an error puts the focus on it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // After a refused or invalid submit: the first field at fault, else the first alert.
  const invalid = document.querySelector("[aria-invalid='true']");
  const alert = document.querySelector("main [role='alert']");
  if (invalid instanceof HTMLElement) {
    invalid.focus();
  } else if (alert instanceof HTMLElement) {
    alert.setAttribute("tabindex", "-1");
    alert.focus();
  }
});

// A second click while a POST is on its way would send it again (two approvals' worth
// of audit records for one intent): ignore it, and say it is being sent. One listener
// on the document, not one per form at load, so a form live.js swaps in later (after
// "shipwise:updated") is guarded too: submit events bubble up to here.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") ?? "").toLowerCase() !== "post") {
    return;
  }
  if (form.dataset.sending === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "yes";
  for (const button of form.querySelectorAll("button[type='submit']")) {
    button.setAttribute("aria-disabled", "true");
  }
});
