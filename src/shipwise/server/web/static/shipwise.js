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

  // A second click while a POST is on its way would send it again (two approvals'
  // worth of audit records for one intent): ignore it, and say it is being sent.
  for (const form of document.querySelectorAll("form[method='post']")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending === "yes") {
        event.preventDefault();
        return;
      }
      form.dataset.sending = "yes";
      for (const button of form.querySelectorAll("button[type='submit']")) {
        button.setAttribute("aria-disabled", "true");
      }
    });
  }
});
