// Live updates: a signed-in page opens /ws with its session cookie (the server authenticates
// the upgrade itself, then says "ready"), subscribes to its topics, and when someone changes
// what it shows, fetches the same URL again and swaps in the parts that changed. A part that
// the person is using (focus inside, or a form with unsent text) is left alone, and a notice
// offers to show the changes instead. Without this script, or WebSockets, pages work as they
// are: a reload shows everything.
(function () {
  "use strict";

  var socket = null;
  var retryDelay = 1000;
  var stopped = false;
  var position = 0;
  var pendingRefresh = false;
  // A refresh asked for while one is under way: done right after it, waiting for this position.
  var queued = null;

  function $(id) { return document.getElementById(id); }

  function topics() {
    var found = ["notifications"];
    var ticket = $("ticket");
    if (ticket) {
      found.push("ticket:" + ticket.dataset.ticketId);
      if ($("messages")) { found.push("messages"); }
    }
    return found;
  }

  function setUnread(count) {
    var badge = $("unread-count");
    if (!badge) { return; }
    badge.dataset.count = String(count);
    badge.firstChild.nodeValue = String(count);
    badge.hidden = count <= 0;
  }

  // A form the person has typed into and not sent: its text must not be replaced.
  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    if (form) { form.dataset.dirty = "1"; }
  });

  // A part holding the focus (a keyboard user would lose their place) or unsent text.
  function busy(part) {
    var active = document.activeElement;
    if (active && active !== document.body && part.contains(active)) { return true; }
    return Array.prototype.some.call(part.querySelectorAll("form"), function (form) {
      return form.dataset.dirty === "1";
    });
  }

  function showNotice(text) {
    var notice = $("live-notice");
    if (!notice) {
      notice = document.createElement("div");
      notice.id = "live-notice";
      notice.className = "live-banner";
      notice.setAttribute("role", "status");
      var words = document.createElement("p");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small primary";
      button.textContent = "Show the changes";
      button.addEventListener("click", function () { refresh(true, position); });
      notice.appendChild(words);
      notice.appendChild(button);
      var ticket = $("ticket");
      ticket.parentNode.insertBefore(notice, ticket);
    }
    notice.firstChild.textContent = text;
  }

  function clearNotice() {
    var notice = $("live-notice");
    if (notice) { notice.remove(); }
  }

  // Fetch this page again, once the server's read models show `upto` (a log position), and
  // swap in each part that differs (all of them when `forced`).
  function refresh(forced, upto) {
    var ticket = $("ticket");
    if (!ticket) { return; }
    var key = ticket.dataset.ticketKey;
    if (ticket.dataset.past === "true") {
      showNotice(key + " has changed since the moment you are looking at.");
      return;
    }
    if (pendingRefresh) {
      queued = { forced: forced || (queued && queued.forced), upto: Math.max(upto || 0, queued ? queued.upto : 0) };
      return;
    }
    pendingRefresh = true;
    var headers = upto ? { "Trail-Min-Position": String(upto) } : {};
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: headers })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        pendingRefresh = false;
        if (queued) {
          var again = queued;
          queued = null;
          refresh(again.forced, again.upto);
          return;
        }
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var next = fresh.getElementById("ticket");
        if (!next) { return; }
        var skipped = false;
        ticket.querySelectorAll("[data-live-part]").forEach(function (part) {
          var replacement = fresh.getElementById(part.id);
          if (!replacement || replacement.innerHTML === part.innerHTML) { return; }
          if (!forced && busy(part)) { skipped = true; return; }
          var adopted = document.importNode(replacement, true);
          part.replaceWith(adopted);
          adopted.classList.add("live-flash");
          if (window.Trail && window.Trail.enhance) { window.Trail.enhance(adopted); }
          if (window.htmx) { window.htmx.process(adopted); }
        });
        ["version", "latest", "position"].forEach(function (name) {
          ticket.dataset[name] = next.dataset[name];
        });
        var count = fresh.getElementById("unread-count");
        if (count) { setUnread(parseInt(count.dataset.count, 10) || 0); }
        if (skipped) {
          showNotice(key + " was changed. Some of it is not shown while you are typing.");
        } else {
          clearNotice();
          if (window.Trail) { window.Trail.announce(key + " was updated."); }
        }
      })
      .catch(function () { pendingRefresh = false; });
  }

  // The notifications page shows a new notification as it comes (its first page only: later
  // pages are older ones).
  function refreshInbox(upto) {
    var inbox = $("inbox");
    if (!inbox || /[?&]cursor=/.test(location.search)) { return; }
    fetch(location.pathname + location.search, {
      credentials: "same-origin", headers: { "Trail-Min-Position": String(upto) },
    })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        var doc = html && new DOMParser().parseFromString(html, "text/html");
        var fresh = doc && doc.getElementById("inbox");
        if (!fresh) { return; }
        // The count as the page has it: exact, whatever frames were replayed.
        var count = doc.getElementById("unread-count");
        if (count) { setUnread(parseInt(count.dataset.count, 10) || 0); }
        var adopted = document.importNode(fresh, true);
        inbox.replaceWith(adopted);
        if (window.Trail) {
          window.Trail.enhance(adopted);
          window.Trail.announce("New notification.");
        }
      })
      .catch(function () { return null; });
  }

  // A message is shown from its frame: it is all there, and needs no read model to catch up.
  function showMessage(message) {
    var list = $("messages");
    if (!list || document.getElementById("message-" + message.id)) { return; }
    if (list.tagName !== "OL") {
      var ol = document.createElement("ol");
      ol.className = "messages";
      ol.id = "messages";
      ol.setAttribute("data-live-part", "");
      list.replaceWith(ol);
      list = ol;
    }
    var item = document.createElement("li");
    item.id = "message-" + message.id;
    item.className = "message live-flash" + (message.author.id === document.body.dataset.user ? " mine" : "");
    var by = document.createElement("p");
    by.className = "message-by";
    var name = document.createElement("strong");
    name.textContent = message.author.name || "Unknown user";
    var at = document.createElement("time");
    at.setAttribute("datetime", message.created_at);
    at.setAttribute("data-local", "");
    at.className = "muted";
    at.textContent = message.created_at;
    by.appendChild(name);
    by.appendChild(document.createTextNode(" "));
    by.appendChild(at);
    var body = document.createElement("div");
    body.className = "prose message-text";
    body.textContent = message.body;
    item.appendChild(by);
    item.appendChild(body);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    if (window.Trail) {
      window.Trail.enhance(item);
      window.Trail.announce("New message from " + name.textContent);
    }
  }

  function onFrame(frame) {
    if (frame.type === "ready") {
      retryDelay = 1000;
      var request = { type: "subscribe", topics: topics() };
      if (position > 0) { request.after = position; }
      socket.send(JSON.stringify(request));
    } else if (frame.type === "subscribed") {
      if (!position) { position = frame.position; }
    } else if (frame.type === "event") {
      position = Math.max(position, frame.position);
      var ticket = $("ticket");
      if (ticket && frame.ticket_id === ticket.dataset.ticketId) { refresh(false, frame.position); }
    } else if (frame.type === "message") {
      var shown = $("ticket");
      if (shown && frame.message.ticket_id === shown.dataset.ticketId) { showMessage(frame.message); }
    } else if (frame.type === "notification") {
      position = Math.max(position, frame.notification.position);
      var badge = $("unread-count");
      if (badge) { setUnread((parseInt(badge.dataset.count, 10) || 0) + 1); }
      refreshInbox(frame.notification.position);
    }
  }

  function connect() {
    if (stopped) { return; }
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var ready = false;
    socket = new WebSocket(scheme + "//" + location.host + "/ws");
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame.type === "ready") { ready = true; }
      onFrame(frame);
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      // 4401 before "ready": the session is gone (signed out, expired); 4403: the account may
      // no longer follow this. Either way a reload shows the sign-in or the 404 page.
      if ((event.code === 4401 && !ready) || event.code === 4403) { stopped = true; return; }
      // A stream of a session lasts a while, then the page opens another: at once.
      var delay = event.code === 4401 ? 0 : retryDelay;
      retryDelay = Math.min(retryDelay * 2, 30000);
      setTimeout(connect, delay);
    });
  }

  window.Trail = window.Trail || {};
  window.Trail.live = function () {
    if (!document.body.dataset.user || !window.WebSocket || !window.fetch) { return; }
    // Pages that follow what comes say from where: what was recorded after they were read.
    var holder = $("ticket") || $("inbox");
    position = holder ? parseInt(holder.dataset.position, 10) || 0 : 0;
    connect();
  };
  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) { socket.close(1000); }
  });
})();
