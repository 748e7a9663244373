// Progressive enhancement only: every page works without it. Moves focus to the error summary, as the
// GOV.UK pattern does, so that a screen reader announces the problems first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
