// helpwire: the little JavaScript the pages use. Every page works without it; this makes
// the common moves quicker. No libraries, no inline handlers (the CSP forbids them).
"use strict";

(function () {
  // The few words the script writes itself, in the page's language: the layout puts them
  // on <body data-text-*> (base.html); English when a page has none.
  function text(name, fallback) {
    return (document.body && document.body.dataset[name]) || fallback;
  }

  function csrfToken() {
    var field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  // Markdown preview: a button with data-preview-for="<textarea id>" and
  // data-preview-into="<element id>" renders the text on the server (sanitized exactly as
  // a stored comment is) and shows the result.
  function setUpPreviews() {
    document.querySelectorAll("[data-preview-for]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var source = document.getElementById(button.dataset.previewFor);
        var target = document.getElementById(button.dataset.previewInto);
        if (!source || !target) return;
        var body = new URLSearchParams();
        body.set("body", source.value);
        body.set("csrf_token", csrfToken());
        target.hidden = false;
        target.textContent = text("textRendering", "Rendering…");
        fetch("/ui/preview", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (data) {
            // Sanitized on the server by the same rules as stored comments.
            if (data.html) {
              target.innerHTML = data.html;
            } else {
              var empty = document.createElement("p");
              empty.className = "muted";
              empty.textContent = text("textNothingToPreview", "Nothing to preview.");
              target.replaceChildren(empty);
            }
          })
          .catch(function () {
            target.textContent = text("textPreviewFailed", "The preview is not available.");
          });
      });
    });
  }

  // Drop zones: a .dropzone holding an <input type="file" multiple>. Files dropped on it
  // join the ones picked; the list under it names them all.
  function setUpDropzones() {
    document.querySelectorAll(".dropzone").forEach(function (zone) {
      var input = zone.querySelector('input[type="file"]');
      var list = zone.querySelector("[data-file-list]");
      if (!input) return;
      function showFiles() {
        if (!list) return;
        list.textContent = "";
        Array.prototype.forEach.call(input.files, function (file) {
          var item = document.createElement("li");
          item.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KiB)";
          list.appendChild(item);
        });
      }
      input.addEventListener("change", showFiles);
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dragging");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        var merged = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { merged.items.add(f); });
        Array.prototype.forEach.call(event.dataTransfer.files, function (f) { merged.items.add(f); });
        input.files = merged.files;
        showFiles();
      });
    });
  }

  // Live counts: an element with data-live-counts="<url>" is refreshed every 20 s from a
  // JSON object {name: count}; each [data-count="name"] inside the page shows its number.
  function setUpLiveCounts() {
    var holder = document.querySelector("[data-live-counts]");
    if (!holder) return;
    var url = holder.dataset.liveCounts;
    function refresh() {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (counts) {
          Object.keys(counts).forEach(function (name) {
            document.querySelectorAll('[data-count="' + name + '"]').forEach(function (el) {
              el.textContent = String(counts[name]);
            });
          });
        })
        .catch(function () { /* keep the numbers shown; try again later */ });
    }
    setInterval(refresh, 20000);
    document.addEventListener("visibilitychange", refresh);
  }

  // Keyboard shortcuts for agents, on every page of theirs: the layout's help box
  // (#shortcut-help) holds the links the keys follow, as the server lists them: "g x"
  // follows its link marked data-goto="x" (the queues); "/" focuses the page's element
  // marked data-shortcut="/" or, on a page without one, opens the list with its search box
  // focused (the link marked data-goto-search). Other elements name their key:
  // data-shortcut="r" focuses or clicks that element.
  var PENDING_G_MS = 1500;
  function setUpShortcuts() {
    var help = document.getElementById("shortcut-help");
    if (!help) return;
    var pendingG = null;  // the timer that forgets a "g" pressed alone
    var focusedBeforeHelp = null;
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
    var selected = -1;
    function select(index) {
      if (!rows.length) return;
      if (selected >= 0) rows[selected].classList.remove("selected");
      selected = Math.max(0, Math.min(rows.length - 1, index));
      rows[selected].classList.add("selected");
      rows[selected].scrollIntoView({ block: "nearest" });
    }
    function openHelp() {
      focusedBeforeHelp = document.activeElement;
      help.hidden = false;
      help.focus();
    }
    function closeHelp() {
      help.hidden = true;
      var back = focusedBeforeHelp;
      focusedBeforeHelp = null;
      if (back && back !== document.body && document.contains(back)) back.focus();
    }
    function follow(link) {
      if (link && link.href) window.location.assign(link.href);
    }
    function focusSearch() {
      var box = document.querySelector('[data-shortcut="/"]');
      if (box) { box.focus(); return; }
      follow(help.querySelector("[data-goto-search]"));
    }
    help.querySelectorAll("[data-close-help]").forEach(function (button) {
      button.addEventListener("click", closeHelp);
    });
    // Arriving from "/" on another page: the search box takes the cursor, and the address
    // loses the request so a reload or a shared link does not repeat it.
    var here = new URL(window.location.href);
    if (here.searchParams.get("focus") === "search") {
      var box = document.querySelector('[data-shortcut="/"]');
      if (box) box.focus();
      here.searchParams.delete("focus");
      window.history.replaceState(null, "", here.pathname + here.search + here.hash);
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
        target.tagName === "SELECT" || target.isContentEditable);
      if (event.key === "Escape") {
        if (!help.hidden) { event.preventDefault(); closeHelp(); return; }
        if (typing) target.blur();
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (pendingG !== null) {
        clearTimeout(pendingG);
        pendingG = null;
        var link = help.querySelector('[data-goto="' + CSS.escape(event.key) + '"]');
        if (link) { event.preventDefault(); follow(link); }
        return;
      }
      if (event.key === "g") {
        pendingG = setTimeout(function () { pendingG = null; }, PENDING_G_MS);
        return;
      }
      if (event.key === "?") {
        event.preventDefault();
        if (help.hidden) openHelp(); else closeHelp();
        return;
      }
      if (event.key === "/") { event.preventDefault(); focusSearch(); return; }
      if (event.key === "j") { select(selected + 1); return; }
      if (event.key === "k") { select(selected - 1); return; }
      if (event.key === "x" && selected >= 0) {
        var tick = rows[selected].querySelector('input[type="checkbox"][name="ticket"]');
        if (tick) { event.preventDefault(); tick.click(); }
        return;
      }
      if (event.key === "X") {
        var all = document.querySelector("[data-tick-all]");
        if (all) { event.preventDefault(); all.click(); }
        return;
      }
      if (event.key === "Enter" && selected >= 0) {
        var a = rows[selected].querySelector("a");
        if (a) { event.preventDefault(); a.click(); }
        return;
      }
      var el = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
      if (el) {
        event.preventDefault();
        if (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT") {
          el.focus();
        } else {
          el.click();
        }
      }
    });
  }

  // A subtopic select marked data-follows="<topic select id>" offers only the subtopics
  // (optgroups with data-topic) of the topic chosen. Without script all are offered and
  // the server refuses a subtopic of another topic with a clear message.
  function setUpSubtopics() {
    document.querySelectorAll("select[data-follows]").forEach(function (subtopics) {
      var topic = document.getElementById(subtopics.dataset.follows);
      if (!topic) return;
      function follow() {
        subtopics.querySelectorAll("optgroup[data-topic]").forEach(function (group) {
          var other = group.dataset.topic !== topic.value;
          group.hidden = other;
          group.disabled = other;
        });
        var chosen = subtopics.selectedOptions[0];
        if (chosen && chosen.parentElement.disabled) subtopics.value = "";
      }
      topic.addEventListener("change", follow);
      follow();
    });
  }

  function setUpBackLinks() {
    document.querySelectorAll("[data-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
      });
    });
  }

  // Selects that submit their form when changed (filters), for forms marked data-autosubmit.
  function setUpAutoSubmit() {
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // An agent's reply box: form[data-compose] with submit buttons name="internal" value
  // 0 (reply) and 1 (internal note). Buttons data-compose-mode="reply|note" (the r and n
  // shortcuts) pick the mode: the form shows it, the cursor goes to the text, and
  // Ctrl+Enter sends it that way. Without this script both submit buttons still work.
  function setUpCompose() {
    document.querySelectorAll("form[data-compose]").forEach(function (form) {
      var text = form.querySelector("textarea");
      var modes = form.querySelectorAll("[data-compose-mode]");
      function pick(mode) {
        form.classList.toggle("note-mode", mode === "note");
        modes.forEach(function (b) {
          b.setAttribute("aria-pressed", String(b.dataset.composeMode === mode));
        });
        if (text) text.focus();
      }
      modes.forEach(function (button) {
        button.addEventListener("click", function () { pick(button.dataset.composeMode); });
      });
      if (modes.length && modes[0].parentElement) modes[0].parentElement.hidden = false;
      if (!text) return;
      text.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
        event.preventDefault();
        // Ctrl+Shift+Enter sends the reply as pending, Ctrl+Alt+Enter as solved.
        var sendAs = event.shiftKey ? "pending" : event.altKey ? "solved" : null;
        var button = sendAs
          ? form.querySelector('button[data-send-as="' + sendAs + '"]')
          : form.querySelector('button[name="internal"][value="' +
              (form.classList.contains("note-mode") ? "1" : "0") + '"]');
        if (button) form.requestSubmit(button);
      });
    });
  }

  // Bulk work on a list: the rows' checkboxes (form="bulk-form") are ticked one by one, or
  // all of the page's by the header's box, which only this script shows; the form's title
  // says how many are ticked. Without the script each box still posts its ticket.
  function setUpBulk() {
    var form = document.querySelector("form[data-bulk]");
    if (!form) return;
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="ticket"]'));
    var all = document.querySelector("[data-tick-all]");
    var count = form.querySelector("[data-bulk-count]");
    function show() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      if (count) count.textContent = ticked ? "(" + ticked + " " + text("ticked", "ticked") + ")" : "";
      if (all) {
        all.checked = ticked > 0 && ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      }
      boxes.forEach(function (box) {
        var row = box.closest("tr");
        if (row) row.classList.toggle("ticked", box.checked);
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", show); });
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        show();
      });
    }
    show();
  }

  // Presence on a console ticket page: ul[data-presence="<url>"] beats a heartbeat every
  // data-presence-every milliseconds (at once when the agent starts or clears a draft),
  // saying "replying" while the reply box holds text and "viewing" otherwise. The answer
  // lists who else is on the page, each with the sentence to show; and when someone else
  // wrote a comment newer than the one the reply form carries (input[data-seen-comment]),
  // [data-meanwhile-live] says so before anything is sent. The server checks the same at
  // submit, so this is a courtesy, not the guard.
  function setUpPresence() {
    var list = document.querySelector("[data-presence]");
    if (!list) return;
    var url = list.dataset.presence;
    var every = parseInt(list.dataset.presenceEvery, 10) || 5000;
    var text = document.getElementById("comment-body");
    var seen = document.querySelector("[data-seen-comment]");
    var live = document.querySelector("[data-meanwhile-live]");
    var sent = null;
    var timer = null;
    function state() {
      return text && text.value.trim() ? "replying" : "viewing";
    }
    function show(data) {
      list.textContent = "";
      data.present.forEach(function (person) {
        var item = document.createElement("li");
        item.className = "presence-" + person.state;
        item.dataset.username = person.username;
        item.textContent = person.text;
        list.appendChild(item);
      });
      list.hidden = data.present.length === 0;
      var newest = data.newest_comment;
      if (live && seen && newest && !newest.mine && newest.id > parseInt(seen.value, 10)) {
        live.textContent = newest.text;
        live.hidden = false;
      }
    }
    function beat() {
      sent = state();
      var body = new URLSearchParams();
      body.set("state", sent);
      body.set("csrf_token", csrfToken());
      fetch(url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(show)
        .catch(function () { /* the next beat tries again */ });
    }
    function beatAndSchedule() {
      clearTimeout(timer);
      beat();
      timer = setTimeout(beatAndSchedule, every);
    }
    if (text) {
      text.addEventListener("input", function () {
        if (state() !== sent) beatAndSchedule();
      });
    }
    window.addEventListener("pagehide", function () {
      var body = new FormData();
      body.set("csrf_token", csrfToken());
      navigator.sendBeacon(url + "/leave", body);
    });
    beatAndSchedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpBulk();
    setUpPreviews();
    setUpDropzones();
    setUpLiveCounts();
    setUpShortcuts();
    setUpBackLinks();
    setUpAutoSubmit();
    setUpSubtopics();
    setUpCompose();
    setUpPresence();
  });
})();
